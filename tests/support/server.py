"""A real minilogin server process on a free port, as an operator would start it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

# Generous: on a machine busy with other work, importing alone can take half a minute.
START_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class RunningServer:
    public: str
    process: subprocess.Popen[bytes]
    log: Path

    def issuer(self, pool: str = "demo") -> str:
        return f"{self.public}/pools/{pool}"


@contextmanager
def minilogin_dev(data_dir: Path, port: int | None = None, **env: str) -> Iterator[RunningServer]:
    """``minilogin dev`` in a child process (on ``port``, else a free one); stopped and reaped
    when the block ends."""
    port = port or free_port()
    log = data_dir / "server.log"
    environment = {
        **os.environ,
        "MINILOGIN_DATA_DIR": str(data_dir),
        "MINILOGIN_PUBLIC_URL": f"http://127.0.0.1:{port}",
        **env,
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "minilogin", "dev", "--port", str(port)],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    public = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()}")
            try:
                if httpx.get(f"{public}/pools/demo/.well-known/openid-configuration").is_success:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {log.read_text()}")
            time.sleep(0.1)
        yield RunningServer(public, process, log)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Instance:
    """A ``minilogin`` process listening on ``url``."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def issuer(self) -> str:
        return f"{self.url}/pools/demo"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def launch(folder: Path, arguments: list[str], env: dict[str, str], port: int) -> Instance:
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "server.log"
    environment = {**os.environ, "MINILOGIN_DATA_DIR": str(folder), **env}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "minilogin", *arguments, "--port", str(port)],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Instance(f"http://127.0.0.1:{port}", process, log)


def wait_until_serving(instance: Instance, path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if instance.process.poll() is not None:
            raise RuntimeError(f"{instance.url} exited:\n{instance.log.read_text()}")
        try:
            if httpx.get(f"{instance.url}{path}").is_success:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{instance.url} did not start:\n{instance.log.read_text()}")
        time.sleep(0.1)
