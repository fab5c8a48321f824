"""The ``minilogin`` command."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from minilogin import __version__
from minilogin.admin import Actor, access, applications, connections, pools
from minilogin.app import create_app
from minilogin.config import SANDBOX_API_PATH, SANDBOX_PHONE_PATH, Settings
from minilogin.core.entities import Application
from minilogin.core.errors import MiniloginError
from minilogin.core.messages import message, negotiate
from minilogin.logs import log_config
from minilogin.observability.logs import log_config as observed_log_config
from minilogin.observability.metrics import prepare_multiprocess
from minilogin.seed import DEMO_POOL, DEV_ADMIN, seed_admin
from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql.migrate import upgrade
from minilogin.storage.sql.store import SqlStore
from minilogin.web import admin_bodies as bodies
from minilogin.web import admin_ports, sdk_assets
from minilogin.wechat.sandbox.app import create_sandbox_app
from minilogin.wiring import Services, open_services

GRACEFUL_SHUTDOWN_SECONDS = 5

cli = typer.Typer(help="minilogin: log in to a PC website by scanning a WeChat mini program code.")


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"minilogin {__version__}")
        raise typer.Exit()


@cli.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """minilogin: log in to a PC website by scanning a WeChat mini program code."""


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


def _migrate(settings: Settings) -> None:
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
    _migrate(settings)
    typer.echo(f"migrated {settings.database_url}")


@cli.command()
def dev(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
) -> None:
    """Migrate, seed the demo and serve it, with a WeChat sandbox of its own on the same
    origin, unless MINILOGIN_WECHAT_API_URL names the WeChat (or the sandbox) to use."""
    settings = _settings_for(host, port)
    own_sandbox = None
    if "MINILOGIN_WECHAT_API_URL" not in os.environ:
        # Reached over HTTP at its public address like any other WeChat; its codes open its
        # phone simulator there too.
        own_sandbox = create_sandbox_app(settings.public_url)
        settings = settings.against_sandbox(settings.public_url + SANDBOX_API_PATH)
    elif settings.uses_wechat_sandbox:
        settings = settings.against_sandbox(settings.wechat_api_url)
    _migrate(settings)
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
    _migrate(settings)
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
    store = await SqlStore.open(settings.database_url, SecretBox(settings.resolved_secret_key()))
    try:
        return await seed_admin(store, settings)
    finally:
        await store.close()


def main() -> None:
    cli()


@cli.command()
def sdk(
    as_json: Annotated[bool, typer.Option("--json", help="Print /static/sdk.json.")] = False,
) -> None:
    """Where the JavaScript SDK is served for MINILOGIN_PUBLIC_URL, pinned to this release, and
    the Subresource Integrity hash of each file: the <script> tag to paste into a page."""
    settings = Settings()
    listing = sdk_assets.manifest(settings.public_url)
    if as_json:
        _print(listing)
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


# ---- minilogin admin …: pools, applications, identity sources, administrators, API tokens ---

admin = typer.Typer(
    help="Administer pools, applications, identity sources, administrators and API tokens "
    "(the same rules and audit log as the admin API).",
    no_args_is_help=True,
)
cli.add_typer(admin, name="admin")

T = TypeVar("T")


def _cli_actor() -> Actor:
    return Actor(f"cli:{os.environ.get('USER') or 'unknown'}")


def _administer(work: Callable[[Services], Awaitable[T]]) -> T:
    """Run ``work`` against the configured database (migrated first); a refused change
    prints its reason and exits with status 1."""
    settings = Settings()
    _migrate(settings)

    async def run() -> T:
        svc = await open_services(settings)
        try:
            return await work(svc)
        finally:
            await svc.close()

    try:
        return asyncio.run(run())
    except MiniloginError as error:
        locale = negotiate(os.environ.get("LANG", "").replace("_", "-"))
        typer.echo(f"error: {error.code}: {message(error.code, locale)}", err=True)
        raise typer.Exit(1) from None


def _print(body: object) -> None:
    typer.echo(json.dumps(body, ensure_ascii=False, indent=2))


@admin.command("create-pool")
def create_pool(
    slug: Annotated[str, typer.Argument(help="Lowercase letters, digits and -; the issuer path.")],
    name: Annotated[str, typer.Argument(help="The pool's name.")],
) -> None:
    """Create a user pool."""
    pool = _administer(
        lambda svc: pools.create_pool(
            admin_ports.pool_ports(svc), _cli_actor(), {"slug": slug, "name": name}
        )
    )
    _print({"slug": pool.slug, "name": pool.name, "issuer": Settings().issuer(pool.slug)})


@admin.command("create-app")
def create_app_command(
    pool: Annotated[str, typer.Argument(help="The pool's slug.")],
    name: Annotated[str, typer.Argument(help="The application's name.")],
    kind: Annotated[
        str, typer.Option("--type", help="spa (public, PKCE) or web (with a secret).")
    ] = "spa",
    redirect_uri: Annotated[list[str] | None, typer.Option(help="Repeatable.")] = None,
    web_origin: Annotated[list[str] | None, typer.Option(help="Repeatable.")] = None,
    post_logout_redirect_uri: Annotated[list[str] | None, typer.Option(help="Repeatable.")] = None,
) -> None:
    """Create an application; a web application's client_secret is printed this once."""
    fields = {
        "name": name,
        "type": kind,
        "redirect_uris": redirect_uri or [],
        "web_origins": web_origin or [],
        "post_logout_redirect_uris": post_logout_redirect_uri or [],
    }
    application, secret = _administer(
        lambda svc: applications.create_application(
            admin_ports.application_ports(svc), _cli_actor(), pool, fields
        )
    )
    _print(bodies.application_body(application, [], secret))


