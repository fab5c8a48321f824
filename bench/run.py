"""Run every benchmark in ``bench/``: the one command that reproduces BENCHMARKS.md.

Each benchmark is a script ``bench/<name>.py`` (see ``common.py`` for its contract); adding a
file is all it takes for this command to run it. They run one after another, each in its own
process, so that one benchmark's server, event loop and memory can't colour the next one's
figures. Arguments after ``--`` go to every benchmark; ``--quick`` runs each in a tiny
configuration that only shows it works.

    .venv/bin/python bench/run.py                      # everything, default settings
    .venv/bin/python bench/run.py --only push_latency -- --logins 400
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from common import machine

BENCH = Path(__file__).resolve().parent
#: Files in bench/ that are not benchmarks.
NOT_BENCHMARKS = {"run", "common"}


def discover() -> dict[str, Path]:
    """Every benchmark script in ``bench/``, by name, in a stable order."""
    return {
        path.stem: path
        for path in sorted(BENCH.glob("*.py"))
        if path.stem not in NOT_BENCHMARKS and not path.stem.startswith("_")
    }


def title(path: Path) -> str:
    """The first line of a script's docstring, read without importing it."""
    for line in path.read_text().splitlines():
        text = line.strip().strip('"').strip()
        if text:
            return text
    return path.stem


def arguments(known: dict[str, Path]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").splitlines()[0],
        epilog="Arguments after -- are passed to every benchmark.",
    )
    parser.add_argument("--list", action="store_true", help="list the benchmarks and stop")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(known),
        metavar="NAME",
        help="run only this benchmark (repeatable)",
    )
    parser.add_argument("--quick", action="store_true", help="tiny configurations (a smoke run)")
    argv = sys.argv[1:]
    passed_on: list[str] = []
    if "--" in argv:
        split = argv.index("--")
        argv, passed_on = argv[:split], argv[split + 1 :]
    return parser.parse_args(argv), passed_on


def main() -> int:
    known = discover()
    args, passed_on = arguments(known)
    if args.list:
        for name, path in known.items():
            print(f"{name:20s} {title(path)}")
        return 0
    chosen = args.only or list(known)
    extra = [*(["--quick"] if args.quick else []), *passed_on]

    print(f"minilogin benchmarks · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"command:  {shlex.join(['python', 'bench/run.py', *sys.argv[1:]])}")
    print(f"machine:  {machine()}")
    failed = []
    for name in chosen:
        command = [sys.executable, str(known[name]), *extra]
        print(f"\n=== {name} ({shlex.join(['python', f'bench/{name}.py', *extra])})", flush=True)
        started = time.monotonic()
        returncode = subprocess.run(command, check=False).returncode
        took = time.monotonic() - started
        print(f"=== {name}: {'ok' if returncode == 0 else f'FAILED ({returncode})'}, {took:.0f} s")
        if returncode != 0:
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
