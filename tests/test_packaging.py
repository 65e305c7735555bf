"""Every distribution the packages import at run time is declared in pyproject.toml.

An import that works only because some declared package happens to pull in another one
(``graphql`` arrives with strawberry today) breaks the day that package changes its own
requirements, so each third-party module our code imports must map to a distribution
named in ``dependencies`` or in an extra.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OWN = {"schema", "loaders", "graph_service"}


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    return {_canonical(re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0]) for r in requirements}


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imported_modules() -> dict[str, str]:
    """Top-level module -> the first file that imports it, over all our packages."""
    found: dict[str, str] = {}
    for package in sorted(OWN):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def test_every_third_party_import_is_a_declared_dependency() -> None:
    declared = _declared()
    owners = packages_distributions()
    undeclared = []
    for module, where in sorted(_imported_modules().items()):
        if module in OWN or module in sys.stdlib_module_names or module == "__future__":
            continue
        dists = {_canonical(d) for d in owners.get(module, [])}
        assert dists, f"{module} (imported in {where}) is not installed from any distribution"
        if not dists & declared:
            undeclared.append(f"{module} ({where}; from {', '.join(sorted(dists))})")
    assert not undeclared, "imported but not declared in pyproject.toml: " + "; ".join(undeclared)
