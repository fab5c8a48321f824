"""The benchmarks run: ``bench/run.py --quick`` runs every script in ``bench/`` in a tiny
configuration and each prints its table. Figures from such a run mean nothing, so nothing here
is timed; the real figures are in BENCHMARKS.md."""

from __future__ import annotations

import re

import pytest
from tests.support.bench import (
    MODES,
    QUICK_BROWSERS,
    QUICK_CONFIRMS,
    QUICK_LOGINS,
    ROOT,
    WAITING_ROW,
    bench,
    latency_rows,
)

# Every benchmark's quick run, one after another, each starting its own servers: on a machine
# shared with other suites that alone can take more than the suite's 300 s per test (a server
# process takes over 30 s to start when the two cores are shared by a dozen others).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def quick_run() -> str:
    done = bench("bench/run.py", "--quick")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_run_lists_every_benchmark_script() -> None:
    done = bench("bench/run.py", "--list")

    assert done.returncode == 0, done.stderr
    listed = {line.split()[0] for line in done.stdout.splitlines()}
    scripts = {
        path.stem for path in (ROOT / "bench").glob("*.py") if not path.stem.startswith("_")
    } - {"run", "common"}
    assert listed == scripts
    assert "push_latency" in listed


def test_run_runs_each_benchmark_and_reports_the_machine(quick_run: str) -> None:
    names = bench("bench/run.py", "--list").stdout.split("\n")
    for name in (line.split()[0] for line in names if line.strip()):
        assert f"=== {name}: ok" in quick_run
    assert re.search(r"^machine: .*\d+ cores \(\d+ usable\)", quick_run, re.MULTILINE)


def test_push_latency_prints_each_mode_beside_the_800_ms_poller(quick_run: str) -> None:
    rows = latency_rows(quick_run)

    assert set(rows) == set(MODES)
    for row in rows.values():
        assert int(row["n"]) == QUICK_LOGINS
        assert row["missed"] == "0"
        figures = [float(row[name]) for name in ("p50", "p90", "p99", "max")]
        assert figures == sorted(figures)
        assert figures[0] > 0
    poll = rows["poll every 800 ms"]
    assert (poll["vs50"], poll["vs99"]) == ("1", "1")
    assert "scene:    read via GET /demo/api/phone-url/{id}" in quick_run
    assert re.search(r"^poll every 800 ms .* \d+$", quick_run, re.MULTILINE), "codes made"
    assert "the WeChat sandbox in a process of its own" in quick_run
    assert re.search(
        r"^long poll +[\d.]+ +\d+ % +[\d.]+ +[\d.]+× +\d+ % +\d+ % +\d+ % +\d+$",
        quick_run,
        re.MULTILINE,
    ), "server CPU a login, in hello-worlds, beside the client's, the sandbox's and the others'"
    assert re.search(r"^  long poll: p99 [\d.]+ ms → (met|MISSED by [\d.]+ ms)$", quick_run, re.M)
    assert "goal (issue 17): push p99 ≤ 15 ms with 50 browsers waiting (here 3)" in quick_run
    assert re.search(r"^  \(a hello-world request's p99 in this run: [\d.]+ ms\)$", quick_run, re.M)
    assert "target (issue 2): push p99 < 20 ms" in quick_run


def test_every_benchmark_says_its_percentiles_are_over_successes_only(quick_run: str) -> None:
    assert "the percentiles are over these" in quick_run  # push_latency, waiting_browsers
    assert "the percentiles are over the completed logins only" in quick_run
    assert "the percentiles are over the creations that succeeded (n)" in quick_run


def test_waiting_browsers_prints_each_mode_with_its_misses(quick_run: str) -> None:
    rows = {row["mode"]: row for row in WAITING_ROW.finditer(quick_run)}

    assert set(rows) == set(MODES)
    for row in rows.values():
        assert (row["browsers"], row["n"], row["missed"]) == (
            str(QUICK_BROWSERS),
            str(QUICK_CONFIRMS),
            "0",
        )
    assert "missed (confirms that failed, or that the browser did not see), by reason: none" in (
        quick_run
    )
    assert re.search(r"\] SSE: prepared: 20/20 in \d+ s$", quick_run, re.MULTILINE)
    part = quick_run[quick_run.index("waiting_browsers: Waiting browsers") :]
    assert re.search(r"^baseline: a hello-world request costs the server [\d.]+ ms", part, re.M)
    assert re.search(r"^  goal \(issue 17\) p99 ≤ 30 ms \(SSE\): [\d.]+ ms → ", part, re.M)
    assert re.search(r"^  goal \(issue 17\) p99 ≤ 50 ms \(long poll\): [\d.]+ ms → ", part, re.M)
    waiting_only = re.findall(
        r"^(SSE|long poll|poll every 800 ms)\s+(\d+)\s+[\d.]+\s+([\d.]+)\s+\d+ %\s+(\S+)",
        part[part.index("only waiting") :],
        re.M,
    )
    assert [row[0] for row in waiting_only] == ["SSE", "long poll", "poll every 800 ms"]
    polls = waiting_only[2]
    assert float(polls[2]) > 0, "the 800 ms pollers ask while they wait"
    assert float(polls[3]) > 0, "and each request costs the server some CPU"


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--logins", "0"], "--logins and --browsers must be ≥ 1"),
        (["--rate", "0"], "--rate > 0"),
        (["--server-env", "DEBUG=1"], "--server-env takes MINILOGIN_NAME=VALUE"),
    ],
)
def test_push_latency_refuses_nonsense_settings(args: list[str], complaint: str) -> None:
    done = bench("bench/push_latency.py", *args)

    assert done.returncode == 2
    assert complaint in done.stderr


