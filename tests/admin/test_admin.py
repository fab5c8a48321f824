"""What administrators do outside the HTTP API: the console administrator ``minilogin dev``
seeds, and the ``minilogin admin …`` commands (thin wrappers over the same use cases, run as
an operator runs them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from minilogin.admin import Actor, access
from minilogin.cli import cli
from minilogin.config import Settings
from minilogin.seed import DEV_ADMIN, DEV_ADMIN_PASSWORD_FILE, seed_admin
from minilogin.storage.crypto import verify_password
from minilogin.web.admin_ports import access_ports
from minilogin.wiring import Services

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

    await access.set_admin_password(
        access_ports(services), Actor("cli:test"), DEV_ADMIN, "a new passphrase"
    )
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
