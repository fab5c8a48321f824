"""``minilogin admin`` for applications and identity sources."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from minilogin.admin import applications, connections
from minilogin.cli.admin import (
    AsJson,
    Confirmed,
    admin,
    administer,
    cli_actor,
    confirm_delete,
    given,
    show,
)
from minilogin.cli.root import print_json
from minilogin.core.entities import Application
from minilogin.web import admin_bodies as bodies
from minilogin.web import admin_ports
from minilogin.wiring import Services


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
    application, secret = administer(
        lambda svc: applications.create_application(
            admin_ports.application_ports(svc), cli_actor(), pool, fields
        )
    )
    print_json(bodies.application_body(application, [], secret))


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
            admin_ports.connection_ports(svc), cli_actor(), pool, fields, test_connection=test
        )
        return bodies.connection_body(source, [], svc.settings.issuer(pool))

    print_json(administer(work))


@admin.command("enable-source")
def enable_source(
    pool: Annotated[str, typer.Argument(help="The pool's slug.")],
    client_id: Annotated[str, typer.Argument(help="The application.")],
    unique_id: Annotated[str, typer.Argument(help="The identity source.")],
    disable: Annotated[bool, typer.Option("--disable", help="Switch it off instead.")] = False,
) -> None:
    """Switch an identity source on (or off) for an application."""
    administer(
        lambda svc: applications.switch_connection(
            admin_ports.application_ports(svc),
            cli_actor(),
            pool,
            client_id,
            unique_id,
            enabled=not disable,
        )
    )
    typer.echo(f"{unique_id} {'off' if disable else 'on'} for {client_id}")


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

    show(administer(work), as_json, ("client_id", "type", "name"))


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

    show(administer(work), as_json)


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
    fields = given(
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
            admin_ports.application_ports(svc), cli_actor(), pool, client_id, fields
        )
        return await _application_body(svc, application)

    show(administer(work), as_json)


@admin.command("delete-app")
def delete_app(
    pool: Annotated[str, typer.Argument(help="The pool's slug.")],
    client_id: Annotated[str, typer.Argument(help="The application's client_id.")],
    yes: Confirmed = False,
) -> None:
    """Delete an application; its users stay in the pool."""
    confirm_delete(f"application {client_id} of pool {pool}", yes)
    administer(
        lambda svc: applications.delete_application(
            admin_ports.application_ports(svc), cli_actor(), pool, client_id
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

    show(administer(work), as_json, ("unique_id", "display_name", "app_id", "applications"))


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

    show(administer(work), as_json)


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
    fields = given(
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
        await connections.update_connection(ports, cli_actor(), pool, unique_id, fields)
        source, apps = await connections.get_connection(ports.pools, ports.sources, pool, unique_id)
        return bodies.connection_body(source, apps, svc.settings.issuer(pool))

    show(administer(work), as_json)


@admin.command("delete-source")
def delete_source(
    pool: Annotated[str, typer.Argument(help="The pool's slug.")],
    unique_id: Annotated[str, typer.Argument(help="The identity source.")],
    yes: Confirmed = False,
) -> None:
    """Delete an identity source; the applications stop offering it."""
    confirm_delete(f"identity source {unique_id} of pool {pool}", yes)
    administer(
        lambda svc: connections.delete_connection(
            admin_ports.connection_ports(svc), cli_actor(), pool, unique_id
        )
    )
    typer.echo(f"deleted identity source {unique_id}")
