"""``minilogin admin`` for administrators and API tokens (issue 18)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import admin_json, run_minilogin

pytestmark = pytest.mark.slow


def test_admin_lists_shows_and_deletes_administrators_and_tokens(acme: Path) -> None:
    password = {"MINILOGIN_NEW_ADMIN_PASSWORD": "correct horse battery"}
    assert run_minilogin("admin", "create-admin", "boss", data_dir=acme, **password).returncode == 0
    assert [admin["username"] for admin in admin_json("list-admins", data_dir=acme)] == ["boss"]
    assert admin_json("show-admin", "boss", data_dir=acme).keys() == {"username", "created_at"}
    token = run_minilogin("admin", "token", "--admin", "boss", data_dir=acme).stdout.strip()
    tokens = admin_json("list-tokens", data_dir=acme)
    assert [(entry["admin"], entry["description"]) for entry in tokens] == [("boss", None)]
    assert token not in json.dumps(tokens)
    token_id = tokens[0]["id"]
    described = admin_json("update-token", token_id, "--description", "deploy", data_dir=acme)
    assert (described["id"], described["description"]) == (token_id, "deploy")
    assert admin_json("show-token", token_id, data_dir=acme) == described

    # Deleting asks first, unless --yes.
    kept = run_minilogin("admin", "delete-token", token_id, data_dir=acme, stdin="n\n")
    assert kept.returncode == 1
    assert run_minilogin("admin", "delete-token", token_id, "--yes", data_dir=acme).returncode == 0
    assert admin_json("list-tokens", data_dir=acme) == []
    missing = run_minilogin("admin", "delete-token", token_id, "--yes", data_dir=acme)
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: unknown_api_token")
    deleted = run_minilogin("admin", "delete-admin", "boss", "--yes", data_dir=acme)
    assert deleted.stdout == "deleted administrator boss\n"
    assert admin_json("list-admins", data_dir=acme) == []
