"""A real Redis server for tests: ``redis-server`` on a free port in a temporary folder, with
no persistence, stopped and removed when the block ends. Nothing assumes one is running."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.support.server import free_port


@dataclass(frozen=True)
class RedisServer:
    port: int
    folder: Path

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


def redis_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        raise RuntimeError("redis-server is missing: run scripts/install-system-deps.sh")
    return found


@contextmanager
def redis_server(start_timeout: float = 10.0) -> Iterator[RedisServer]:
    """``redis-server`` listening on 127.0.0.1 only; killed and its folder removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="minilogin-redis-") as folder:
        port = free_port()
        log = Path(folder) / "redis.log"
        process = subprocess.Popen(
            [
                redis_binary(),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                folder,
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(log),
                # Ten thousand waiting browsers share one connection per instance, but the
                # benchmarks' clients and instances together still need more than the default.
                "--maxclients",
                "20000",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_ready(process, port, log, start_timeout)
            yield RedisServer(port, Path(folder))
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_ready(
    process: subprocess.Popen[bytes], port: int, log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1)
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {_read(log)}")
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: {_read(log)}")
            time.sleep(0.02)
    finally:
        client.close()


def _read(log: Path) -> str:
    return log.read_text() if log.exists() else "(no log)"
