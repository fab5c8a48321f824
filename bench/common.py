"""What every benchmark in ``bench/`` shares: a real ``minilogin dev`` server process, the
machine it runs on, percentiles and the table they are printed in.

A benchmark is a script ``bench/<name>.py`` that ``bench/run.py`` finds and runs in its own
process. Its contract: the module docstring's first line is its title; it accepts ``--quick``
(a tiny configuration that finishes in seconds, used by the smoke test); it prints its settings,
the machine and its figures beside a baseline measured in the same run, then exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvloop

T = TypeVar("T")


def parser(doc: str | None) -> argparse.ArgumentParser:
    """The argument parser every benchmark starts from, titled by its module docstring."""
    description = (doc or "").strip()
    result = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    result.add_argument(
        "--quick",
        action="store_true",
        help="a tiny configuration that only shows the benchmark runs (figures meaningless)",
    )
    return result


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run the benchmark's client on uvloop, the loop the server uses, so that the client's own
    overhead stays as small as Python allows."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


# The machine ---------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def usable_cores() -> int:
    """The cores this process may run on (the affinity mask), which may be fewer than exist."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def machine() -> str:
    """One line saying what the figures were measured on."""
    memory = _memory_gib()
    parts = [
        _cpu_model(),
        f"{os.cpu_count()} cores ({usable_cores()} usable)",
        f"{memory:.0f} GiB RAM" if memory is not None else "",
        f"{platform.system()} {platform.release()}",
        f"Python {platform.python_version()}",
    ]
    return ", ".join(part for part in parts if part)


def _stat(pid: int) -> list[str]:
    # After the command's closing parenthesis (a command may hold spaces and parentheses).
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) that process ``pid`` has used so far."""
    fields = _stat(pid)
    # After the command, utime and stime are the 12th and 13th fields.
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """The processes ``pid`` started, and theirs, alive now (from each process's parent in
    ``/proc``): the workers of ``serve --workers N`` under uvicorn's supervisor."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int(_stat(int(entry.name))[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def tree_cpu_seconds(pid: int) -> float:
    """CPU time process ``pid`` and every process under it alive now have used so far: a
    server of several worker processes, all of them."""
    total = cpu_seconds(pid)
    for child in descendants(pid):
        with suppress(OSError):
            total += cpu_seconds(child)
    return total


def machine_cpu_seconds() -> float:
    """CPU time every process on the machine has used so far (the busy part of /proc/stat), to
    tell how much of a run's CPU went to processes other than the benchmark's."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class CpuUse:
    """Where the CPU went during a stretch of wall time (seconds of CPU; 1.0 = one core-second):
    the server, this client, the services beside the server (the WeChat sandbox, PostgreSQL,
    Redis: the ones the benchmark started), and every other process on the machine."""

    wall: float
    server: float
    client: float
    others: float
    beside: float = 0.0

    def share(self, seconds: float) -> str:
        """``seconds`` of CPU as a percentage of one core over the stretch."""
        return f"{100 * seconds / self.wall:.0f} %"


class CpuMeter:
    """Measures a server process (with the worker processes under it when ``tree``), this
    process, the services ``beside`` it (each process with the ones under it) and everything
    else on the machine, from its making to ``stop()``."""

    def __init__(self, server_pid: int, *, tree: bool = False, beside: Sequence[int] = ()) -> None:
        self.server_pid = server_pid
        self._server = tree_cpu_seconds if tree else cpu_seconds
        self._beside = tuple(beside)
        self._start = self._read()

    def _read(self) -> tuple[float, float, float, float, float]:
        return (
            time.perf_counter(),
            self._server(self.server_pid),
            time.process_time(),
            sum(map(tree_cpu_seconds, self._beside)),
            machine_cpu_seconds(),
        )

    def stop(self) -> CpuUse:
        wall, server, client, beside, machine_total = (
            end - start for end, start in zip(self._read(), self._start, strict=True)
        )
        others = max(0.0, machine_total - server - client - beside)
        return CpuUse(wall, server, client, others, beside)


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


# Figures -------------------------------------------------------------------------------------


def round_ratios(values: Sequence[float], baseline: Sequence[float]) -> str:
    """Each round's figure over the baseline's of the same round, as ``0.71× 0.68×``."""
    return " ".join(f"{value / base:.2f}×" for value, base in zip(values, baseline, strict=True))


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``q`` % of the values at
    or below it. No interpolation, so every figure printed is one that was measured."""
    if not values:
        raise ValueError("no values")
    if not 0 < q <= 100:
        raise ValueError("q must be in (0, 100]")
    ordered = sorted(values)
    rank = math.ceil(q / 100 * len(ordered))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class Summary:
    n: int
    p50: float
    p90: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        return cls(
            n=len(values),
            p50=percentile(values, 50),
            p90=percentile(values, 90),
            p99=percentile(values, 99),
            max=max(values),
        )


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: the first column left-aligned, the figures right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        aligned = [first.ljust(widths[0])]
        aligned += [cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True)]
        return "  ".join(aligned).rstrip()

    return "\n".join([line(headers), line(["-" * width for width in widths]), *map(line, rows)])


