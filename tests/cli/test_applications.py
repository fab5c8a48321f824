"""``minilogin admin`` for applications and identity sources (issue 18)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.cli import admin_json, run_minilogin

pytestmark = pytest.mark.slow


def test_admin_lists_shows_updates_and_deletes_applications(acme: Path) -> None:
    created = run_minilogin(
        "admin", "create-app", "acme", "Shop", "--type", "web",
        "--redirect-uri", "https://shop.example/cb", data_dir=acme,
    )  # fmt: skip
    client_id = json.loads(created.stdout)["client_id"]
    listed = admin_json("list-apps", "acme", data_dir=acme)
    assert [app["client_id"] for app in listed] == [client_id]
    changed = admin_json(
        "update-app", "acme", client_id, "--name", "Store",
        "--redirect-uri", "https://a.example/cb", "--redirect-uri", "https://b.example/cb",
        data_dir=acme,
    )  # fmt: skip
    assert changed["name"] == "Store"
    assert changed["redirect_uris"] == ["https://a.example/cb", "https://b.example/cb"]
    shown = admin_json("show-app", "acme", client_id, data_dir=acme)
    assert shown == changed
    assert "client_secret" not in shown
    refused = run_minilogin(
        "admin", "update-app", "acme", client_id, "--redirect-uri", "not a url", data_dir=acme
    )
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: invalid_redirect_uri")
    deleted = run_minilogin("admin", "delete-app", "acme", client_id, "--yes", data_dir=acme)
    assert deleted.stdout == f"deleted application {client_id}\n"
    assert admin_json("list-apps", "acme", data_dir=acme) == []


def test_admin_lists_shows_updates_and_deletes_identity_sources(acme: Path) -> None:
    app_secret = "0123456789abcdef0123456789abcdef"
    run_minilogin(
        "admin", "create-source", "acme", "wechat", "Scan", "--private",
        "--app-id", "wx1234567890abcdef", "--no-test", data_dir=acme,
        MINILOGIN_SOURCE_APP_SECRET=app_secret,
    )  # fmt: skip
    sources = admin_json("list-sources", "acme", data_dir=acme)
    assert [source["unique_id"] for source in sources] == ["wechat"]
    updated = admin_json(
        "update-source", "acme", "wechat", "--display-name", "扫码登录", "--qr-expires-in", "60",
        data_dir=acme,
    )  # fmt: skip
    assert (updated["display_name"], updated["qr_expires_in"]) == ("扫码登录", 60)
    assert updated["app_secret_set"] is True
    shown = run_minilogin("admin", "show-source", "acme", "wechat", data_dir=acme).stdout
    assert app_secret not in shown
    assert re.search(r"^display_name\s+扫码登录$", shown, re.MULTILINE), shown
    too_short = run_minilogin(
        "admin", "update-source", "acme", "wechat", "--qr-expires-in", "5", data_dir=acme
    )
    assert too_short.returncode == 1
    assert too_short.stderr.startswith("error: ")
    deleted = run_minilogin("admin", "delete-source", "acme", "wechat", "--yes", data_dir=acme)
    assert deleted.stdout == "deleted identity source wechat\n"
    gone = run_minilogin("admin", "show-source", "acme", "wechat", data_dir=acme)
    assert gone.returncode == 1
    assert gone.stderr.startswith("error: unknown_connection")
