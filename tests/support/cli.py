"""The installed ``minilogin`` command run as an operator's shell runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

MINILOGIN = str(Path(sys.executable).with_name("minilogin"))


def run_minilogin(
    *args: str, data_dir: Path, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """The installed ``minilogin`` command, as an operator's shell runs it."""
    return subprocess.run(
        [MINILOGIN, *args],
        env={"PATH": "/usr/bin:/bin", "MINILOGIN_DATA_DIR": str(data_dir), **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def admin_json(*args: str, data_dir: Path, **env: str) -> Any:
    done = run_minilogin("admin", *args, "--json", data_dir=data_dir, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
