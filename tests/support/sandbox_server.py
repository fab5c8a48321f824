"""The WeChat sandbox as a process of its own on a free port, reached over HTTP like WeChat.

Until ``minilogin sandbox`` exists, the process serves the sandbox's router with uvicorn; the
command line below is the one thing to change when it does.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.support.server import free_port

_SERVE = """
import sys, uvicorn
from fastapi import FastAPI
from minilogin.wechat.sandbox.routes import create_sandbox_router
app = FastAPI()
app.include_router(create_sandbox_router(sys.argv[1]))
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


@contextmanager
def sandbox_process(log_dir: Path) -> Iterator[str]:
    """Yields the sandbox's public URL; the process is stopped and reaped afterwards."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    log = log_dir / "sandbox.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", _SERVE, public, str(port)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"sandbox exited: {log.read_text()}")
            try:
                if httpx.get(f"{public}/_sandbox/wechat/stats").is_success:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"sandbox did not start: {log.read_text()}")
            time.sleep(0.1)
        yield public
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
