"""Running minilogin: ``migrate``, ``dev``, ``serve``, ``sandbox``, and ``sdk``, which prints
the SDK's pinned script tag."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated, Any

import typer
import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from minilogin.cli.root import cli, print_json
from minilogin.config import SANDBOX_API_PATH, SANDBOX_PHONE_PATH, Settings
from minilogin.logs import log_config
from minilogin.observability.logs import log_config as observed_log_config
from minilogin.observability.metrics import prepare_multiprocess
from minilogin.seed import DEMO_POOL, DEV_ADMIN, seed_admin
from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql import SqlStores
from minilogin.storage.sql.migrate import upgrade
from minilogin.web import sdk_assets

GRACEFUL_SHUTDOWN_SECONDS = 5


def _listening_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - a display name
    return f"http://{shown}:{port}"


def _settings_for(host: str, port: int) -> Settings:
    if "MINILOGIN_PUBLIC_URL" in os.environ:
        return Settings()
    return Settings(public_url=_listening_url(host, port))


def observed(settings: Settings, log_level: str) -> dict[str, Any]:
    """uvicorn's logging: ours, in the settings' format, with uvicorn's access log (which
    writes query strings, secrets included) replaced by ``minilogin.request``."""
    return _logging_and_proxies(settings) | {
        "log_config": observed_log_config(settings.log_format, log_level),
        "access_log": False,
    }


def migrate_database(settings: Settings) -> None:
    """Bring the database to the current schema, or stop with one line saying why not."""
    try:
        upgrade(settings.database_url)
    except (OSError, SQLAlchemyError) as exc:
        typer.echo(f"minilogin: cannot migrate {settings.database_url}: {exc}", err=True)
        raise typer.Exit(1) from exc


@cli.command()
def migrate() -> None:
    """Apply the database migrations."""
    settings = Settings()
    migrate_database(settings)
    typer.echo(f"migrated {settings.database_url}")


@cli.command()
def dev(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
) -> None:
    """Migrate, seed the demo and serve it, with a WeChat sandbox of its own on the same
    origin, unless MINILOGIN_WECHAT_API_URL names the WeChat (or the sandbox) to use."""
    # The web applications are imported by the commands that serve them, not at the top: every
    # `minilogin admin …` command, which shares this package, then starts in less CPU.
    from minilogin.app import create_app
    from minilogin.sandbox.app import create_sandbox_app

    settings = _settings_for(host, port)
    own_sandbox = None
    if "MINILOGIN_WECHAT_API_URL" not in os.environ:
        # Reached over HTTP at its public address like any other WeChat; its codes open its
        # phone simulator there too.
        own_sandbox = create_sandbox_app(settings.public_url)
        settings = settings.against_sandbox(settings.public_url + SANDBOX_API_PATH)
    elif settings.uses_wechat_sandbox:
        settings = settings.against_sandbox(settings.wechat_api_url)
    migrate_database(settings)
    public = settings.public_url
    wechat = "sandbox" if settings.uses_wechat_sandbox else "live"
    typer.echo(f"minilogin dev · WeChat {wechat} · {settings.database_url}")
    typer.echo(f"  demo:            {public}/demo/")
    typer.echo(f"  issuer:          {settings.issuer(DEMO_POOL)}  (client_id demo)")
    typer.echo(f"  API docs:        {public}/docs")
    password = asyncio.run(_seed_admin(settings))
    if password is not None:
        typer.echo(f"  console:         {public}/console/  (user {DEV_ADMIN}, password {password})")
    else:
        typer.echo(
            f"  console:         {public}/console/  (user {DEV_ADMIN}; its password was changed: "
            f"minilogin admin set-password {DEV_ADMIN})"
        )
    if settings.sandbox_phone_url is not None:
        typer.echo(
            f"  phone simulator: {settings.sandbox_phone_url}  (or scan the code on the demo page)"
        )
    uvicorn.run(
        create_app(settings, seed=True, sandbox=own_sandbox),
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        **observed(settings, log_level),
    )


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes; more than one needs Redis.")
    ] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
) -> None:
    """Serve in production: migrate the database, then serve, with no demo and no sandbox.

    Every setting comes from MINILOGIN_* variables: MINILOGIN_WECHAT_APP_ID and
    MINILOGIN_WECHAT_APP_SECRET are required; MINILOGIN_PUBLIC_URL is the address browsers use;
    MINILOGIN_DATABASE_URL, and MINILOGIN_REDIS_URL for several workers or instances."""
    settings = _settings_for(host, port)
    if not (settings.wechat_app_id and settings.wechat_app_secret):
        # Without them there is no WeChat to log in with; never fall back to a sandbox, whose
        # phone codes anyone can mint for anyone's number.
        typer.echo(
            "minilogin serve: set MINILOGIN_WECHAT_APP_ID and MINILOGIN_WECHAT_APP_SECRET "
            "(the platform mini program's AppID and AppSecret)",
            err=True,
        )
        raise typer.Exit(1)
    if workers > 1 and not settings.redis_url:
        # Each worker is a process: without Redis, each would hold its own QR logins.
        raise typer.BadParameter(
            "several workers share QR logins only through Redis: set MINILOGIN_REDIS_URL",
            param_hint="--workers",
        )
    migrate_database(settings)
    # Workers read their settings from the environment; resolve what they must agree on
    # here, once: the public URL, and the key sealing secrets (made now if it is missing,
    # so that two workers never make two).
    os.environ["MINILOGIN_PUBLIC_URL"] = settings.public_url
    settings.resolved_secret_key()
    ephemeral = "Redis" if settings.redis_url else "memory"
    typer.echo(
        f"minilogin serve · {workers} worker(s) · WeChat at {settings.wechat_api_url} · "
        f"{make_url(settings.database_url).render_as_string(hide_password=True)} · {ephemeral}"
    )
    typer.echo(f"  public URL: {settings.public_url}")
    if settings.uses_wechat_sandbox:
        typer.echo(
            f"WARNING: MINILOGIN_WECHAT_API_URL is a WeChat sandbox ({settings.wechat_api_url}), "
            "not WeChat: anyone can log in as any phone number. Never serve real users so.",
            err=True,
        )
    if workers > 1:
        prepare_multiprocess(settings.data_dir / "prometheus")
    uvicorn.run(
        "minilogin.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        # An open event stream would otherwise hold a stopping server for as long as it lasts.
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        **observed(settings, log_level),
    )


@cli.command()
def sandbox(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8001,
    public_url: Annotated[
        str | None,
        typer.Option(help="The address browsers and phones use (default: where it listens)."),
    ] = None,
    server_url: Annotated[
        str | None,
        typer.Option(
            help="The minilogin the phone simulator's mini program calls (its public URL)."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
) -> None:
    """Run the WeChat sandbox alone: WeChat's server API, the simulated phones and the phone
    simulator page. Its state lives in this one process, shared by every minilogin instance
    whose MINILOGIN_WECHAT_API_URL points at it."""
    from minilogin.sandbox.app import create_sandbox_app

    public = (public_url or _listening_url(host, port)).rstrip("/")
    typer.echo("minilogin sandbox · a fake WeChat: never serve real users with it")
    typer.echo(f"  WeChat API:      {public}{SANDBOX_API_PATH}  (MINILOGIN_WECHAT_API_URL)")
    typer.echo(f"  phone simulator: {public}{SANDBOX_PHONE_PATH}")
    if server_url:
        typer.echo(f"  its mini program calls: {server_url}")
    uvicorn.run(
        create_sandbox_app(public, server_url=server_url),
        host=host,
        port=port,
        log_level=log_level,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        log_config=log_config(),  # its URLs carry WeChat secrets and codes too
    )


def _logging_and_proxies(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for what ``dev`` and ``serve`` share: logs that never show a
    credential (``logs.py``), and X-Forwarded-For believed only from the proxies the settings
    name (uvicorn otherwise believes 127.0.0.1, and a client's own header would then decide
    the IP its rate limits count and its phone shows)."""
    return {
        "log_config": log_config(),
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": settings.trusted_proxies or None,
    }


async def _seed_admin(settings: Settings) -> str | None:
    store = await SqlStores.open(settings.database_url, SecretBox(settings.resolved_secret_key()))
    try:
        return await seed_admin(store.admins, settings)
    finally:
        await store.close()


@cli.command()
def sdk(
    as_json: Annotated[bool, typer.Option("--json", help="Print /static/sdk.json.")] = False,
) -> None:
    """Where the JavaScript SDK is served for MINILOGIN_PUBLIC_URL, pinned to this release, and
    the Subresource Integrity hash of each file: the <script> tag to paste into a page."""
    settings = Settings()
    listing = sdk_assets.manifest(settings.public_url)
    if as_json:
        print_json(listing)
        return
    typer.echo(f"minilogin SDK {listing['version']}")
    for name, file in listing["files"].items():
        typer.echo(f"  {name}: {file['url']}")
        typer.echo(f"    integrity: {file['integrity']}")
    script = listing["files"]["minilogin.js"]
    typer.echo(
        f'<script type="module" src="{script["url"]}" integrity="{script["integrity"]}" '
        'crossorigin="anonymous"></script>'
    )