# The server ----------------------------------------------------------------------------------


#: Seconds a server gets to migrate, seed and answer (a cold start on a busy machine is slow:
#: importing minilogin alone took 86 s of wall time with a dozen test suites on two cores).
START_TIMEOUT = 300.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Server:
    """A running server process: ``minilogin dev``, the sandbox, or the hello-world."""

    public: str
    pid: int
    log: Path

    def issuer(self, pool: str = "demo") -> str:
        return f"{self.public}/pools/{pool}"


@contextmanager
def minilogin_dev(log_level: str = "warning", **env: str) -> Iterator[Server]:
    """``python -m minilogin dev`` on a free port with a fresh data folder, as an operator
    starts it; stopped, reaped and its folder removed when the block ends. ``env`` adds
    ``MINILOGIN_*`` settings. With ``BENCH_PROFILE`` set to a file, the server runs under
    cProfile and writes its profile there when it stops."""
    with tempfile.TemporaryDirectory(prefix="minilogin-bench-") as folder:
        data_dir = Path(folder)
        port = free_port()
        public = f"http://127.0.0.1:{port}"
        environment = {
            "MINILOGIN_DATA_DIR": str(data_dir),
            "MINILOGIN_PUBLIC_URL": public,
            # A benchmark is one address flooding the server: it measures the service, not
            # its rate limits (web/limits.py), which scale 0 turns off.
            "MINILOGIN_RATE_LIMIT_SCALE": "0",
            **env,
        }
        command = ["-m", "minilogin", "dev", "--port", str(port), "--log-level", log_level]
        if profile := os.environ.get("BENCH_PROFILE"):
            # The server's own profile, written when it stops: where its CPU went.
            command = ["-m", "cProfile", "-o", profile, *command]
        probe = "/pools/demo/.well-known/openid-configuration"
        with _serving(command, environment, data_dir, public, probe) as server:
            yield server


@contextmanager
def minilogin_serve(workers: int, log_level: str = "warning", **env: str) -> Iterator[Server]:
    """``python -m minilogin serve --workers N`` on a free port, as an operator runs it in
    production (no demo, no sandbox of its own: ``env`` names the database, Redis and the
    WeChat to use, and the database must already hold the demo pool, which ``minilogin dev``
    seeds); its CPU is the uvicorn supervisor's and its workers' (``tree_cpu_seconds``)."""
    with tempfile.TemporaryDirectory(prefix="minilogin-bench-serve-") as folder:
        port = free_port()
        public = f"http://127.0.0.1:{port}"
        environment = {
            "MINILOGIN_DATA_DIR": folder,
            "MINILOGIN_PUBLIC_URL": public,
            "MINILOGIN_RATE_LIMIT_SCALE": "0",
            **env,
        }
        command = ["-m", "minilogin", "serve", "--port", str(port), "--log-level", log_level]
        command += ["--workers", str(workers)]
        probe = "/pools/demo/.well-known/openid-configuration"
        with _serving(command, environment, Path(folder), public, probe) as server:
            yield server


