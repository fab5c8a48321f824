"""``bench/waiting_browsers.py`` when WeChat fails some confirms: counted, and the run goes on.
On the embedded stores (``--sqlite``): what is counted does not depend on the store, and the
quick run of ``test_bench_scripts.py`` already drives it on PostgreSQL and Redis."""

from __future__ import annotations

import pytest
from tests.support.bench import MODES, QUICK_CONFIRMS, WAITING_ROW, bench

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def test_waiting_browsers_counts_failed_confirms_and_goes_on() -> None:
    done = bench("bench/waiting_browsers.py", "--quick", "--sqlite", "--fail-phone-calls", "2")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "SQLite file, in-process ephemeral store" in done.stdout
    rows = {row["mode"]: row for row in WAITING_ROW.finditer(done.stdout)}
    assert set(rows) == set(MODES)
    # The first mode's first two confirms fail (WeChat busy: 424); every other one is seen.
    assert (rows["SSE"]["n"], rows["SSE"]["missed"]) == (str(QUICK_CONFIRMS - 2), "2")
    assert "    SSE: confirm 424 wechat_busy: 2" in done.stdout
    for mode in ("long poll", "poll every 800 ms"):
        assert (rows[mode]["n"], rows[mode]["missed"]) == (str(QUICK_CONFIRMS), "0")
