"""``bench/push_latency.py`` beyond its quick run's defaults: the scene read from the code's PNG
after the pool was filled first, and recycled codes confirmed by the digits the PC shows. One
run with both settings serves both tests: each reads its own part of the same output."""

from __future__ import annotations

import pytest
from tests.support.bench import MODES, bench, latency_rows

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def recycled_codes_read_from_the_png() -> str:
    done = bench(
        "bench/push_latency.py",
        "--quick",
        "--scene-from",
        "png",
        "--prefill-codes",
        "5",
        "--server-env",
        "MINILOGIN_CODE_POOL_RECYCLE=true",
        "--server-env",
        "MINILOGIN_CODE_POOL_QUARANTINE=1",
        "--logins",
        "2",
        "--warmup",
        "0",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_push_latency_reads_the_png_after_prefilling_the_code_pool(
    recycled_codes_read_from_the_png: str,
) -> None:
    output = recycled_codes_read_from_the_png
    assert "the code's PNG decoded with zxing-cpp" in output
    assert "code pool: 5 codes made before measuring" in output
    assert "MINILOGIN_CODE_POOL_MIN_SIZE=5" in output
    rows = latency_rows(output)
    assert {mode: int(row["n"]) for mode, row in rows.items()} == dict.fromkeys(MODES, 2)


def test_push_latency_confirms_recycled_codes_by_the_digits_the_pc_shows(
    recycled_codes_read_from_the_png: str,
) -> None:
    output = recycled_codes_read_from_the_png
    assert "MINILOGIN_CODE_POOL_RECYCLE=true MINILOGIN_CODE_POOL_QUARANTINE=1" in output
    rows = latency_rows(output)
    assert {mode: (row["n"], row["missed"]) for mode, row in rows.items()} == dict.fromkeys(
        MODES, ("2", "0")
    )