def against(wechat: Server) -> dict[str, str]:
    """The setting that points a minilogin at the WeChat sandbox ``wechat`` (a process of its
    own, ``minilogin_sandbox``)."""
    return {"MINILOGIN_WECHAT_API_URL": f"{wechat.public}/_sandbox/wechat"}


@contextmanager
def minilogin_dev_and_sandbox(**env: str) -> Iterator[tuple[Server, Server]]:
    """The WeChat sandbox in a process of its own and ``minilogin dev`` pointed at it:
    ``(server, wechat)``. The server's CPU is never the sandbox's, as WeChat's never is."""
    with minilogin_sandbox() as wechat, minilogin_dev(**against(wechat), **env) as server:
        yield server, wechat


@contextmanager
def minilogin_sandbox() -> Iterator[Server]:
    """The WeChat sandbox in a process of its own (``python -m minilogin sandbox``), as an
    operator runs it beside minilogin: its CPU is never the server's."""
    with tempfile.TemporaryDirectory(prefix="minilogin-bench-sandbox-") as folder:
        port = free_port()
        public = f"http://127.0.0.1:{port}"
        command = ["-m", "minilogin", "sandbox", "--port", str(port), "--log-level", "warning"]
        with _serving(command, {}, Path(folder), public, "/_sandbox/wechat/stats") as server:
            yield server


@contextmanager
def hello_world() -> Iterator[Server]:
    """``bench/_hello.py``: a FastAPI hello-world under the uvicorn settings minilogin runs
    with, the unit the CPU figures are ratios to."""
    with tempfile.TemporaryDirectory(prefix="minilogin-bench-hello-") as folder:
        port = free_port()
        public = f"http://127.0.0.1:{port}"
        command = [str(Path(__file__).with_name("_hello.py")), str(port)]
        with _serving(command, {}, Path(folder), public, "/hello") as server:
            yield server


@contextmanager
def _serving(
    arguments: list[str], env: dict[str, str], folder: Path, public: str, probe: str
) -> Iterator[Server]:
    """``python *arguments`` with ``env`` added to this process's environment, its output in
    ``folder``, until ``public + probe`` answers; stopped and reaped when the block ends."""
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, *arguments],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_serving(process, public + probe, log, START_TIMEOUT)
        yield Server(public, process.pid, log)
    except BaseException:
        _stop(process)
        # The folder and its log go with the block: show what the server said first.
        sys.stderr.write(f"--- server log ({log}) ---\n{_tail(log)}\n")
        raise
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    if os.environ.get("BENCH_PROFILE"):
        # uvicorn ends by raising the signal it caught again: SIGTERM would then kill the
        # process before cProfile writes, where SIGINT's KeyboardInterrupt lets it.
        process.send_signal(signal.SIGINT)
    else:
        process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _tail(log: Path, characters: int = 20_000) -> str:
    text = log.read_text(errors="replace")
    return text[-characters:]


def _wait_until_serving(
    process: subprocess.Popen[bytes], probe: str, log: Path, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text()}")
        try:
            if httpx.get(probe).is_success:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start in {timeout:.0f} s:\n{log.read_text()}")
        time.sleep(0.1)


# Arguments and the heading ---------------------------------------------------------------------

QUICK_NOTE = "QUICK RUN: a tiny configuration to show the benchmark works; figures are meaningless"


def parse(p: argparse.ArgumentParser, quick: Mapping[str, Any]) -> argparse.Namespace:
    """``p``'s arguments; under ``--quick`` the values of ``quick`` are the defaults (what the
    command line names itself still wins)."""
    args = p.parse_args()
    if args.quick:
        p.set_defaults(**quick)
        args = p.parse_args()
    return args


def say_if_quick(args: argparse.Namespace) -> None:
    """The heading's warning that a quick run's figures mean nothing."""
    if args.quick:
        print(QUICK_NOTE)
