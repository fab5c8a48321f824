"""The container files: ``compose.yaml`` is valid Compose (checked by Docker's own tool; no
Docker engine runs here) and in step with the README, and the ``Dockerfile`` installs from the
lock as an unprivileged user."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from minilogin.config import Settings

ROOT = Path(__file__).resolve().parents[1]
SERVICES = {"postgres", "redis", "minilogin", "sandbox"}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def readme_section(start: str, end: str) -> str:
    text = (ROOT / "README.md").read_text()
    return text[text.index(start) : text.index(end, text.index(start))]


def compose_command() -> list[str]:
    docker = shutil.which("docker")
    if docker is not None:
        plugin = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
        if plugin.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    assert legacy is not None, "no compose tool: run scripts/install-system-deps.sh"
    return [legacy]


def test_compose_file_is_valid_compose_with_and_without_the_sandbox() -> None:
    for profile in ([], ["--profile", "sandbox"]):
        checked = subprocess.run(
            [*compose_command(), "-f", str(ROOT / "compose.yaml"), *profile, "config"],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        assert checked.returncode == 0, checked.stderr
        services = set(yaml.safe_load(checked.stdout)["services"])
        # Debian's docker-compose (1.29) lists profiled services without their profile too.
        assert SERVICES - {"sandbox"} <= services <= SERVICES
        assert "sandbox" in services or not profile


def test_compose_runs_what_the_readme_says() -> None:
    services = compose()["services"]
    assert set(services) == SERVICES
    table = readme_section("### Container", "### Command line")
    named = set(re.findall(r"^\| `([a-z]+)` \|", table, re.MULTILINE))
    assert named == SERVICES
    assert services["redis"]["command"][-2:] == ["--appendonly", "yes"]
    assert services["minilogin"]["command"][:2] == ["minilogin", "serve"]
    assert services["sandbox"]["command"][:2] == ["minilogin", "sandbox"]
    assert services["sandbox"]["profiles"] == ["sandbox"]
    assert "profiles" not in services["minilogin"]


def test_every_setting_compose_passes_exists_and_is_documented() -> None:
    environment = compose()["services"]["minilogin"]["environment"]
    settings = {f"MINILOGIN_{name.upper()}" for name in Settings.model_fields}
    documented = readme_section("## Deploy", "## Performance")
    passed = {name for name in environment if name.startswith("MINILOGIN_")}
    assert passed
    for name in passed:
        assert name in settings, name
        assert f"`{name}`" in documented, name
    # And every variable the README's container part names, compose passes on.
    container = readme_section("### Container", "### Command line")
    for name in set(re.findall(r"MINILOGIN_[A-Z_]+", container)):
        assert name in passed, name


def test_the_image_installs_from_the_lock_and_serves_as_an_unprivileged_user() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    syncs = [line for line in lines if line.startswith("RUN uv sync")]
    assert syncs
    assert all("--frozen" in line for line in syncs)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users
    assert users[-1] not in ("root", "0")
    assert lines.index(f"USER {users[-1]}") > max(lines.index(line) for line in syncs)
    assert lines[-1] == 'CMD ["minilogin", "serve", "--host", "0.0.0.0", "--port", "8000"]'
