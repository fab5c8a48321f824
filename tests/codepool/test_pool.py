"""The code pool, as the browser, the phone and WeChat see it: logins are served codes made
earlier (WeChat's ``getwxacodeunlimit`` is not called per login), a code is shown by one login
ever (or, recycling, at a time, returning after a quarantine), the pool follows the load, a
new logo starts new codes while those on screen keep theirs, and the per-minute budget is never
exceeded: a dry pool then answers 503. Images live in the durable store, and go with their
codes.

WeChat calls are counted by the sandbox (``GET /_sandbox/wechat/stats``). Most tests stop the
background filler and run its passes by hand (``refill()``), so each count is exact; ``fill``
runs them as the filler's loop does, moving the test's clock on to each next code's time, so
the filler's pace shows as the clock time a fill takes.
"""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from redis.asyncio import Redis
from tests.conftest import PUBLIC, Clock, sandbox_settings
from tests.support.actors import Browser, BrowserLogin, Phone
from tests.support.redis_server import RedisServer, redis_server

from minilogin.codepool import CodePool, keys
from minilogin.codepool.keys import IMAGES_SWEPT
from minilogin.codepool.policy import (
    BUCKET,
    BUDGET_WINDOW,
    FILL_INTERVAL,
    MIN_FILL_RATE,
    PAGE_BACKOFF,
    SWEEP_INTERVAL,
    code_page,
    generation_key,
)
from minilogin.config import Settings
from minilogin.core.entities import IdentitySource
from minilogin.sandbox.app import create_sandbox_app
from minilogin.seed import DEMO_CONNECTION, DEMO_POOL, seed_demo
from minilogin.storage.sql.migrate import upgrade_async
from minilogin.wiring import Services, open_services

CODE_CALLS = "wxa/getwxacodeunlimit"


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """The suite's settings, with the pool settings a test names through ``indirect``."""
    overrides: dict[str, Any] = {"code_pool_min_size": 0, **getattr(request, "param", {})}
    return sandbox_settings(PUBLIC, tmp_path, **overrides)


def pool_settings(**values: Any) -> Any:
    return pytest.mark.parametrize("settings", [values], indirect=True, ids=["pool"])


def recycling(**values: Any) -> Any:
    """The ring of recycled codes, with these settings."""
    return pool_settings(code_pool_recycle=True, **values)


@pytest.fixture
async def by_hand(services: Services) -> Services:
    """The services with the background filler stopped: passes run when the test says."""
    await services.codepool.close()
    return services


async def code_calls(http: httpx.AsyncClient) -> int:
    response = await http.get(f"{PUBLIC}/_sandbox/wechat/stats")
    assert response.status_code == 200
    calls: int = response.json()["calls"].get(CODE_CALLS, 0)
    return calls


async def demo_source(services: Services) -> IdentitySource:
    pool = await services.pools.get_pool(DEMO_POOL)
    assert pool is not None
    source = await services.identity_sources.get_identity_source(pool.id, DEMO_CONNECTION)
    assert source is not None
    return source


async def scene_shown(browser: Browser, login: BrowserLogin) -> str:
    return (await browser.read_code(login))[1]


async def fill(pool: CodePool, clock: Clock) -> float:
    """The filler's passes as its loop runs them, on the test's clock: from one pass to the
    next the clock moves on to when the next code is due, until none is. The clock's seconds
    it took."""
    started = clock()
    while (due := await pool.refill()) is not None:
        clock.advance(max(0.0, due - clock()))
    return clock() - started


@pool_settings(code_pool_min_size=5)
async def test_a_warm_pool_serves_logins_without_calling_wechat(
    http: httpx.AsyncClient, browser: Browser, clock: Clock, by_hand: Services
) -> None:
    first = await browser.create()
    assert await code_calls(http) == 1  # the pool was empty: one code made on demand
    await fill(by_hand.codepool, clock)
    assert await code_calls(http) == 6  # five fresh codes besides the first login's own
    assert await by_hand.codepool.size(await demo_source(by_hand)) == 5

    logins = [first, *[await browser.create() for _ in range(5)]]
    scenes = [await scene_shown(browser, login) for login in logins]
    assert await code_calls(http) == 6  # five more logins and their images: no call
    assert len(set(scenes)) == 6  # each code is shown by one login only
    assert await by_hand.codepool.size(await demo_source(by_hand)) == 0


