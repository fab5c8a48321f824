"""The ``minilogin`` command itself: its name, ``--version``, and the entry point. The
commands are in the modules beside it (``server``: running it; ``admin``, ``applications``,
``access``: administering it)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from minilogin import __version__

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


def main() -> None:
    cli()


def print_json(body: object) -> None:
    typer.echo(json.dumps(body, ensure_ascii=False, indent=2))