@admin.command("create-source")
def create_source(
    pool: Annotated[str, typer.Argument(help="The pool's slug.")],
    unique_id: Annotated[str, typer.Argument(help="Lowercase letters, digits and -, 1–31.")],
    display_name: Annotated[str, typer.Argument(help="Shown on the login button or tab.")],
    callback_url: Annotated[str | None, typer.Option(help="Absolute http(s) URL.")] = None,
    private: Annotated[bool, typer.Option(help="Use the pool's own mini program.")] = False,
    app_id: Annotated[str | None, typer.Option(help="The mini program's AppID.")] = None,
    app_secret: Annotated[
        str | None,
        typer.Option(help="The mini program's AppSecret.", envvar="MINILOGIN_SOURCE_APP_SECRET"),
    ] = None,
    login_mode: Annotated[str, typer.Option(help="login_and_register or login_only.")] = (
        "login_and_register"
    ),
    association: Annotated[str, typer.Option(help="off, field_match or ask_binding.")] = (
        "field_match"
    ),
    page: Annotated[str, typer.Option(help="The page the code opens.")] = "pages/login/login",
    env_version: Annotated[str, typer.Option(help="release, trial or develop.")] = "release",
    qr_expires_in: Annotated[int | None, typer.Option(help="Seconds, 30–600.")] = None,
    test: Annotated[
        bool,
        typer.Option(
            help="Test the AppID and AppSecret against WeChat first (off when WeChat, or the "
            "sandbox of a server not running yet, can't be reached from here)."
        ),
    ] = True,
) -> None:
    """Create a "WeChat · PC mini program scan code" identity source."""
    fields: dict[str, object] = {
        "unique_id": unique_id,
        "display_name": display_name,
        "callback_url": callback_url,
        "private_deployment": private,
        "app_id": app_id,
        "app_secret": app_secret,
        "login_mode": login_mode,
        "association": association,
        "page": page,
        "env_version": env_version,
    }
    if qr_expires_in is not None:
        fields["qr_expires_in"] = qr_expires_in

    async def work(svc: Services) -> dict[str, object]:
        source = await connections.create_connection(
            admin_ports.connection_ports(svc), _cli_actor(), pool, fields, test_connection=test
        )
        return bodies.connection_body(source, [], svc.settings.issuer(pool))

    _print(_administer(work))


