"""``minilogin admin`` for administrators and API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from minilogin.admin import access
from minilogin.cli.admin import (
    AsJson,
    Confirmed,
    admin,
    administer,
    cli_actor,
    confirm_delete,
    show,
)
from minilogin.web import admin_bodies as bodies
from minilogin.web import admin_ports
from minilogin.wiring import Services

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
    created = administer(
        lambda svc: access.create_admin(
            admin_ports.access_ports(svc), cli_actor(), username, password
        )
    )
    typer.echo(f"created administrator {created.username}")


@admin.command("set-password")
def set_password(
    username: Annotated[str, typer.Argument(help="The administrator.")],
    password: NewPassword,
) -> None:
    """Set an administrator's password (the way to reset the one "minilogin dev" made)."""
    administer(
        lambda svc: access.set_admin_password(
            admin_ports.access_ports(svc), cli_actor(), username, password
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
        administer(
            lambda svc: access.create_api_token(
                admin_ports.access_ports(svc), cli_actor(), admin_name, description
            )
        )
    )


# administrators (``set-password`` changes one)


@admin.command("list-admins")
def list_admins(as_json: AsJson = False) -> None:
    """List the console administrators."""

    async def work(svc: Services) -> list[dict[str, object]]:
        return [bodies.admin_body(found) for found in await access.list_admins(svc.durable)]

    show(administer(work), as_json, ("username", "created_at"))


@admin.command("show-admin")
def show_admin(
    username: Annotated[str, typer.Argument(help="The administrator.")], as_json: AsJson = False
) -> None:
    """Show a console administrator (never the password)."""

    async def work(svc: Services) -> dict[str, object]:
        return bodies.admin_body(await access.get_admin(svc.durable, username))

    show(administer(work), as_json)


@admin.command("delete-admin")
def delete_admin(
    username: Annotated[str, typer.Argument(help="The administrator.")], yes: Confirmed = False
) -> None:
    """Delete a console administrator and the API tokens made for them."""
    confirm_delete(f"administrator {username} and their API tokens", yes)
    administer(
        lambda svc: access.delete_admin(admin_ports.access_ports(svc), cli_actor(), username)
    )
    typer.echo(f"deleted administrator {username}")


# API tokens (``token`` makes one)


@admin.command("list-tokens")
def list_tokens(as_json: AsJson = False) -> None:
    """List the admin API tokens (never the tokens themselves)."""

    async def work(svc: Services) -> list[dict[str, object]]:
        found = await access.list_api_tokens(svc.durable)
        return [bodies.token_body(stored, name) for stored, name in found]

    show(administer(work), as_json, ("id", "admin", "description", "last_used_at"))


@admin.command("show-token")
def show_token(
    token_id: Annotated[str, typer.Argument(help="The token's id (see list-tokens).")],
    as_json: AsJson = False,
) -> None:
    """Show an admin API token."""

    async def work(svc: Services) -> dict[str, object]:
        return bodies.token_body(*await access.get_api_token(svc.durable, token_id))

    show(administer(work), as_json)


@admin.command("update-token")
def update_token(
    token_id: Annotated[str, typer.Argument(help="The token's id (see list-tokens).")],
    description: Annotated[str, typer.Option(help="What the token is for; empty clears it.")],
    as_json: AsJson = False,
) -> None:
    """Change an admin API token's description."""

    async def work(svc: Services) -> dict[str, object]:
        changed = await access.describe_api_token(
            admin_ports.access_ports(svc), cli_actor(), token_id, description or None
        )
        return bodies.token_body(*changed)

    show(administer(work), as_json)


@admin.command("delete-token")
def delete_token(
    token_id: Annotated[str, typer.Argument(help="The token's id (see list-tokens).")],
    yes: Confirmed = False,
) -> None:
    """Revoke an admin API token: it stops working at once."""
    confirm_delete(f"API token {token_id}", yes)
    administer(
        lambda svc: access.delete_api_token(admin_ports.access_ports(svc), cli_actor(), token_id)
    )
    typer.echo(f"deleted API token {token_id}")
