"""``make demo`` needs only Python 3.11 (the README's promise): it must install the service
alone, not the test extra, whose followthemoney pulls in PyICU — published only as source,
so building it needs ICU headers, pkg-config and a C++ compiler. ``make test`` installs
the test extra. Checked with make's own dry run (``-n``) against a venv that does not
exist yet, i.e. what a fresh clone would run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _dry_run(target: str, tmp_path: Path) -> list[str]:
    if shutil.which("make") is None:
        pytest.fail("make is not installed; the README's quick start needs it")
    result = subprocess.run(
        ["make", "-n", target, f"VENV={tmp_path / 'fresh-venv'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )
    return [line for line in result.stdout.splitlines() if "pip install" in line]


def test_make_demo_installs_the_service_without_the_test_extra(tmp_path: Path) -> None:
    installs = _dry_run("demo", tmp_path)
    assert any(line.rstrip().endswith("-e .") for line in installs), installs
    assert not any("[" in line for line in installs), installs  # no extra at all


def test_make_test_installs_the_test_extra(tmp_path: Path) -> None:
    installs = _dry_run("test", tmp_path)
    assert any("-e '.[test]'" in line for line in installs), installs
