"""``minilogin admin`` for pools: list, show, update, delete (issue 18), and rotate-keys
(issue 13)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.cli import admin_json, run_minilogin

pytestmark = pytest.mark.slow


def test_admin_lists_shows_and_updates_pools(acme: Path) -> None:
    assert [pool["slug"] for pool in admin_json("list-pools", data_dir=acme)] == ["acme"]
    listed = run_minilogin("admin", "list-pools", data_dir=acme)
    assert listed.stdout.splitlines()[0].split("\t")[:2] == ["acme", "Acme"]
    renamed = admin_json("update-pool", "acme", "--name", "Acme Corp", data_dir=acme)
    assert renamed["name"] == "Acme Corp"
    shown = run_minilogin("admin", "show-pool", "acme", data_dir=acme).stdout
    assert re.search(r"^name\s+Acme Corp$", shown, re.MULTILINE), shown


def test_admin_deletes_a_pool_after_asking(acme: Path) -> None:
    assert run_minilogin("admin", "create-pool", "doomed", "Doomed", data_dir=acme).returncode == 0
    kept = run_minilogin("admin", "delete-pool", "doomed", data_dir=acme, stdin="n\n")
    assert kept.returncode == 1
    deleted = run_minilogin("admin", "delete-pool", "doomed", data_dir=acme, stdin="y\n")
    assert deleted.returncode == 0
    assert deleted.stdout.endswith("deleted pool doomed\n")
    gone = run_minilogin("admin", "show-pool", "doomed", data_dir=acme)
    assert gone.returncode == 1
    assert gone.stderr.startswith("error: unknown_pool")
