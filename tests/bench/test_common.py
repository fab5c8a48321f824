"""``bench/common.py``'s reading of ``/proc``: a server of several processes (``serve
--workers N``: uvicorn's supervisor and its workers) is measured as the whole tree."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

from common import cpu_seconds, descendants, tree_cpu_seconds  # noqa: E402

#: A parent that starts a child which spends CPU, then both wait to be killed.
PARENT = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]])
print(child.pid, flush=True)
child.wait()
"""
CHILD = """
import time
started = time.process_time()
while time.process_time() - started < 0.3:
    pass
time.sleep(600)
"""


def test_a_process_tree_counts_the_cpu_of_the_processes_under_it() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, CHILD], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        deadline = time.monotonic() + 120
        while cpu_seconds(child) < 0.3 and time.monotonic() < deadline:
            time.sleep(0.1)

        assert descendants(parent.pid) == [child]
        assert cpu_seconds(child) >= 0.3
        assert tree_cpu_seconds(parent.pid) >= cpu_seconds(parent.pid) + cpu_seconds(child)
    finally:
        os.kill(child, signal.SIGKILL)
        parent.wait()


def test_a_process_without_children_is_its_own_tree() -> None:
    lone = subprocess.Popen(
        [sys.executable, "-c", "import time; print(flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE,
    )
    assert lone.stdout is not None
    lone.stdout.readline()  # started, and asleep from now on: its CPU no longer moves
    try:
        assert descendants(lone.pid) == []
        assert tree_cpu_seconds(lone.pid) == cpu_seconds(lone.pid)
    finally:
        lone.kill()
        lone.wait()
