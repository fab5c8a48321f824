"""``minilogin admin …``: the group, what its commands share (the database they administer,
their output, their confirmations), and the pools' commands, ``rotate-keys`` among them.
Applications and identity sources are in ``applications``, administrators and API tokens in
``access``."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from minilogin.admin import Actor, keys, pools
from minilogin.cli.root import cli, print_json
from minilogin.cli.server import migrate_database
from minilogin.config import Settings
from minilogin.core.errors import MiniloginError
from minilogin.core.messages import message, negotiate
from minilogin.web import admin_bodies as bodies
from minilogin.web import admin_ports
from minilogin.wiring import Services, open_services

admin = typer.Typer(
    help="Administer pools, applications, identity sources, administrators and API tokens "
    "(the same rules and audit log as the admin API).",
    no_args_is_help=True,
)
cli.add_typer(admin, name="admin")

T = TypeVar("T")


def cli_actor() -> Actor:
    return Actor(f"cli:{os.environ.get('USER') or 'unknown'}")


def administer(work: Callable[[Services], Awaitable[T]]) -> T:
    """Run ``work`` against the configured database (migrated first); a refused change
    prints its reason and exits with status 1."""
    settings = Settings()
    migrate_database(settings)

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


@admin.command("create-pool")
def create_pool(
    slug: Annotated[str, typer.Argument(help="Lowercase letters, digits and -; the issuer path.")],
    name: Annotated[str, typer.Argument(help="The pool's name.")],
) -> None:
    """Create a user pool."""
    pool = administer(
        lambda svc: pools.create_pool(
            admin_ports.pool_ports(svc), cli_actor(), {"slug": slug, "name": name}
        )
    )
    print_json({"slug": pool.slug, "name": pool.name, "issuer": Settings().issuer(pool.slug)})


# ---- minilogin admin list-… / show-… / update-… / delete-…: reading and changing --------------

#: ``--json``: print JSON for scripts instead of the text meant for people.
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON, for scripts.")]
#: ``--yes``: delete without asking (scripts); else the command asks first.
Confirmed = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def show(body: object, as_json: bool, columns: tuple[str, ...] = ()) -> None:
    """A list as one line per item with ``columns``, an object as ``name: value`` lines, or
    either as JSON."""
    if as_json:
        print_json(body)
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


def confirm_delete(what: str, yes: bool) -> None:
    if not yes:
        typer.confirm(f"Delete {what}?", abort=True)


def given(**options: object) -> dict[str, object]:
    """The options given on the command line: the fields an update changes."""
    return {name: value for name, value in options.items() if value is not None}


# pools


@admin.command("list-pools")
def list_pools(as_json: AsJson = False) -> None:
    """List the user pools: slug, name, issuer."""

    async def work(svc: Services) -> list[dict[str, Any]]:
        found = await pools.list_pools(svc.durable)
        return [bodies.pool_body(pool, svc.settings.issuer(pool.slug)) for pool in found]

    show(administer(work), as_json, ("slug", "name", "issuer"))


@admin.command("show-pool")
def show_pool(
    slug: Annotated[str, typer.Argument(help="The pool's slug.")], as_json: AsJson = False
) -> None:
    """Show a user pool."""

    async def work(svc: Services) -> dict[str, Any]:
        pool = await pools.get_pool(svc.durable, slug)
        return bodies.pool_body(pool, svc.settings.issuer(pool.slug))

    show(administer(work), as_json)


@admin.command("update-pool")
def update_pool(
    slug: Annotated[str, typer.Argument(help="The pool's slug (it cannot change).")],
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    logo_url: Annotated[str | None, typer.Option(help="A new logo URL; empty removes it.")] = None,
    as_json: AsJson = False,
) -> None:
    """Change a user pool's name or logo URL."""
    fields = given(name=name, logo_url=logo_url)

    async def work(svc: Services) -> dict[str, Any]:
        pool = await pools.update_pool(admin_ports.pool_ports(svc), cli_actor(), slug, fields)
        return bodies.pool_body(pool, svc.settings.issuer(pool.slug))

    show(administer(work), as_json)


@admin.command("delete-pool")
def delete_pool(
    slug: Annotated[str, typer.Argument(help="The pool's slug.")], yes: Confirmed = False
) -> None:
    """Delete a user pool with its applications, identity sources and users."""
    confirm_delete(f"pool {slug} with its applications, identity sources and users", yes)
    administer(lambda svc: pools.delete_pool(admin_ports.pool_ports(svc), cli_actor(), slug))
    typer.echo(f"deleted pool {slug}")


@admin.command("rotate-keys")
def rotate_keys(
    slug: Annotated[str, typer.Argument(help="The pool's slug.")], as_json: AsJson = False
) -> None:
    """Give a pool new signing keys. The previous ones stay published and verifying until
    every token they signed has expired (previous_keys_retire_at), then leave the JWKS.
    Running servers start signing with the new keys within MINILOGIN_CONFIG_CACHE_TTL."""
    rotation = administer(
        lambda svc: keys.rotate_keys(admin_ports.key_ports(svc), cli_actor(), slug)
    )
    body = {
        "pool": slug,
        "kids": {key.algorithm: key.kid for key in rotation.keys},
        "previous_keys_retire_at": rotation.previous_retire_at.isoformat(),
    }
    show(body, as_json)
