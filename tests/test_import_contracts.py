"""The import contracts of ``pyproject.toml`` (checked by ``make lint``) stay whole: the protocol
floor's contract names every top-level module of minilogin except the ones it may import, so a
module added later is forbidden to ``oidc/`` until someone decides otherwise."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "minilogin"
#: What the protocol (``oidc/``) may import: itself, the pure core and the ports.
OIDC_MAY_IMPORT = {"core", "ports", "oidc"}


def contract(name: str) -> dict[str, Any]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [found] = [c for c in config["tool"]["importlinter"]["contracts"] if c["name"] == name]
    return dict(found)


def top_level_modules() -> set[str]:
    modules = {path.stem for path in PACKAGE.glob("*.py") if path.stem != "__init__"}
    packages = {path.parent.name for path in PACKAGE.glob("*/__init__.py")}
    return modules | packages


def test_oidc_is_forbidden_every_module_but_core_and_ports() -> None:
    oidc = contract("oidc imports only core and ports")
    assert oidc["source_modules"] == ["minilogin.oidc"]
    forbidden = {name.removeprefix("minilogin.") for name in oidc["forbidden_modules"]}
    assert forbidden == top_level_modules() - OIDC_MAY_IMPORT
    assert {"storage", "login", "wiring", "config"} <= forbidden


def test_core_is_forbidden_all_of_minilogin() -> None:
    core = contract("core is pure: nothing of minilogin outside it, no I/O library")
    assert core["source_modules"] == ["minilogin.core"]
    assert "minilogin.*" in core["forbidden_modules"]
    assert {"fastapi", "sqlalchemy", "redis", "httpx"} <= set(core["forbidden_modules"])


def test_no_package_is_left_out_of_the_cycle_check() -> None:
    floors = contract(
        "no cycle between sibling packages or modules, from the top-level packages down"
    )
    assert floors["type"] == "acyclic_siblings"
    assert floors["ancestors"] == ["minilogin"]
    assert "skip_descendants" not in floors
    assert "ignore_imports" not in floors
