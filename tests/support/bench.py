"""The benchmark scripts in ``bench/`` run as a user runs them, and the rows of the tables they
print, read back by the tests of ``tests/bench``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUICK_LOGINS = 6  # bench/push_latency.py's --quick configuration
QUICK_BROWSERS, QUICK_CONFIRMS = 20, 6  # bench/waiting_browsers.py's
MODES = ("long poll", "SSE", "poll every 800 ms")
ROW = re.compile(
    r"^(?P<mode>long poll|SSE|poll every 800 ms)\s+(?P<n>\d+)\s+(?P<missed>\d+)"
    r"\s+(?P<p50>[\d.]+)\s+(?P<p90>[\d.]+)\s+(?P<p99>[\d.]+)\s+(?P<max>[\d.]+)"
    r"\s+(?P<vs50>\d+)×\s+(?P<vs99>\d+)×\s",
    re.MULTILINE,
)
WAITING_ROW = re.compile(
    r"^(?P<mode>SSE|long poll|poll every 800 ms)\s+(?P<browsers>\d+)\s+(?P<n>\d+)"
    r"\s+(?P<missed>\d+)\s+(?P<p50>[\d.]+)\s",
    re.MULTILINE,
)


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    """``python *args`` from the repository's root, its output captured."""
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1500,
        check=False,
    )


def latency_rows(output: str) -> dict[str, re.Match[str]]:
    """``bench/push_latency.py``'s latency table, by mode."""
    return {row["mode"]: row for row in ROW.finditer(output)}