@admin.command("enable-source")
def enable_source(
    pool: Annotated[str, typer.Argument(help="The pool's slug.")],
    client_id: Annotated[str, typer.Argument(help="The application.")],
    unique_id: Annotated[str, typer.Argument(help="The identity source.")],
    disable: Annotated[bool, typer.Option("--disable", help="Switch it off instead.")] = False,
) -> None:
    """Switch an identity source on (or off) for an application."""
    _administer(
        lambda svc: applications.switch_connection(
            admin_ports.application_ports(svc),
            _cli_actor(),
            pool,
            client_id,
            unique_id,
            enabled=not disable,
        )
    )
    typer.echo(f"{unique_id} {'off' if disable else 'on'} for {client_id}")


#: A new administrator password: typed twice at a hidden prompt, or taken from the environment.
NewPassword = Annotated[
    str,
    typer.Option(
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        envvar="MINILOGIN_NEW_ADMIN_PASSWORD",
        help="Asked for when not given.",
    ),
]


@admin.command("create-admin")
def create_admin(
    username: Annotated[str, typer.Argument(help="Starts with a letter, 3–32 characters.")],
    password: NewPassword,
) -> None:
    """Create a console administrator."""
    created = _administer(
        lambda svc: access.create_admin(
            admin_ports.access_ports(svc), _cli_actor(), username, password
        )
    )
    typer.echo(f"created administrator {created.username}")


@admin.command("set-password")
def set_password(
    username: Annotated[str, typer.Argument(help="The administrator.")],
    password: NewPassword,
) -> None:
    """Set an administrator's password (the way to reset the one "minilogin dev" made)."""
    _administer(
        lambda svc: access.set_admin_password(
            admin_ports.access_ports(svc), _cli_actor(), username, password
        )
    )
    typer.echo(f"password of {username} changed")


@admin.command("token")
def token(
    admin_name: Annotated[
        str | None, typer.Option("--admin", help="Act as this administrator.")
    ] = None,
    description: Annotated[str | None, typer.Option(help="What the token is for.")] = None,
) -> None:
    """Make an admin API token (sent as "Authorization: Bearer <token>"), printed only now."""
    typer.echo(
        _administer(
            lambda svc: access.create_api_token(
                admin_ports.access_ports(svc), _cli_actor(), admin_name, description
            )
        )
    )


# ---- minilogin admin list-… / show-… / update-… / delete-…: reading and changing --------------

#: ``--json``: print JSON for scripts instead of the text meant for people.
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")]
#: ``--yes``: delete without asking (scripts); else the command asks first.
Confirmed = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def _show(body: object, as_json: bool, columns: tuple[str, ...] = ()) -> None:
    """A list as one line per item with ``columns``, an object as ``name: value`` lines, or
    either as JSON."""
    if as_json:
        _print(body)
        return
    if isinstance(body, list):
        for item in body:
            typer.echo("\t".join(_text(item.get(column)) for column in columns))
        return
    assert isinstance(body, dict)
    width = max((len(name) for name in body), default=0)
    for name, value in body.items():
        typer.echo(f"{name.ljust(width)}  {_text(value)}")


def _text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value) or "-"
    return str(value)


def _confirm_delete(what: str, yes: bool) -> None:
    if not yes:
        typer.confirm(f"Delete {what}?", abort=True)


def _given(**options: object) -> dict[str, object]:
    """The options given on the command line: the fields an update changes."""
    return {name: value for name, value in options.items() if value is not None}


# pools


@admin.command("list-pools")
def list_pools(as_json: AsJson = False) -> None:
    """List the user pools: slug, name, issuer."""

    async def work(svc: Services) -> list[dict[str, Any]]:
        found = await pools.list_pools(svc.durable)
        return [bodies.pool_body(pool, svc.settings.issuer(pool.slug)) for pool in found]

    _show(_administer(work), as_json, ("slug", "name", "issuer"))