async def test_a_code_of_an_ended_login_never_reaches_a_later_login(
    http: httpx.AsyncClient, browser: Browser, phone: Phone, clock: Clock, by_hand: Services
) -> None:
    """The attack: photograph the code of a login, let it end, wait for a victim's login to
    start, then scan the photo. The scene is retired with its login, so the scan reaches the
    ended login (or nothing), never the victim's."""
    collected = await browser.create()
    appid, scene = await browser.read_code(collected)
    image = await by_hand.code_images.get_code_image(appid, scene)
    assert image is not None
    assert image.data
    cancelled = await http.delete(
        f"{browser.issuer}/api/qrcodes/{collected.id}", headers=collected.auth
    )
    assert cancelled.status_code == 204

    clock.advance(3600)  # long past any quarantine
    await fill(by_hand.codepool, clock)
    assert await by_hand.code_images.get_code_image(appid, scene) is None  # retired: image gone
    victims = [await browser.create() for _ in range(5)]
    assert scene not in [await scene_shown(browser, victim) for victim in victims]
    late = await phone.scan(appid, scene)
    assert late.status_code in (404, 409, 410)
    for victim in victims:
        assert (await browser.status(victim))["status"] == "pending"


async def test_ended_logins_images_are_deleted_together_by_a_later_pass_or_the_shutdown(
    http: httpx.AsyncClient, browser: Browser, clock: Clock, by_hand: Services
) -> None:
    """Not by each login's last request: the filler's first pass once the oldest has waited
    ``FILL_INTERVAL`` deletes them all; the shutdown deletes those still waiting. Meanwhile
    an ended login's code is not served."""
    ended = [await browser.create() for _ in range(3)]
    codes = [await browser.read_code(login) for login in ended]
    for login in ended[:2]:
        gone = await http.delete(f"{browser.issuer}/api/qrcodes/{login.id}", headers=login.auth)
        assert gone.status_code == 204
        clock.advance(FILL_INTERVAL / 4)

    async def stored() -> list[bool]:
        return [await by_hand.code_images.get_code_image(*code) is not None for code in codes]

    await by_hand.codepool.refill()
    assert await stored() == [True, True, True]
    image = await http.get(ended[0].image_url)
    assert image.status_code == 409
    assert image.json()["error"] == "qrlogin_cancelled"

    clock.advance(FILL_INTERVAL / 2)
    await by_hand.codepool.refill()
    assert await stored() == [False, False, True]

    gone = await http.delete(f"{browser.issuer}/api/qrcodes/{ended[2].id}", headers=ended[2].auth)
    assert gone.status_code == 204
    await by_hand.codepool.close()
    assert await stored() == [False, False, False]


@pool_settings(code_pool_min_size=1)
async def test_an_expired_logins_image_is_deleted_by_the_sweep(
    http: httpx.AsyncClient, browser: Browser, clock: Clock, by_hand: Services
) -> None:
    await fill(by_hand.codepool, clock)
    expired = await browser.create()  # takes the fresh code
    appid, scene = await browser.read_code(expired)
    source = await demo_source(by_hand)
    clock.advance(by_hand.codepool.hold(source) - 1)
    await by_hand.ephemeral.delete(IMAGES_SWEPT)  # a sweep interval has passed
    await by_hand.codepool.refill()
    assert await by_hand.code_images.get_code_image(appid, scene) is not None  # still its login's
    clock.advance(2)
    await by_hand.ephemeral.delete(IMAGES_SWEPT)
    await by_hand.codepool.refill()
    assert await by_hand.code_images.get_code_image(appid, scene) is None


@pool_settings(code_pool_min_size=1)
async def test_a_lease_leaves_the_database_alone_and_its_images_end_is_written_back_later(
    http: httpx.AsyncClient, browser: Browser, clock: Clock, by_hand: Services
) -> None:
    """The taken code's image is shortened to its login's end off the creation's path: by the
    filler's next pass, or by the shutdown when no pass came."""
    source = await demo_source(by_hand)
    await browser.create()  # the pool's first login: its code is made for it, and kept so long
    await fill(by_hand.codepool, clock)
    assert await by_hand.codepool.size(source) == 2  # one lease × 1.5 headroom
    past_its_login = datetime.fromtimestamp(clock() + by_hand.codepool.hold(source) + 1, UTC)
    assert await by_hand.code_images.delete_code_images_until(past_its_login) == 1

    taken = await browser.create()  # takes the fresh code, kept for a week until then
    appid, scene = await browser.read_code(taken)
    assert await by_hand.code_images.delete_code_images_until(past_its_login) == 0
    await by_hand.codepool.refill()
    assert await by_hand.code_images.delete_code_images_until(past_its_login) == 1
    assert await by_hand.code_images.get_code_image(appid, scene) is None

    await fill(by_hand.codepool, clock)
    taken = await browser.create()
    appid, scene = await browser.read_code(taken)
    await by_hand.codepool.close()  # shutting down before the filler's next pass
    past_its_login = datetime.fromtimestamp(clock() + by_hand.codepool.hold(source) + 1, UTC)
    assert await by_hand.code_images.delete_code_images_until(past_its_login) == 1
    assert await by_hand.code_images.get_code_image(appid, scene) is None