def test_soak_samples_the_servers_memory_beside_its_first_sample(quick_run: str) -> None:
    soak = quick_run[quick_run.index("soak: Soak:") :]
    soak = soak[: soak.index("=== soak")]
    rows = re.findall(r"^(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)×\s+(\S+)$", soak, re.M)
    assert len(rows) >= 3
    assert rows[0][4] == "1.000"
    logins = [int(row[1]) for row in rows]
    assert logins == sorted(logins)
    assert logins[-1] > 0
    assert re.search(r"^KiB added per 1000 logins: first half \S+, second half \S+$", soak, re.M)
    assert "failed, by reason: none" in soak


def test_server_cpu_prints_each_kind_of_work_in_hello_world_requests(quick_run: str) -> None:
    part = quick_run[quick_run.index("server_cpu: Server CPU") :]
    part = part[: part.index("=== server_cpu")]
    assert re.search(
        r"^baseline: a hello-world request costs the server [\d.]+ ms of CPU$", part, re.M
    )
    assert re.search(r"^          [\d.]+ ms sent back to back by RawHTTP", part, re.M)
    paced = r"^          [\d.]+ ms sent as the re-polls are, by RawHTTP \(5 connections, each"
    assert re.search(paced, part, re.M)
    rows = re.findall(
        r"^(code made|re-poll|creation|complete login)\s+(\d+)\s+[\d.]+\s+([\d.]+)\s+([\d.]+)×",
        part,
        re.M,
    )
    assert [row[0] for row in rows] == ["code made", "re-poll", "creation", "complete login"]
    assert all(int(n) > 0 for _, n, _, _ in rows)
    assert "  failed, by reason: none" in part
    assert re.search(r"^QR-login creation, back to back\s+20\s", part, re.M)
    assert re.search(r"^QR-login creation, 20/s\s+20\s", part, re.M)
    assert re.search(r"^hello-world, back to back\s+50\s", part, re.M)
    # A hello-world between each two steady creations, sent the same way: what they are judged by.
    assert re.search(r"^hello-world, 20/s\s+20\s", part, re.M)
    assert "  steady creations failed, by reason: none" in part
    # The pool is read before the first steady creation and after the last.
    sizes = re.search(
        r"^  the pool's size during the steady creations \(every 50\): (.+)$", part, re.M
    )
    assert sizes is not None
    assert re.fullmatch(r"\d+, \d+", sizes[1])
    goals = (
        "code making",
        "re-poll",
        r"creation p99 over HTTP, 20/s:",
        r"creation p99 over HTTP, 20/s, above the p99 of the hello-worlds between them"
        r" \([\d.]+ ms\):",
        "creation p99 over HTTP, back",
    )
    for goal in (*goals, "complete login"):
        assert re.search(rf"^  {goal}.*→ (met|MISSED by)", part, re.M)
    # The re-poll is judged against the hello-world sent as it is, the other shown beside it.
    assert re.search(r"^  re-poll, in hello-worlds sent as the re-polls are \(judged", part, re.M)
    assert re.search(r"^    in hello-worlds sent back to back by RawHTTP .*: [\d.]+×$", part, re.M)


def test_workers_compares_two_workers_with_one_in_logins_and_server_cpu(quick_run: str) -> None:
    part = quick_run[quick_run.index("workers: Workers:") :]
    part = part[: part.index("=== workers")]
    rows = re.findall(
        r"^serve --workers (\d)\s+(\d+)\s+([\d.]+)\s+([\d.]+)×\s+\S+\s+\S+\s+(\d+)"
        r"\s+\d+ %\s+([\d.]+)\s+([\d.]+)×",
        part,
        re.M,
    )

    assert [row[0] for row in rows] == ["1", "2"]
    for _, logins, _, _, failed, server_ms, _ in rows:
        assert int(logins) > 0
        assert failed == "0"
        assert float(server_ms) > 0
    assert rows[0][3] == "1.00"
    assert re.search(r"^baseline: a hello-world request costs the server [\d.]+ ms", part, re.M)
    assert re.search(
        r"^goal \(issue 17\): --workers 2 ≥ 1.8× the logins a second of --workers 1: "
        r"[\d.]+× → (met|MISSED by [\d.]+×)$",
        part,
        re.M,
    )
    ceiling = re.search(
        r"the machine's ceiling: (\d+) cores over the CPU a login costs everything on it "
        r"\(([\d.]+) ms,\s+of which the server ([\d.]+) ms\) = ([\d.]+) logins/s",
        part,
    )
    assert ceiling is not None
    cores, everything, server, most = map(float, ceiling.groups())
    assert 0 < server <= everything
    assert ceiling.group(3) == rows[1][5]
    assert most == pytest.approx(1000 * cores / everything, rel=0.01)


def test_workers_refuses_nonsense_settings() -> None:
    done = bench("bench/workers.py", "--workers", "1,0")

    assert done.returncode == 2
    assert "--workers, --clients and --users must be ≥ 1" in done.stderr


def test_login_round_trips_counts_what_a_login_asks_of_each_store(quick_run: str) -> None:
    part = quick_run[quick_run.index("login_round_trips: Store round trips") :]
    part = part[: part.index("=== login_round_trips")]
    transactions = re.search(r"^PostgreSQL transactions\s+([\d.]+)$", part, re.M)
    commands = re.search(r"^Redis commands\s+([\d.]+)$", part, re.M)

    assert transactions is not None
    assert float(transactions[1]) > 0
    assert commands is not None
    assert float(commands[1]) > 0
    assert re.search(r"^  get\s+[\d.]+$", part, re.M), "each command is listed"
