"""The OpenAPI document against the running service: schemathesis (from PyPI) generates
requests for every operation of ``/openapi.json`` (valid ones, boundary values, and wrong
ones) with an administrator's token, against a real ``minilogin dev``, and checks that none
answers a 5xx and that every status that comes back is one the document declares."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.server import minilogin_dev

pytestmark = pytest.mark.slow

ADMIN_TOKEN = "openapi-check-admin-token"


@pytest.mark.timeout(900)
def test_no_request_makes_a_server_error_and_every_status_is_declared(tmp_path: Path) -> None:
    # The pool every ``{pool}`` names: one that exists, so requests reach past "unknown pool".
    config = tmp_path / "schemathesis.toml"
    config.write_text('[parameters]\n"path.pool" = "demo"\n')
    env = {"MINILOGIN_ADMIN_TOKEN": ADMIN_TOKEN, "MINILOGIN_RATE_LIMIT_SCALE": "0"}
    with minilogin_dev(tmp_path, **env) as server:
        run = subprocess.run(
            [
                str(Path(sys.executable).with_name("schemathesis")),
                "--config-file",
                str(config),
                "run",
                f"{server.public}/openapi.json",
                "--header",
                f"Authorization: Bearer {ADMIN_TOKEN}",
                "--checks",
                "not_a_server_error,status_code_conformance",
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                "10",
                "--suppress-health-check",
                "all",
                "--generation-deterministic",
                "--no-color",
            ],
            cwd=tmp_path,  # where schemathesis keeps its cache
            capture_output=True,
            text=True,
            timeout=800,
            check=False,
        )
    summary = run.stdout[-3000:]
    assert run.returncode == 0, summary
    counted = re.search(r"^\s*(\d+) generated, (\d+) passed$", summary, re.MULTILINE)
    assert counted, summary
    assert counted[1] == counted[2], summary
    assert int(counted[1]) > 1000