@admin.command("show-pool")
def show_pool(
    slug: Annotated[str, typer.Argument(help="The pool's slug.")], as_json: AsJson = False
) -> None:
    """Show a user pool."""

    async def work(svc: Services) -> dict[str, Any]:
        pool = await pools.get_pool(svc.durable, slug)
        return bodies.pool_body(pool, svc.settings.issuer(pool.slug))

    _show(_administer(work), as_json)


@admin.command("update-pool")
def update_pool(
    slug: Annotated[str, typer.Argument(help="The pool's slug (it cannot change).")],
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    logo_url: Annotated[str | None, typer.Option(help="A new logo URL; empty removes it.")] = None,
    as_json: AsJson = False,
) -> None:
    """Change a user pool's name or logo URL."""
    fields = _given(name=name, logo_url=logo_url)

    async def work(svc: Services) -> dict[str, Any]:
        pool = await pools.update_pool(admin_ports.pool_ports(svc), _cli_actor(), slug, fields)
        return bodies.pool_body(pool, svc.settings.issuer(pool.slug))

    _show(_administer(work), as_json)


@admin.command("delete-pool")
def delete_pool(
    slug: Annotated[str, typer.Argument(help="The pool's slug.")], yes: Confirmed = False
) -> None:
    """Delete a user pool with its applications, identity sources and users."""
    _confirm_delete(f"pool {slug} with its applications, identity sources and users", yes)
    _administer(lambda svc: pools.delete_pool(admin_ports.pool_ports(svc), _cli_actor(), slug))
    typer.echo(f"deleted pool {slug}")


# applications


async def _application_body(svc: Services, application: Application) -> dict[str, Any]:
    return bodies.application_body(
        application, await applications.enabled_connections(svc.durable, application)
    )


@admin.command("list-apps")
def list_apps(
    pool: Annotated[str, typer.Argument(help="The pool's slug.")], as_json: AsJson = False
) -> None:
    """List a pool's applications: client_id, type, name."""

    async def work(svc: Services) -> list[dict[str, Any]]:
        found = await applications.list_applications(admin_ports.application_ports(svc), pool)
        return [await _application_body(svc, application) for application in found]

    _show(_administer(work), as_json, ("client_id", "type", "name"))


@admin.command("show-app")
def show_app(
    pool: Annotated[str, typer.Argument(help="The pool's slug.")],
    client_id: Annotated[str, typer.Argument(help="The application's client_id.")],
    as_json: AsJson = False,
) -> None:
    """Show an application (never its client secret)."""

    async def work(svc: Services) -> dict[str, Any]:
        application = await applications.get_application(
            admin_ports.application_ports(svc), pool, client_id
        )
        return await _application_body(svc, application)

    _show(_administer(work), as_json)


@admin.command("update-app")
def update_app(
    pool: Annotated[str, typer.Argument(help="The pool's slug.")],
    client_id: Annotated[str, typer.Argument(help="The application's client_id.")],
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    redirect_uri: Annotated[
        list[str] | None, typer.Option(help="Repeatable; replaces the list.")
    ] = None,
    web_origin: Annotated[list[str] | None, typer.Option(help="Repeatable; replaces the list.")] = (
        None
    ),
    post_logout_redirect_uri: Annotated[
        list[str] | None, typer.Option(help="Repeatable; replaces the list.")
    ] = None,
    id_token_lifetime: Annotated[int | None, typer.Option(help="Seconds.")] = None,
    access_token_lifetime: Annotated[int | None, typer.Option(help="Seconds.")] = None,
    refresh_token_lifetime: Annotated[int | None, typer.Option(help="Seconds.")] = None,
    as_json: AsJson = False,
) -> None:
    """Change an application; only the options given change."""
    fields = _given(
        name=name,
        redirect_uris=redirect_uri,
        web_origins=web_origin,
        post_logout_redirect_uris=post_logout_redirect_uri,
        id_token_lifetime=id_token_lifetime,
        access_token_lifetime=access_token_lifetime,
        refresh_token_lifetime=refresh_token_lifetime,
    )

    async def work(svc: Services) -> dict[str, Any]:
        application = await applications.update_application(
            admin_ports.application_ports(svc), _cli_actor(), pool, client_id, fields
        )
        return await _application_body(svc, application)

    _show(_administer(work), as_json)