@pool_settings(code_pool_min_size=5, code_pool_fill_rate=10)
async def test_the_filler_fills_the_pool_in_the_background(
    http: httpx.AsyncClient, browser: Browser
) -> None:
    await browser.create()
    started = time.monotonic()
    deadline = started + 10
    while await code_calls(http) < 6:
        assert time.monotonic() < deadline, "the filler never filled the pool"
        await asyncio.sleep(0.01)
    took = time.monotonic() - started
    assert await code_calls(http) == 6
    # Five codes 0.1 s apart: the filler sleeps until each is due, not a whole interval.
    assert 4 / 10 <= took < FILL_INTERVAL


# Three seconds of quarantine leave a loaded machine time for the late scan inside it; the
# test looks for the scene with new logins, so the creation limit is off.
@recycling(code_pool_max_size=1, code_pool_quarantine=3, rate_limit_scale=0)
async def test_a_scene_is_lent_once_and_returns_after_the_quarantine(
    http: httpx.AsyncClient, browser: Browser, phone: Phone, by_hand: Services
) -> None:
    ended = await browser.create()
    appid, scene = await browser.read_code(ended)
    other = await browser.create()
    assert await scene_shown(browser, other) != scene  # lent out: a new code on demand

    cancel = await http.delete(f"{browser.issuer}/api/qrcodes/{ended.id}", headers=ended.auth)
    assert cancel.status_code == 204
    cancelled_at = time.monotonic()
    during = await browser.create()
    assert await scene_shown(browser, during) != scene  # quarantined
    # A photo of the old code reaches the login that ended, never a newer one.
    late = await phone.scan(appid, scene)
    assert late.status_code == 409
    assert late.json()["error"] == "qrlogin_cancelled"

    deadline = cancelled_at + 15
    while True:
        again = await browser.create()
        if await scene_shown(browser, again) == scene:
            break
        assert time.monotonic() < deadline, "the scene never came back"
        await asyncio.sleep(0.2)
    assert time.monotonic() - cancelled_at >= 3.0
    scanned = await phone.scan(appid, scene)
    assert scanned.status_code == 200, scanned.text
    assert (await browser.status(again))["status"] == "scanned"


@recycling(code_pool_max_size=1)
async def test_an_expired_login_keeps_its_scene_until_its_lease_runs_out(
    http: httpx.AsyncClient, browser: Browser, phone: Phone, clock: Clock, by_hand: Services
) -> None:
    expired = await browser.create()
    appid, scene = await browser.read_code(expired)
    clock.advance(expired.body["expires_in"] + 1)
    assert (await browser.status(expired))["status"] == "expired"
    newer = await browser.create()
    assert await scene_shown(browser, newer) != scene
    late = await phone.scan(appid, scene)
    assert late.status_code == 410
    assert late.json()["error"] == "qrlogin_expired"


@recycling(code_pool_max_size=12)
async def test_the_pool_follows_the_load(
    http: httpx.AsyncClient, browser: Browser, clock: Clock, by_hand: Services
) -> None:
    pool = by_hand.codepool
    await pool.refill()  # nothing leased yet: nothing made
    assert await code_calls(http) == 0
    for _ in range(2):
        await browser.create()
    source = await demo_source(by_hand)
    assert await pool.size(source) == 2  # made on demand, kept for later logins
    await fill(pool, clock)
    assert await pool.size(source) == 3  # 2 leases × 1.5 headroom
    for _ in range(4):
        await browser.create()  # one free code, three made on demand
    assert await code_calls(http) == 6
    await fill(pool, clock)
    assert await pool.size(source) == 9  # 6 leases × 1.5
    for _ in range(8):
        await browser.create()  # three free, five on demand of which three fit the maximum
    assert await pool.size(source) == 12
    assert await code_calls(http) == 14
    await fill(pool, clock)
    assert await pool.size(source) == 12  # bounded

    # A whole lease lifetime and a sweep interval later, the load has fallen to one login
    # (whose code is made on demand: all twelve are still lent out).
    clock.advance(pool.hold(source) + SWEEP_INTERVAL)
    await browser.create()
    assert await code_calls(http) == 15
    await fill(pool, clock)
    assert await pool.size(source) == 2  # 1 lease × 1.5, rounded up
    assert await code_calls(http) == 15


