"""The code pool's rules, checked directly: no store, no WeChat, no clock but the numbers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from minilogin.codepool import policy
from minilogin.codepool.policy import (
    BATCH_SPAN,
    BUCKET,
    MAX_BATCH,
    MIN_FILL_RATE,
    PAGE_BACKOFF,
    PAGE_BACKOFF_MAX,
    RATE_SPAN_MIN,
    RETENTION,
    SWEEP_INTERVAL,
    Demand,
    FillPlan,
    PageError,
    PoolSettings,
    Slot,
)
from minilogin.core.entities import EnvVersion, IdentitySource
from minilogin.core.qrlogin import CODE_LIFETIME

SETTINGS = PoolSettings(
    recycle=False,
    quarantine=600.0,
    min_size=2,
    max_size=50,
    headroom=1.5,
    fill_rate=20.0,
    budget_per_minute=4000,
)


def source(**values: object) -> IdentitySource:
    fields: dict[str, object] = {"pool_id": "pool-1", "unique_id": "wechat", "display_name": "W"}
    return IdentitySource(**{**fields, **values})


def test_a_lease_outlives_the_login_its_code_and_the_quarantine() -> None:
    assert policy.hold(SETTINGS, 120, 300.0) == 120 + CODE_LIFETIME + 600 + 1
    # A quarantine shorter than the scene index of an expired login lives on is stretched.
    short = replace(SETTINGS, quarantine=10.0)
    assert policy.hold(short, 120, 300.0) == 120 + CODE_LIFETIME + 300 + 1


def test_codes_of_one_generation_share_app_page_version_source_and_logo() -> None:
    base = source()
    key = policy.generation_key(base, "wx1", None)

    assert policy.generation_key(source(), "wx1", None) == key
    changed = [
        policy.generation_key(base, "wx2", None),
        policy.generation_key(base, "wx1", "pages/other"),
        policy.generation_key(source(env_version=EnvVersion.TRIAL), "wx1", None),
        policy.generation_key(source(unique_id="other"), "wx1", None),
        policy.generation_key(source(pool_id="pool-2"), "wx1", None),
        policy.generation_key(source(logo_version=1), "wx1", None),
    ]
    assert key not in changed
    assert len(set(changed)) == len(changed)


def test_only_a_private_deployment_opens_its_own_page() -> None:
    assert policy.code_page(source(page="pages/a")) is None
    assert policy.code_page(source(page="pages/a", private_deployment=True)) == "pages/a"


def test_the_target_follows_the_leases_of_a_lease_lifetime_within_the_bounds() -> None:
    now = 100 * BUCKET + 30  # half a minute into bucket 100
    hold = 3 * BUCKET
    first, last = policy.lease_buckets(now, hold)
    assert (first, last) == (98, 100)

    counts = {97: 1000, 98: 4, 99: 6, 100: 2}  # 97 is older than a lease lifetime
    load = policy.demand(SETTINGS, counts, now, hold, first_used=0.0)
    assert load.target == 18  # (4 + 6 + 2) * 1.5
    assert load.lease_rate == pytest.approx((6 + 2) / (BUCKET + 30))

    assert policy.demand(SETTINGS, {}, now, hold, 0.0).target == SETTINGS.min_size
    busy = {98: 100, 99: 100, 100: 100}
    assert policy.demand(SETTINGS, busy, now, hold, 0.0).target == SETTINGS.max_size


def test_a_short_lease_lifetime_still_reads_the_previous_bucket_for_the_rate() -> None:
    now = 10 * BUCKET + 1
    assert policy.lease_buckets(now, 5.0) == (9, 10)
    load = policy.demand(SETTINGS, {9: 30, 10: 3}, now, 5.0, first_used=0.0)
    assert load.target == 5  # only the current bucket is within the lifetime: ceil(3 * 1.5)
    assert load.lease_rate == pytest.approx(33 / (BUCKET + 1))


def test_a_server_that_just_started_spreads_leases_over_no_less_than_the_minimum_span() -> None:
    now = 10 * BUCKET + 50
    started = now - 1.0
    load = policy.demand(SETTINGS, {10: 10}, now, 300.0, first_used=started)
    assert load.lease_rate == pytest.approx(10 / RATE_SPAN_MIN)


def test_the_pace_is_the_ceiling_below_the_minimum_else_the_headroom_over_the_load() -> None:
    quiet, busy, surge = Demand(10, 0.1), Demand(10, 4.0), Demand(10, 100.0)

    assert policy.pace(SETTINGS, quiet, size=1) == SETTINGS.fill_rate  # below min_size
    assert policy.pace(SETTINGS, quiet, size=5) == MIN_FILL_RATE
    assert policy.pace(SETTINGS, busy, size=5) == pytest.approx(6.0)
    assert policy.pace(SETTINGS, surge, size=5) == SETTINGS.fill_rate


def test_a_batch_is_the_codes_the_pace_spaces_over_its_span_within_the_deficit() -> None:
    assert policy.batch(40.0, deficit=100) == int(40.0 * BATCH_SPAN) == 10
    assert policy.batch(40.0, deficit=3) == 3
    assert policy.batch(40.0, deficit=0) == 1  # the code after a full pool's, as before
    assert policy.batch(3.0, deficit=100) == 1  # a slow pace: one code at a time
    assert policy.batch(10_000.0, deficit=10_000) == MAX_BATCH


def test_a_fill_plan_reads_back_as_written() -> None:
    plan = FillPlan(1_700_000_000.123456, 7)
    assert FillPlan.parse(plan.dump()) == plan


def test_the_filler_spends_its_share_of_the_budget_and_at_least_one_call() -> None:
    assert policy.filler_budget(SETTINGS) == 2000
    assert policy.filler_budget(replace(SETTINGS, budget_per_minute=1)) == 1


def test_a_dry_pool_says_when_the_budgets_minute_ends() -> None:
    assert policy.budget_window(125.0) == 2
    assert policy.dry_retry_after(125.0) == 55
    assert policy.dry_retry_after(179.5) == 1
    assert policy.dry_retry_after(180.0) == 60


def test_codes_are_retired_renewed_and_swept_on_their_age() -> None:
    assert not policy.too_old_to_lend(made_at=0.0, now=RETENTION / 2)
    assert policy.too_old_to_lend(made_at=0.0, now=RETENTION / 2 + 1)
    assert not policy.renews(made_at=0.0, now=RETENTION / 2 - 1)
    assert policy.renews(made_at=0.0, now=RETENTION / 2)
    assert policy.sweep_due(None, 0.0)
    assert not policy.sweep_due(100.0, 100.0 + SWEEP_INTERVAL - 1)
    assert policy.sweep_due(100.0, 100.0 + SWEEP_INTERVAL)


def test_a_ring_shrinks_only_far_beyond_a_target_watched_a_whole_lifetime() -> None:
    assert policy.shrinks(measured_for=900.0, hold_seconds=900.0, size=21, target=10)
    assert not policy.shrinks(measured_for=900.0, hold_seconds=900.0, size=20, target=10)
    assert not policy.shrinks(measured_for=899.0, hold_seconds=900.0, size=100, target=10)


def test_a_slot_reads_back_as_written() -> None:
    slot = Slot("abc123", 1_700_000_000.25)
    assert Slot.parse(slot.dump()) == slot
    assert Slot.parse("legacy") == Slot("legacy", 0.0)


def test_a_refused_page_backs_off_doubling_up_to_the_maximum() -> None:
    private = source(private_deployment=True, page="pages/login/login")
    first = policy.refused(private, "wx1", "invalid page", None, now=1000.0)
    assert (first.failures, first.since, first.retry_at) == (1, 1000.0, 1000.0 + PAGE_BACKOFF)
    assert first.page == "pages/login/login"
    assert first.holds(1000.0 + PAGE_BACKOFF - 1)
    assert not first.holds(1000.0 + PAGE_BACKOFF)

    second = policy.refused(private, "wx1", "invalid page", first, now=2000.0)
    assert (second.failures, second.since) == (2, 1000.0)
    assert second.retry_at == 2000.0 + 2 * PAGE_BACKOFF

    many = replace(second, failures=20)
    assert policy.refused(private, "wx1", "x", many, now=0.0).retry_at == PAGE_BACKOFF_MAX


def test_a_refusal_names_only_the_page_the_source_asks_for_now() -> None:
    private = source(private_deployment=True, page="pages/a")
    refusal = policy.refused(private, "wx1", "invalid page", None, now=0.0)

    assert PageError.parse(refusal.dump()) == refusal
    assert refusal.names(private, "wx1")
    assert not refusal.names(private, "wx2")
    assert not refusal.names(source(private_deployment=True, page="pages/b"), "wx1")
    assert not refusal.names(replace(private, env_version=EnvVersion.TRIAL), "wx1")
