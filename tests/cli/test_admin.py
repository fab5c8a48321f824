"""``minilogin admin`` for pools: list, show, update, delete (issue 18), and rotate-keys
(issue 13)."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cli import admin_json, run_minilogin
from tests.support.logins import kid_of, tokens_of_a_login
from tests.support.server import minilogin_dev
from tests.support.tokens import verified_claims

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


# ---- rotate-keys, run against a running server's database (issue 13) ----------------------

CACHE_TTL = 1.0
#: The shortest token lifetime an application may have.
LIFETIME = 60


def kids(jwks: dict[str, Any]) -> set[str]:
    return {key["kid"] for key in jwks["keys"]}


async def test_rotate_keys_overlaps_then_retires_the_old_keys(tmp_path: Path) -> None:
    env = {"MINILOGIN_CONFIG_CACHE_TTL": str(CACHE_TTL), "MINILOGIN_RATE_LIMIT_SCALE": "0"}
    with minilogin_dev(tmp_path, **env) as server:
        # The CLI is another process on the server's database, as an operator runs it.
        admin_json(
            "update-app", "demo", "demo",
            "--id-token-lifetime", str(LIFETIME), "--access-token-lifetime", str(LIFETIME),
            data_dir=tmp_path, **env,
        )  # fmt: skip
        issuer, jwks_url = server.issuer(), f"{server.issuer()}/oidc/jwks"
        async with httpx.AsyncClient(timeout=30) as web:
            await asyncio.sleep(CACHE_TTL + 0.5)  # the lifetimes reach the server
            before = await tokens_of_a_login(web, server.public, issuer, "before")
            old_kid = kid_of(before["id_token"])
            assert old_kid in kids((await web.get(jwks_url)).json())

            started = datetime.now(UTC).replace(microsecond=0)
            rotated = admin_json("rotate-keys", "demo", data_dir=tmp_path, **env)
            new_kids = set(rotated["kids"].values())
            assert old_kid not in new_kids
            retire_at = datetime.fromisoformat(rotated["previous_keys_retire_at"])
            assert retire_at >= started + timedelta(seconds=LIFETIME)

            # The server never restarts: it signs with the new key once its cache reads it.
            await asyncio.sleep(CACHE_TTL + 0.5)
            after = await tokens_of_a_login(web, server.public, issuer, "after")
            assert kid_of(after["id_token"]) in new_kids
            assert kid_of(after["access_token"]) in new_kids
            jwks = (await web.get(jwks_url)).json()
            assert {old_kid} | new_kids <= kids(jwks)
            # Tokens issued before still verify, for a relying party and for the server.
            verified_claims(before["id_token"], jwks)
            bearer = {"Authorization": f"Bearer {before['access_token']}"}
            assert (await web.get(f"{issuer}/oidc/userinfo", headers=bearer)).status_code == 200

            # After the overlap the old key has left the key set.
            wait = (retire_at - datetime.now(UTC)).total_seconds() + CACHE_TTL + 0.5
            await asyncio.sleep(max(wait, 0))
            jwks = (await web.get(jwks_url)).json()
            assert old_kid not in kids(jwks)
            assert new_kids <= kids(jwks)
            verified_claims(after["id_token"], jwks)
        assert "500 Internal Server Error" not in server.log.read_text()


def test_rotate_keys_of_an_unknown_pool_says_so(acme: Path) -> None:
    done = run_minilogin("admin", "rotate-keys", "nowhere", data_dir=acme)
    assert done.returncode == 1
    assert done.stderr.startswith("error: unknown_pool")