@admin.command("delete-app")
def delete_app(
    pool: Annotated[str, typer.Argument(help="The pool's slug.")],
    client_id: Annotated[str, typer.Argument(help="The application's client_id.")],
    yes: Confirmed = False,
) -> None:
    """Delete an application; its users stay in the pool."""
    _confirm_delete(f"application {client_id} of pool {pool}", yes)
    _administer(
        lambda svc: applications.delete_application(
            admin_ports.application_ports(svc), _cli_actor(), pool, client_id
        )
    )
    typer.echo(f"deleted application {client_id}")


# identity sources


@admin.command("list-sources")
def list_sources(
    pool: Annotated[str, typer.Argument(help="The pool's slug.")], as_json: AsJson = False
) -> None:
    """List a pool's identity sources: unique_id, display name, AppID, applications."""

    async def work(svc: Services) -> list[dict[str, Any]]:
        found = await connections.list_connections(svc.durable, svc.durable, pool)
        issuer = svc.settings.issuer(pool)
        return [bodies.connection_body(source, apps, issuer) for source, apps in found]

    _show(_administer(work), as_json, ("unique_id", "display_name", "app_id", "applications"))


@admin.command("show-source")
def show_source(
    pool: Annotated[str, typer.Argument(help="The pool's slug.")],
    unique_id: Annotated[str, typer.Argument(help="The identity source.")],
    as_json: AsJson = False,
) -> None:
    """Show an identity source (never its AppSecret)."""

    async def work(svc: Services) -> dict[str, Any]:
        source, apps = await connections.get_connection(svc.durable, svc.durable, pool, unique_id)
        return bodies.connection_body(source, apps, svc.settings.issuer(pool))

    _show(_administer(work), as_json)


@admin.command("update-source")
def update_source(
    pool: Annotated[str, typer.Argument(help="The pool's slug.")],
    unique_id: Annotated[str, typer.Argument(help="The identity source (it cannot change).")],
    display_name: Annotated[str | None, typer.Option(help="Shown on the login button.")] = None,
    callback_url: Annotated[str | None, typer.Option(help="Absolute http(s) URL.")] = None,
    private: Annotated[
        bool | None, typer.Option("--private/--platform", help="Whose mini program shows codes.")
    ] = None,
    app_id: Annotated[str | None, typer.Option(help="The mini program's AppID.")] = None,
    app_secret: Annotated[
        str | None,
        typer.Option(help="The mini program's AppSecret.", envvar="MINILOGIN_SOURCE_APP_SECRET"),
    ] = None,
    login_mode: Annotated[str | None, typer.Option(help="login_and_register or login_only.")] = (
        None
    ),
    association: Annotated[str | None, typer.Option(help="off, field_match or ask_binding.")] = (
        None
    ),
    page: Annotated[str | None, typer.Option(help="The page the code opens.")] = None,
    env_version: Annotated[str | None, typer.Option(help="release, trial or develop.")] = None,
    qr_expires_in: Annotated[int | None, typer.Option(help="Seconds, 30–600.")] = None,
    as_json: AsJson = False,
) -> None:
    """Change an identity source; only the options given change."""
    fields = _given(
        display_name=display_name,
        callback_url=callback_url,
        private_deployment=private,
        app_id=app_id,
        app_secret=app_secret,
        login_mode=login_mode,
        association=association,
        page=page,
        env_version=env_version,
        qr_expires_in=qr_expires_in,
    )

    async def work(svc: Services) -> dict[str, Any]:
        ports = admin_ports.connection_ports(svc)
        await connections.update_connection(ports, _cli_actor(), pool, unique_id, fields)
        source, apps = await connections.get_connection(ports.pools, ports.sources, pool, unique_id)
        return bodies.connection_body(source, apps, svc.settings.issuer(pool))

    _show(_administer(work), as_json)


