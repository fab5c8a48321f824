"""The ``minilogin`` command."""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

from minilogin.app import create_app
from minilogin.config import Settings
from minilogin.seed import DEMO_POOL
from minilogin.storage.sql.migrate import upgrade

cli = typer.Typer(help="minilogin: log in to a PC website by scanning a WeChat mini program code.")


def _settings_for(host: str, port: int) -> Settings:
    if "MINILOGIN_PUBLIC_URL" in os.environ:
        return Settings()
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - a display name
    return Settings(public_url=f"http://{shown}:{port}")


@cli.command()
def migrate() -> None:
    """Apply the database migrations."""
    settings = Settings()
    upgrade(settings.database_url)
    typer.echo(f"migrated {settings.database_url}")


@cli.command()
def dev(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Migrate, seed the demo and serve it, with the WeChat sandbox unless an AppID is set."""
    settings = _settings_for(host, port)
    upgrade(settings.database_url)
    public = settings.public_url
    typer.echo(f"minilogin dev · WeChat {settings.wechat_mode} · {settings.database_url}")
    typer.echo(f"  demo:            {public}/demo/")
    typer.echo(f"  issuer:          {settings.issuer(DEMO_POOL)}  (client_id demo)")
    typer.echo(f"  API docs:        {public}/docs")
    if settings.sandbox:
        typer.echo(
            f"  phone simulator: {public}/_sandbox/phone  (or scan the code on the demo page)"
        )
    uvicorn.run(create_app(settings, seed=True), host=host, port=port, log_level="info")


def main() -> None:
    cli()