@recycling(code_pool_fill_rate=50)
async def test_the_filler_makes_codes_one_at_a_time_at_the_pace_of_the_load(
    http: httpx.AsyncClient, browser: Browser, clock: Clock, by_hand: Services
) -> None:
    pool = by_hand.codepool
    for _ in range(20):
        await browser.create()  # the pool starts empty: each code made on demand
    assert await code_calls(http) == 20
    clock.advance(10)  # 20 leases in (at least) 10 s: 1.5 × 2 a second = at most 3 codes a second
    started = clock()
    await pool.refill()
    await pool.refill()
    assert await code_calls(http) == 21  # one code, not the deficit of ten at once
    await fill(pool, clock)
    took = clock() - started
    assert await pool.size(await demo_source(by_hand)) == 30  # 20 leases × 1.5
    assert await code_calls(http) == 30
    # Ten codes, their starts at least a third of a second apart: slower than the 50 a second
    # the settings allow, and faster than the filler's floor.
    assert 9 / 3 <= took < 9 / MIN_FILL_RATE


@recycling(code_pool_min_size=40, code_pool_fill_rate=20)
async def test_a_pool_below_its_minimum_fills_at_the_fill_rate(
    http: httpx.AsyncClient, browser: Browser, clock: Clock, by_hand: Services
) -> None:
    await browser.create()  # one login: its load alone would ask for one code a second
    started = clock()
    await fill(by_hand.codepool, clock)
    took = clock() - started
    assert await by_hand.codepool.size(await demo_source(by_hand)) == 40
    assert await code_calls(http) == 40
    # 39 codes at 20 a second, not at the load's pace.
    assert 38 / 20 <= took < 38 / MIN_FILL_RATE


@pool_settings(code_pool_min_size=40, code_pool_fill_rate=40)
async def test_the_filler_makes_a_quarter_seconds_codes_together_none_before_its_turn(
    http: httpx.AsyncClient, browser: Browser, clock: Clock, by_hand: Services
) -> None:
    pool = by_hand.codepool
    await browser.create()  # made on demand: the pool's fresh codes are all the filler's
    made, calls, started = [], await code_calls(http), clock()
    while (due := await pool.refill()) is not None:
        made.append(await code_calls(http) - calls)
        calls += made[-1]
        clock.advance(max(0.0, due - clock()))
    made.append(await code_calls(http) - calls)
    took = clock() - started
    # The first code at once, as a pass after a quiet while always makes it; then the codes
    # that 40 a second spaces over a quarter of a second, ten a pass.
    assert [n for n in made if n] == [1, 10, 10, 10, 9]
    assert await pool.size(await demo_source(by_hand)) == 40
    # Each batch made when its last code is due: the 39 after the first no faster than 40 a
    # second.
    assert took >= 39 / 40


@pool_settings(code_pool_min_size=10, code_pool_fill_rate=40, code_pool_budget_per_minute=8)
async def test_the_codes_a_batch_made_before_the_budget_ran_out_are_kept(
    http: httpx.AsyncClient, browser: Browser, clock: Clock, by_hand: Services
) -> None:
    pool = by_hand.codepool
    clock.advance(BUDGET_WINDOW - clock() % BUDGET_WINDOW)  # the test runs in one budget minute
    await browser.create()  # one call on demand, of the minute's 8
    await fill(pool, clock)  # the filler's share is 4 a minute: its first code, then a batch
    assert await code_calls(http) == 4  # of nine that stopped at the third
    source = await demo_source(by_hand)
    assert await pool.size(source) == 3
    for _ in range(3):
        login = await browser.create()
        assert await scene_shown(browser, login)  # a code the pool kept, image and all
    assert await code_calls(http) == 4
    assert await pool.size(source) == 0


