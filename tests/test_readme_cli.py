"""The README documents every command and every option of the command line (a new option
without a word in the README fails here), and its command examples name real files."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from graph_service.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_and_option_is_in_the_readme(name: str) -> None:
    assert f"pressure-graph {name}" in README
    command = main.commands[name]
    missing = [
        opt
        for param in command.params
        if isinstance(param, click.Option)
        for opt in (*param.opts, *param.secondary_opts)
        if opt.startswith("--") and opt != "--help" and not re.search(
            re.escape(opt) + r"(?![\w-])", README
        )
    ]
    assert not missing, f"pressure-graph {name}: options the README never mentions: {missing}"


def test_the_readme_mapping_examples_name_shipped_files() -> None:
    commands = [
        line.strip()
        for line in README.splitlines()
        if line.strip().startswith("pressure-graph load") and "--mapping" in line
    ]
    assert len(commands) == 2
    for command in commands:
        for word in shlex.split(command)[2:]:
            if not word.startswith("--"):
                assert (ROOT / word).is_file(), word