@admin.command("delete-source")
def delete_source(
    pool: Annotated[str, typer.Argument(help="The pool's slug.")],
    unique_id: Annotated[str, typer.Argument(help="The identity source.")],
    yes: Confirmed = False,
) -> None:
    """Delete an identity source; the applications stop offering it."""
    _confirm_delete(f"identity source {unique_id} of pool {pool}", yes)
    _administer(
        lambda svc: connections.delete_connection(
            admin_ports.connection_ports(svc), _cli_actor(), pool, unique_id
        )
    )
    typer.echo(f"deleted identity source {unique_id}")


# administrators (``set-password`` changes one)


@admin.command("list-admins")
def list_admins(as_json: AsJson = False) -> None:
    """List the console administrators."""

    async def work(svc: Services) -> list[dict[str, object]]:
        return [bodies.admin_body(found) for found in await access.list_admins(svc.durable)]

    _show(_administer(work), as_json, ("username", "created_at"))


@admin.command("show-admin")
def show_admin(
    username: Annotated[str, typer.Argument(help="The administrator.")], as_json: AsJson = False
) -> None:
    """Show a console administrator (never the password)."""

    async def work(svc: Services) -> dict[str, object]:
        return bodies.admin_body(await access.get_admin(svc.durable, username))

    _show(_administer(work), as_json)


@admin.command("delete-admin")
def delete_admin(
    username: Annotated[str, typer.Argument(help="The administrator.")], yes: Confirmed = False
) -> None:
    """Delete a console administrator and the API tokens made for them."""
    _confirm_delete(f"administrator {username} and their API tokens", yes)
    _administer(
        lambda svc: access.delete_admin(admin_ports.access_ports(svc), _cli_actor(), username)
    )
    typer.echo(f"deleted administrator {username}")


# API tokens (``token`` makes one)


@admin.command("list-tokens")
def list_tokens(as_json: AsJson = False) -> None:
    """List the admin API tokens (never the tokens themselves)."""

    async def work(svc: Services) -> list[dict[str, object]]:
        found = await access.list_api_tokens(svc.durable)
        return [bodies.token_body(stored, name) for stored, name in found]

    _show(_administer(work), as_json, ("id", "admin", "description", "last_used_at"))


@admin.command("show-token")
def show_token(
    token_id: Annotated[str, typer.Argument(help="The token's id (see list-tokens).")],
    as_json: AsJson = False,
) -> None:
    """Show an admin API token."""

    async def work(svc: Services) -> dict[str, object]:
        return bodies.token_body(*await access.get_api_token(svc.durable, token_id))

    _show(_administer(work), as_json)


@admin.command("update-token")
def update_token(
    token_id: Annotated[str, typer.Argument(help="The token's id (see list-tokens).")],
    description: Annotated[str, typer.Option(help="What the token is for; empty clears it.")],
    as_json: AsJson = False,
) -> None:
    """Change an admin API token's description."""

    async def work(svc: Services) -> dict[str, object]:
        changed = await access.describe_api_token(
            admin_ports.access_ports(svc), _cli_actor(), token_id, description or None
        )
        return bodies.token_body(*changed)

    _show(_administer(work), as_json)


@admin.command("delete-token")
def delete_token(
    token_id: Annotated[str, typer.Argument(help="The token's id (see list-tokens).")],
    yes: Confirmed = False,
) -> None:
    """Revoke an admin API token: it stops working at once."""
    _confirm_delete(f"API token {token_id}", yes)
    _administer(
        lambda svc: access.delete_api_token(admin_ports.access_ports(svc), _cli_actor(), token_id)
    )
    typer.echo(f"deleted API token {token_id}")