async def test_a_new_logo_makes_new_codes_and_the_codes_on_screen_keep_theirs(
    http: httpx.AsyncClient, browser: Browser, by_hand: Services
) -> None:
    shown = await browser.create()
    before = (await http.get(shown.image_url)).content
    source = await demo_source(by_hand)
    logo = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(logo, format="PNG")
    await by_hand.identity_sources.set_identity_source_logo(
        source.pool_id, source.unique_id, logo.getvalue()
    )

    fresh = await browser.create()
    assert await code_calls(http) == 2  # the new logo's pool starts empty
    after = (await http.get(fresh.image_url)).content
    assert after != before
    assert await scene_shown(browser, fresh) != await scene_shown(browser, shown)
    # The code already on screen is served as it was, logo and all.
    assert (await http.get(shown.image_url)).content == before
    assert await code_calls(http) == 2


@pytest.mark.parametrize(
    "settings",
    [
        {"code_pool_budget_per_minute": 2},
        {"code_pool_budget_per_minute": 2, "code_pool_recycle": True},
    ],
    indirect=True,
    ids=["single-use", "recycling"],
)
async def test_a_dry_pool_with_its_budget_spent_answers_503_and_never_shares_a_code(
    http: httpx.AsyncClient, browser: Browser, clock: Clock, by_hand: Services
) -> None:
    clock.advance(60 - clock() % 60 + 15)  # 15 s into a minute
    shown = [await scene_shown(browser, await browser.create()) for _ in range(2)]
    body = {"client_id": "demo", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}
    refused = await http.post(f"{browser.issuer}/api/qrcodes", json=body)
    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "45"  # when the budget's minute ends
    assert refused.json() == {
        "error": "temporarily_unavailable",
        "message": "服务繁忙，请稍后再试。",
    }
    english = await http.post(
        f"{browser.issuer}/api/qrcodes", json=body, headers={"Accept-Language": "en"}
    )
    assert (english.status_code, english.json()["error"]) == (503, "temporarily_unavailable")
    assert await code_calls(http) == 2
    assert len(set(shown)) == 2
    clock.advance(45)  # the next minute's budget
    assert await scene_shown(browser, await browser.create()) not in shown


async def test_wechat_failing_to_make_a_code_leaves_nothing_behind(
    http: httpx.AsyncClient, browser: Browser, by_hand: Services
) -> None:
    fault = {"path": CODE_CALLS, "errcode": -1, "times": 1}
    assert (await http.post(f"{PUBLIC}/_sandbox/wechat/faults", json=fault)).status_code == 200
    body = {"client_id": "demo", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}
    failed = await http.post(f"{browser.issuer}/api/qrcodes", json=body)
    assert failed.status_code == 424
    assert failed.json()["error"] == "wechat_busy"
    assert await by_hand.codepool.size(await demo_source(by_hand)) == 0
    working = await browser.create()
    assert await scene_shown(browser, working)
    # Made on demand for its login alone: the pool of fresh codes is still empty.
    assert await by_hand.codepool.size(await demo_source(by_hand)) == 0


# Several instances on one Redis -------------------------------------------------------------


@pytest.fixture(scope="module")
def redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture(params=[False, True], ids=["single-use", "recycling"])
async def two_instances(
    tmp_path: Path, redis: RedisServer, clock: Clock, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Services, Services]]:
    """Two instances' services on one Redis and one database, calling one WeChat sandbox, on
    the test's clock; single use, then recycling."""
    settings = sandbox_settings(
        PUBLIC,
        tmp_path,
        code_pool_recycle=request.param,
        redis_url=redis.url(),
        redis_prefix=f"codepool-{uuid.uuid4().hex[:8]}:",
        code_pool_min_size=10,
        code_pool_fill_rate=20,
    )
    await upgrade_async(settings.database_url)
    wechat = httpx.ASGITransport(app=create_sandbox_app(PUBLIC))
    first = await open_services(settings, wechat, clock)
    second = await open_services(settings, wechat, clock)
    for instance in (first, second):
        await instance.codepool.close()
    await seed_demo(first.pools, first.applications, first.identity_sources, settings)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def sandbox_code_calls(services: Services) -> int:
    reply = await services.wechat_http.get(f"{PUBLIC}/_sandbox/wechat/stats")
    calls: int = json.loads(reply.body)["calls"].get(CODE_CALLS, 0)
    return calls


