"""What administrators do outside the HTTP API: the dashboard's funnel as counted from the
audit log, the console administrator ``minilogin dev`` seeds, and the ``minilogin admin …``
commands (thin wrappers over the same flows, run as an operator runs them)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from minilogin.admin import Actor, access
from minilogin.admin.activity import funnel
from minilogin.cli import cli
from minilogin.config import Settings
from minilogin.core.entities import AuditEvent
from minilogin.seed import DEV_ADMIN, DEV_ADMIN_PASSWORD_FILE, seed_admin
from minilogin.storage.crypto import verify_password
from minilogin.wiring import Services

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)  # 09:00 in China


def event(action: str, login: str | None, minutes: float = 0, **detail: object) -> AuditEvent:
    if login is not None:
        detail["qrlogin"] = login
    return AuditEvent(
        pool_id="pool_1",
        action=action,
        detail=detail,
        created_at=T0 + timedelta(minutes=minutes),
    )


def created(
    login: str, minutes: float = 0, connection: str = "wx", life: float = 120
) -> AuditEvent:
    expires_at = (T0 + timedelta(minutes=minutes)).timestamp() + life
    return event("qrlogin.created", login, minutes, connection=connection, expires_at=expires_at)


def test_each_code_is_counted_once_by_how_far_it_got() -> None:
    events = [
        created("a"),
        event("qrlogin.scanned", "a", 0.2),
        event("login.authorized", "a", 0.3),
        event("token.issued", "a", 0.4),
        created("b"),
        event("qrlogin.scanned", "b", 0.2),
        event("login.cancelled", "b", 0.3, by="phone"),
        created("c"),
        event("login.cancelled", "c", 0.1, by="browser"),
        created("d"),
        created("e"),
        event("qrlogin.scanned", "e", 0.5),
        event("login.needs_binding", "e", 0.6),
        created("f"),
        event("qrlogin.scanned", "f", 0.2),
        event("login.refused", "f", 0.3, reason="account_not_found"),
        created("g"),
        # A binding that ended in a token without a login.authorized naming the QR login.
        event("token.issued", "g", 1),
        # Events that are not about a QR login, or about one created before the window.
        event("token.issued", None, 1, grant_type="refresh_token"),
        event("login.authorized", "older", 1),
    ]
    later = (T0 + timedelta(minutes=10)).timestamp()
    counts = funnel(reversed(events), later, T0.astimezone(CST).date(), 1, CST)
    assert counts == {
        "wx": {
            date(2026, 3, 1): {
                "shown": 7,
                "scanned": 5,
                "authorized": 2,
                "consumed": 2,
                "cancelled": 3,
                "expired": 2,
            }
        }
    }
    still_on_screen = funnel(events, T0.timestamp() + 60, date(2026, 3, 1), 1, CST)
    assert still_on_screen["wx"][date(2026, 3, 1)]["expired"] == 0


def test_codes_count_on_the_day_they_were_shown_in_the_time_zone_asked() -> None:
    # 23:30 and 00:30 in China are 15:30 and 16:30 UTC of the same day.
    late = created("late", minutes=14 * 60 + 30, connection="wx")
    early = created("early", minutes=15 * 60 + 30, connection="wx")
    china = funnel([late, early], T0.timestamp(), date(2026, 3, 1), 2, CST)
    assert {day: row["shown"] for day, row in china["wx"].items()} == {
        date(2026, 3, 1): 1,
        date(2026, 3, 2): 1,
    }
    utc = funnel([late, early], T0.timestamp(), date(2026, 3, 1), 2, UTC)
    assert {day: row["shown"] for day, row in utc["wx"].items()} == {date(2026, 3, 1): 2}
    second_day_only = funnel([late, early], T0.timestamp(), date(2026, 3, 2), 1, CST)
    assert {day: row["shown"] for day, row in second_day_only["wx"].items()} == {
        date(2026, 3, 2): 1
    }


def test_sources_are_counted_apart() -> None:
    counts = funnel(
        [created("a", connection="one"), created("b", connection="two")],
        T0.timestamp(),
        date(2026, 3, 1),
        1,
        CST,
    )
    assert set(counts) == {"one", "two"}


# the console's first administrator


async def test_dev_seeds_one_administrator_and_prints_its_password_while_it_holds(
    services: Services, settings: Settings
) -> None:
    password = await seed_admin(services.durable, settings)
    assert password is not None
    admin = await services.durable.find_admin(DEV_ADMIN)
    assert admin is not None
    assert verify_password(admin.password_hash, password)
    kept = settings.data_dir / DEV_ADMIN_PASSWORD_FILE
    assert kept.stat().st_mode & 0o777 == 0o600
    assert await seed_admin(services.durable, settings) == password

    await access.set_admin_password(services, Actor("cli:test"), DEV_ADMIN, "a new passphrase")
    assert await seed_admin(services.durable, settings) is None


# minilogin admin …


@pytest.fixture
def operator(tmp_path: Path) -> dict[str, str]:
    """The environment of an operator's shell: the data folder, English messages."""
    return {"MINILOGIN_DATA_DIR": str(tmp_path), "LANG": "en_US.UTF-8", "USER": "ops"}


