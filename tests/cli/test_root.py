"""``minilogin`` itself: its version and its help text (issue 18)."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest
import typer

from minilogin.cli import cli
from tests.support.cli import run_minilogin

pytestmark = pytest.mark.slow


def test_version_is_the_installed_package_version(tmp_path: Path) -> None:
    done = run_minilogin("--version", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"minilogin {importlib.metadata.version('minilogin')}"


def test_help_renders_without_rest_markup(tmp_path: Path) -> None:
    """Every command's help, and every option's, reads as plain text: no reST literals."""
    for args in ((), ("admin",), ("serve",)):
        done = run_minilogin(*args, "--help", data_dir=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "``" not in done.stdout
        assert "Usage: minilogin" in done.stdout
    root = typer.main.get_command(cli)
    texts = []
    for name, command in getattr(root, "commands", {}).items():
        for sub in [command, *getattr(command, "commands", {}).values()]:
            texts.append((name, sub.help or ""))
            texts += [(name, getattr(param, "help", None) or "") for param in sub.params]
    assert len(texts) > 40
    for name, text in texts:
        assert "``" not in text, (name, text)
        assert not re.search(r":(param|class|func|meth):", text), (name, text)