async def test_instances_sharing_redis_share_one_pool_and_never_lend_a_scene_twice(
    two_instances: tuple[Services, Services], clock: Clock
) -> None:
    first, second = two_instances
    # Single use: the first two logins' codes are theirs alone; recycling: they join the ring.
    made_on_demand = 0 if first.codepool.recycles else 2
    source = await demo_source(first)
    await first.codepool.lease(source, "qrl_first")
    await second.codepool.lease(source, "qrl_second")
    # Both fill at once; one holds the generation's lock at a time, the other leaves it alone.
    await asyncio.gather(fill(first.codepool, clock), fill(second.codepool, clock))
    assert await first.codepool.size(source) == 10
    assert await sandbox_code_calls(first) == 10 + made_on_demand

    scenes = await asyncio.gather(
        *(
            instance.codepool.lease(source, f"qrl_{n}_{index}")
            for n in range(15)
            for index, instance in enumerate(two_instances)
        )
    )
    assert len(set(scenes)) == len(scenes) == 30
    if first.codepool.recycles:
        # The ring grew by the codes made on demand, every one of them kept for later logins.
        assert await sandbox_code_calls(first) == await second.codepool.size(source) >= 30
    else:
        # Ten fresh codes taken, twenty made on demand: every login its own.
        assert await sandbox_code_calls(first) == 2 + 30
        assert await second.codepool.size(source) == 0


async def test_instances_sharing_redis_keep_one_pace_between_them(
    two_instances: tuple[Services, Services], clock: Clock
) -> None:
    first, second = two_instances
    made_on_demand = 0 if first.codepool.recycles else 2
    source = await demo_source(first)
    await first.codepool.lease(source, "qrl_first")
    await second.codepool.lease(source, "qrl_second")
    started = clock()
    while True:
        # Both run a pass at the same moment; then the clock moves on to the next code's time.
        due = [await instance.codepool.refill() for instance in two_instances]
        if due == [None, None]:
            break
        clock.advance(max(0.0, min(when for when in due if when is not None) - clock()))
    took = clock() - started
    assert await first.codepool.size(source) == 10
    assert await sandbox_code_calls(first) == 10 + made_on_demand
    # Eight codes or more at 20 a second (below the minimum), however many instances fill.
    assert took >= 7 / 20


