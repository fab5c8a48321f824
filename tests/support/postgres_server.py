"""A real PostgreSQL server for tests: a temporary cluster made with ``initdb``, started on a
free port, stopped and removed when the block ends. Nothing assumes one is running.

PostgreSQL refuses to run as root, and CI runs the tests as root: then the cluster belongs to
an unprivileged system user (``postgres``, which the server package creates, or
``minilogin-test``, which ``scripts/install-system-deps.sh`` creates when there is none) and
its programs run through ``runuser``. The cluster is tuned for throwaway data: no fsync, no
synchronous commit, no full-page writes.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from tests.support.server import free_port

BIN = Path(os.environ.get("MINILOGIN_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
SYSTEM_USERS = ("postgres", "minilogin-test")
SUPERUSER = "minilogin"


@dataclass(frozen=True)
class PostgresServer:
    port: int
    folder: Path
    run_as: str | None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` with ``psql`` as the superuser; its output."""
        result = subprocess.run(
            [
                *self._as_owner(),
                str(BIN / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                SUPERUSER,
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-Atc",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr}")
        return result.stdout

    @asynccontextmanager
    async def database(self) -> AsyncIterator[str]:
        """A new, empty database for one test; dropped afterwards (its connections too)."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        admin = await asyncpg.connect(self.dsn())
        try:
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 STRATEGY FILE_COPY')
        finally:
            await admin.close()
        try:
            yield self.url(name)
        finally:
            admin = await asyncpg.connect(self.dsn())
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()

    def dsn(self, database: str = "postgres") -> str:
        """The libpq form of the URL, for asyncpg itself."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _as_owner(self) -> list[str]:
        return [] if self.run_as is None else ["runuser", "-u", self.run_as, "--"]

    def stop(self) -> None:
        """Stop the server as an operator does (``pg_ctl stop``, fast: open sessions are
        ended); the cluster stays, for ``start``."""
        subprocess.run(
            [
                *self._as_owner(),
                str(BIN / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-m",
                "fast",
                "-w",
                "stop",
            ],
            capture_output=True,
            check=True,
        )

    def start(self, timeout: float = 30.0) -> None:
        """Start the cluster again, on the same port, and wait until it answers."""
        _pg_ctl_start(self, timeout)
        _wait_until_ready(self, timeout)


def _unprivileged_user() -> str | None:
    """Who owns the cluster: nobody special unless the tests run as root."""
    if os.geteuid() != 0:
        return None
    for name in SYSTEM_USERS:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError(
        "the tests run as root and no unprivileged user can own a PostgreSQL cluster: "
        "run scripts/install-system-deps.sh"
    )


@contextmanager
def postgres_server(start_timeout: float = 30.0) -> Iterator[PostgresServer]:
    """A fresh cluster listening on 127.0.0.1 with trust authentication for ``minilogin``."""
    if not (BIN / "initdb").exists():
        raise RuntimeError(f"PostgreSQL's programs are not in {BIN}: install postgresql-15")
    run_as = _unprivileged_user()
    # Not under pytest's tmp_path: its parents are private to root, and the cluster's owner
    # must be able to reach the folder.
    folder = Path(tempfile.mkdtemp(prefix="minilogin-pg-"))
    data = folder / "data"
    log = folder / "postgres.log"
    if run_as is not None:
        owner = pwd.getpwnam(run_as)
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    server = PostgresServer(free_port(), folder, run_as)
    as_owner = server._as_owner()
    try:
        subprocess.run(
            [
                *as_owner,
                str(BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            capture_output=True,
            check=True,
        )
        _pg_ctl_start(server, start_timeout)
    except subprocess.CalledProcessError as error:
        shutil.rmtree(folder, ignore_errors=True)
        details = error.stderr.decode(errors="replace") if error.stderr else ""
        if log.exists():
            details += log.read_text(errors="replace")
        raise RuntimeError(f"PostgreSQL did not start: {details}") from error
    try:
        _wait_until_ready(server, start_timeout)
        yield server
    finally:
        subprocess.run(
            [*as_owner, str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)


def _pg_ctl_start(server: PostgresServer, timeout: float) -> None:
    subprocess.run(
        [
            *server._as_owner(),
            str(BIN / "pg_ctl"),
            "-D",
            str(server.folder / "data"),
            "-l",
            str(server.folder / "postgres.log"),
            "-w",
            "-t",
            str(int(timeout)),
            "-o",
            " ".join(
                [
                    f"-p {server.port}",
                    "-c listen_addresses=127.0.0.1",
                    f"-c unix_socket_directories={server.folder}",
                    "-c fsync=off",
                    "-c synchronous_commit=off",
                    "-c full_page_writes=off",
                    "-c max_connections=300",
                ]
            ),
            "start",
        ],
        capture_output=True,
        check=True,
    )


def _wait_until_ready(server: PostgresServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            server.psql("SELECT 1")
            return
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