def run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(cli, ["admin", *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_admin_commands_set_up_a_pool_end_to_end(operator: dict[str, str]) -> None:
    pool = json.loads(run(operator, "create-pool", "acme", "Acme"))
    assert pool["issuer"] == "http://127.0.0.1:8000/pools/acme"
    app = json.loads(
        run(
            operator,
            "create-app",
            "acme",
            "Shop",
            "--type",
            "web",
            "--redirect-uri",
            "https://shop.example/cb",
            "--web-origin",
            "https://shop.example",
        )
    )
    assert app["type"] == "web"
    assert len(app["client_secret"]) >= 40
    source = json.loads(
        run(
            {**operator, "MINILOGIN_SOURCE_APP_SECRET": "from-the-environment"},
            "create-source",
            "acme",
            "acme-wechat",
            "Acme 扫码",
            "--private",
            "--app-id",
            "wx_acme",
            "--login-mode",
            "login_only",
            "--qr-expires-in",
            "90",
            # The sandbox is served by a server that doesn't run in this test.
            "--no-test",
        )
    )
    assert (source["app_id"], source["app_secret_set"], source["qr_expires_in"]) == (
        "wx_acme",
        True,
        90,
    )
    assert "from-the-environment" not in json.dumps(source)
    assert run(operator, "enable-source", "acme", app["client_id"], "acme-wechat").strip() == (
        f"acme-wechat on for {app['client_id']}"
    )
    run(operator, "create-admin", "boss", "--password", "correct horse battery")
    token = run(operator, "token", "--admin", "boss", "--description", "deploy").strip()
    assert token.startswith("mla_")
    run(operator, "set-password", "boss", "--password", "another good one")


def test_a_refused_admin_command_says_why_and_fails(operator: dict[str, str]) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["admin", "create-pool", "Acme_Corp", "Acme"], env=operator)
    assert result.exit_code == 1
    assert "invalid_slug" in result.output
    assert "lowercase letters" in result.output
    chinese = runner.invoke(
        cli, ["admin", "enable-source", "nope", "x", "y"], env={**operator, "LANG": "zh_CN.UTF-8"}
    )
    assert chinese.exit_code == 1
    assert "用户池不存在" in chinese.output
    short = runner.invoke(
        cli, ["admin", "create-admin", "boss", "--password", "short"], env=operator
    )
    assert short.exit_code == 1
    assert "invalid_password" in short.output
    unknown = runner.invoke(cli, ["admin", "token", "--admin", "nobody"], env=operator)
    assert unknown.exit_code == 1
    assert "unknown_admin" in unknown.output


def test_creating_a_private_source_tests_it_against_wechat_first(
    operator: dict[str, str],
) -> None:
    """Here WeChat is the sandbox of a server that is not running: the test can't pass, so
    nothing is created."""
    run(operator, "create-pool", "acme", "Acme")
    args = ["admin", "create-source", "acme", "own", "Own", "--private", "--app-id", "wx_own"]
    env = {**operator, "MINILOGIN_SOURCE_APP_SECRET": "s"}
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 1
    assert "wechat_unreachable" in result.output
    assert CliRunner().invoke(cli, [*args, "--no-test"], env=env).exit_code == 0