async def test_the_leases_each_instance_counts_add_up_in_the_shared_store(
    two_instances: tuple[Services, Services], clock: Clock
) -> None:
    first, second = two_instances
    source = await demo_source(first)
    generation = generation_key(source, first.mini_program(source).app_id, code_page(source))
    counter = keys.leases(generation, int(clock() // BUCKET))
    for n in range(3):
        await first.codepool.lease(source, f"qrl_first_{n}")
        await second.codepool.lease(source, f"qrl_second_{n}")
    assert await first.ephemeral.get(counter) is None  # counted in memory, not yet written
    await asyncio.gather(first.codepool.refill(), second.codepool.refill())
    assert await first.ephemeral.get(counter) == "6"
    await first.codepool.lease(source, "qrl_first_last")
    await first.codepool.refill()
    assert await second.ephemeral.get(counter) == "7"


async def test_redis_holds_only_the_pools_keys_and_the_images_are_in_the_database(
    two_instances: tuple[Services, Services], clock: Clock, redis: RedisServer
) -> None:
    first, second = two_instances
    source = await demo_source(first)
    scene = await first.codepool.lease(source, "qrl_first")
    await fill(first.codepool, clock)
    client = Redis.from_url(redis.url(), decode_responses=False)
    try:
        prefix = first.settings.redis_prefix.encode()
        largest = 0
        async for key in client.scan_iter(match=prefix + b"codepool:*"):
            if await client.type(key) == b"list":
                values = await client.lrange(key, 0, -1)
            else:
                values = [await client.get(key) or b""]
            largest = max(largest, *(len(value) for value in values))
        assert 0 < largest < 100  # scenes, counters and times: no image
    finally:
        await client.aclose()
    image = await second.code_images.get_code_image(first.mini_program(source).app_id, scene)
    assert image is not None
    assert image.content_type in ("image/png", "image/jpeg")
    assert len(image.data) > 1000


@recycling(code_pool_min_size=5, code_pool_max_size=2)
async def test_the_maximum_bounds_the_filler_whatever_the_minimum(
    http: httpx.AsyncClient, browser: Browser, by_hand: Services
) -> None:
    await browser.create()
    await by_hand.codepool.refill()
    await by_hand.codepool.refill()
    assert await by_hand.codepool.size(await demo_source(by_hand)) == 2
    assert await code_calls(http) == 2


@recycling(code_pool_min_size=3)
async def test_a_code_the_store_lost_is_made_again_by_the_sweep(
    http: httpx.AsyncClient, browser: Browser, clock: Clock, by_hand: Services
) -> None:
    await browser.create()
    await fill(by_hand.codepool, clock)
    assert await code_calls(http) == 3
    source = await demo_source(by_hand)
    generation = generation_key(source, by_hand.mini_program(source).app_id, code_page(source))
    await by_hand.ephemeral.delete(f"codepool:{generation}:slot:1")  # evicted, say
    await by_hand.codepool.refill()
    assert await code_calls(http) == 3  # the sweep is not due yet
    clock.advance(SWEEP_INTERVAL)
    await browser.create()  # the generation is in use
    await by_hand.codepool.refill()
    assert await code_calls(http) == 4
    assert await by_hand.codepool.size(source) == 3


# A page WeChat refuses (errcode 41030) --------------------------------------------------------

ADMIN_TOKEN = "admin-token-for-the-code-pool-tests"


@pool_settings(code_pool_min_size=2, admin_token=ADMIN_TOKEN)
async def test_a_page_wechat_refuses_is_a_configuration_error_shown_to_the_admin(
    http: httpx.AsyncClient,
    browser: Browser,
    clock: Clock,
    by_hand: Services,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """getUnlimitedQRCode answers 41030 when ``check_path`` is true and the released mini
    program has no such page: nothing is pooled, WeChat is not asked again before a back-off
    that doubles, the console says so once, and it clears when the page is corrected."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    url = f"{PUBLIC}/admin/api/pools/{DEMO_POOL}/connections/{DEMO_CONNECTION}"
    private = {
        "private_deployment": True,
        "app_id": "wx_private41030",
        "app_secret": "private-secret",
        "page": "pages/missing/missing",
    }
    changed = await http.patch(url, json=private, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["code_error"] is None
    source = await demo_source(by_hand)
    refuse = {"path": CODE_CALLS, "errcode": 41030, "times": 100}
    assert (await http.post(f"{PUBLIC}/_sandbox/wechat/faults", json=refuse)).status_code == 200

    body = {"client_id": "demo", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}
    with caplog.at_level("INFO", logger="minilogin.codepool"):
        refused = await http.post(f"{browser.issuer}/api/qrcodes", json=body)
        assert (refused.status_code, refused.json()["error"]) == (424, "wechat_invalid_page")
        assert refused.json()["message"].startswith("小程序码要打开的页面")
        assert await code_calls(http) == 1
        error = (await http.get(url, headers=admin)).json()["code_error"]
        assert error["error"] == "wechat_invalid_page"
        assert (error["page"], error["env_version"]) == ("pages/missing/missing", "release")

        # Within the back-off neither the filler nor a login asks WeChat again.
        await by_hand.codepool.refill()
        again = await http.post(f"{browser.issuer}/api/qrcodes", json=body)
        assert (again.status_code, again.json()["error"]) == (424, "wechat_invalid_page")
        assert await code_calls(http) == 1
        assert await by_hand.codepool.size(source) == 0

        clock.advance(PAGE_BACKOFF)  # past the first back-off: asked once more, refused
        await by_hand.codepool.refill()
        assert await code_calls(http) == 2
        clock.advance(PAGE_BACKOFF)  # the back-off doubled: not yet
        await by_hand.codepool.refill()
        assert await code_calls(http) == 2

        # The administrator corrects the page: the refusal no longer applies, codes are made.
        await http.delete(f"{PUBLIC}/_sandbox/wechat/faults")
        fixed = await http.patch(url, json={"page": "pages/login/login"}, headers=admin)
        assert fixed.json()["code_error"] is None
        assert (await http.post(f"{browser.issuer}/api/qrcodes", json=body)).status_code == 201
        await by_hand.codepool.refill()
        assert await by_hand.codepool.size(await demo_source(by_hand)) >= 1  # pooled again
    warnings = [
        r for r in caplog.records if r.levelname == "WARNING" and r.name == "minilogin.codepool"
    ]
    assert len(warnings) == 1
    assert "41030" in warnings[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)
