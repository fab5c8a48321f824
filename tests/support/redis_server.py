"""A real Redis server for tests: ``redis-server`` on a free port in a temporary folder, with
no persistence (or, restartable, with append-only persistence), stopped and removed when the
block ends. Nothing assumes one is running."""

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
        process = _start(Path(folder), port, appendonly=False)
        try:
            _wait_until_ready(process, port, Path(folder) / "redis.log", start_timeout)
            yield RedisServer(port, Path(folder))
        finally:
            _stop(process)


@dataclass
class RestartableRedis:
    """A Redis that a test stops and starts again on the same port and folder, with or
    without append-only persistence, as an operator restarts one."""

    port: int
    folder: Path
    appendonly: bool
    process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout: float = 10.0) -> None:
        self.process = _start(self.folder, self.port, appendonly=self.appendonly)
        _wait_until_ready(self.process, self.port, self.folder / "redis.log", timeout)

    def stop(self) -> None:
        """SIGTERM: Redis writes its append-only file to disk and exits, as on a restart."""
        if self.process is not None:
            _stop(self.process)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def restartable_redis(*, appendonly: bool) -> Iterator[RestartableRedis]:
    with tempfile.TemporaryDirectory(prefix="minilogin-redis-") as folder:
        server = RestartableRedis(free_port(), Path(folder), appendonly)
        server.start()
        try:
            yield server
        finally:
            server.stop()


def _start(folder: Path, port: int, *, appendonly: bool) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            redis_binary(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(folder),
            "--save",
            "",
            "--appendonly",
            "yes" if appendonly else "no",
            "--logfile",
            str(folder / "redis.log"),
            # Ten thousand waiting browsers share one connection per instance, but the
            # benchmarks' clients and instances together still need more than the default.
            "--maxclients",
            "20000",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
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
