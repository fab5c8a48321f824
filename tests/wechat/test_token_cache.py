"""The access-token cache against the sandbox: one token per mini program shared through the
ephemeral store, refreshed before it expires, one refresh in flight however many ask."""

from __future__ import annotations

import asyncio
import json

import pytest

from minilogin.storage.ephemeral.memory import MemoryStore
from minilogin.wechat.client import WeChatClient
from minilogin.wechat.errors import WeChatError
from minilogin.wechat.token_cache import AccessTokenCache, CachedToken, lock_key, token_key
from minilogin.wechat.types import MiniProgram

BASE = "http://sandbox.test/_sandbox/wechat"


async def test_a_token_is_fetched_once_and_kept_in_the_store(
    tokens, program, store, wx, clock
) -> None:
    first = await tokens.get(program)
    second = await tokens.get(program)

    assert token_key(program).startswith(f"wechat:token:{program.app_id}:")
    assert program.app_secret not in token_key(program)
    cached = json.loads(await store.get(token_key(program)))
    assert first == second == cached["token"]
    assert cached["expires_at"] == clock() + 7200
    assert tokens.fetches == 1
    assert await wx.calls("cgi-bin/stable_token") == 1


async def test_the_cached_entry_lives_as_long_as_the_token(tokens, program, store, clock) -> None:
    await tokens.get(program)
    clock.advance(7200)

    assert await store.get(token_key(program)) is None


async def test_many_concurrent_callers_cause_one_fetch(tokens, program, wx) -> None:
    await wx.fault("cgi-bin/stable_token", 0, delay_ms=50)

    got = await asyncio.gather(*(tokens.get(program) for _ in range(50)))

    assert len(set(got)) == 1
    assert tokens.fetches == 1
    assert await wx.calls("cgi-bin/stable_token") == 1


async def test_instances_sharing_a_store_fetch_once_between_them(
    store, transport, program, wx, clock
) -> None:
    instances = [
        AccessTokenCache(store, transport, BASE, clock=clock, poll_interval=0.01) for _ in range(3)
    ]
    await wx.fault("cgi-bin/stable_token", 0, delay_ms=100)

    got = await asyncio.gather(*(cache.get(program) for cache in instances for _ in range(5)))

    assert len(set(got)) == 1
    assert sum(cache.fetches for cache in instances) == 1
    assert await wx.calls("cgi-bin/stable_token") == 1


async def test_a_token_is_refreshed_before_it_expires(tokens, program, clock, client, wx) -> None:
    first = await tokens.get(program)
    clock.advance(7200 - 300 - 1)
    assert await tokens.get(program) == first
    assert tokens.fetches == 1

    clock.advance(1)
    second = await tokens.get(program)

    assert second != first
    assert tokens.fetches == 2
    assert await client.get_phone_number(program, await wx.phone_code())


async def test_the_refresh_margin_is_configurable(store, transport, program, clock) -> None:
    cache = AccessTokenCache(store, transport, BASE, clock=clock, refresh_margin=600)
    await cache.get(program)
    clock.advance(7200 - 600)

    await cache.get(program)

    assert cache.fetches == 2


class CountingStore(MemoryStore):
    """Counts the reads of each key."""

    def __init__(self, clock) -> None:
        super().__init__(clock=clock)
        self.reads: dict[str, int] = {}

    async def get(self, key: str) -> str | None:
        self.reads[key] = self.reads.get(key, 0) + 1
        return await super().get(key)


async def test_a_held_token_answers_without_the_store_until_it_is_due(
    transport, program, clock
) -> None:
    store = CountingStore(clock)
    cache = AccessTokenCache(store, transport, BASE, clock=clock)
    key = token_key(program)
    first = await cache.get(program)
    read = store.reads[key]

    clock.advance(7200 - 300 - 1)
    assert [await cache.get(program) for _ in range(3)] == [first] * 3
    assert store.reads[key] == read

    clock.advance(1)  # due: the store is asked, then WeChat
    second = await cache.get(program)
    assert second != first
    assert store.reads[key] > read
    assert cache.fetches == 2


async def test_a_token_another_instance_replaced_costs_this_one_a_refused_call(
    store, transport, program, clock, http, wx
) -> None:
    """Another instance holds the old token until WeChat refuses it there too; then it takes
    the current one from the store, asking WeChat for no token."""
    here, there = (AccessTokenCache(store, transport, BASE, clock=clock) for _ in range(2))
    old = await here.get(program)
    assert await there.get(program) == old
    theirs = await force_refresh(http, program)  # another system sharing the AppID

    await WeChatClient(transport, BASE, here).get_phone_number(program, await wx.phone_code())
    assert await here.get(program) == theirs
    await WeChatClient(transport, BASE, there).get_phone_number(program, await wx.phone_code())

    assert await there.get(program) == theirs
    assert (here.fetches, there.fetches) == (2, 0)
    assert await wx.calls("wxa/business/getuserphonenumber") == 4


async def test_an_expired_or_damaged_entry_is_replaced(tokens, program, store, clock) -> None:
    await store.set(token_key(program), "{not json", 60)
    await tokens.get(program)
    assert tokens.fetches == 1

    clock.advance(7200)
    await tokens.get(program)

    assert tokens.fetches == 2


async def force_refresh(http, program: MiniProgram) -> str:
    """What another system sharing the AppID does: a forced refresh of its own."""
    answer = await http.post(
        "/_sandbox/wechat/cgi-bin/stable_token",
        json={
            "grant_type": "client_credential",
            "appid": program.app_id,
            "secret": program.app_secret,
            "force_refresh": True,
        },
    )
    token: str = answer.json()["access_token"]
    return token


async def test_a_token_another_system_replaced_is_recovered_in_normal_mode(
    tokens, program, http
) -> None:
    # getStableAccessToken: normal mode returns the valid token, whoever refreshed it; a forced
    # refresh would invalidate the other system's token in turn (a "token war").
    old = await tokens.get(program)
    theirs = await force_refresh(http, program)

    new = await tokens.get(program, rejected=old)

    assert new == theirs
    assert (tokens.fetches, tokens.forced) == (2, 0)
    used = await http.post(
        "/_sandbox/wechat/wxa/getwxacodeunlimit",
        params={"access_token": theirs},
        json={"scene": "abc", "check_path": False},
    )
    assert used.headers["content-type"] == "image/jpeg"


async def test_a_rejected_token_that_wechat_still_answers_is_force_refreshed(
    tokens, program, http
) -> None:
    old = await tokens.get(program)

    new = await tokens.get(program, rejected=old)

    assert new != old
    assert (tokens.fetches, tokens.forced) == (3, 1)
    used = await http.post(
        "/_sandbox/wechat/wxa/getwxacodeunlimit",
        params={"access_token": old},
        json={"scene": "abc", "check_path": False},
    )
    assert used.json()["errcode"] == 40001


async def test_a_rejected_token_is_never_served_from_the_cache(tokens, program, store, wx) -> None:
    old = await tokens.get(program)
    await wx.fault("cgi-bin/stable_token", -1)

    with pytest.raises(WeChatError):
        await tokens.get(program, rejected=old)

    assert CachedToken.load(await store.get(token_key(program))) is None
    assert await tokens.get(program) != old


async def test_concurrent_rejections_replace_the_token_once(tokens, program, wx) -> None:
    old = await tokens.get(program)
    await wx.fault("cgi-bin/stable_token", 0, delay_ms=50)

    got = await asyncio.gather(*(tokens.get(program, rejected=old) for _ in range(20)))

    assert len(set(got)) == 1
    assert got[0] != old
    assert (tokens.fetches, tokens.forced) == (3, 1)


async def test_a_rejection_of_an_already_replaced_token_asks_nobody(tokens, program) -> None:
    old = await tokens.get(program)
    new = await tokens.get(program, rejected=old)

    again = await tokens.get(program, rejected=old)

    assert again == new
    assert tokens.fetches == 3


async def test_forced_refreshes_are_spaced_30_seconds(tokens, program, clock) -> None:
    first = await tokens.get(program, rejected=await tokens.get(program))
    clock.advance(10)

    with pytest.raises(WeChatError) as caught:
        await tokens.get(program, rejected=first)
    clock.advance(20)
    second = await tokens.get(program, rejected=first)

    assert caught.value.code == "wechat_token_refresh_limited"
    assert caught.value.retryable
    assert second not in (first, None)
    assert tokens.forced == 2


async def test_forced_refreshes_stop_at_20_a_day(tokens, program, clock) -> None:
    clock.advance(86400 - clock() % 86400)  # the start of a day
    token = await tokens.get(program)
    for _ in range(20):
        token = await tokens.get(program, rejected=token)
        clock.advance(31)

    with pytest.raises(WeChatError) as caught:
        await tokens.get(program, rejected=token)

    assert caught.value.code == "wechat_token_refresh_limited"
    assert tokens.forced == 20


async def test_an_instance_waits_for_the_one_holding_the_lock(
    tokens, program, store, clock
) -> None:
    await store.add(lock_key(program), "another-instance", 15)
    waiting = asyncio.create_task(tokens.get(program))
    await asyncio.sleep(0.05)
    assert not waiting.done()

    entry = {"token": "from-the-other-instance", "expires_at": clock() + 7200}
    entry["refresh_at"] = entry["expires_at"] - 300
    await store.set(token_key(program), json.dumps(entry), 7200)

    assert await waiting == "from-the-other-instance"
    assert tokens.fetches == 0


async def test_a_lock_left_behind_does_not_stop_the_refresh(tokens, program, store) -> None:
    lock = lock_key(program)
    await store.add(lock, "an-instance-that-died", 15)
    waiting = asyncio.create_task(tokens.get(program))
    await asyncio.sleep(0.05)

    await store.delete(lock)  # what the lock's time to live does in the end

    assert await waiting
    assert tokens.fetches == 1
    assert await store.get(lock) is None


async def test_a_live_token_serves_while_another_instance_refreshes(
    tokens, program, store, clock
) -> None:
    current = await tokens.get(program)
    clock.advance(7200 - 100)  # due for a refresh, still alive
    await store.add(lock_key(program), "another-instance", 15)

    assert await tokens.get(program) == current
    assert tokens.fetches == 1


async def test_a_failed_refresh_fails_every_waiter_with_one_call(tokens, program, wx) -> None:
    await wx.fault("cgi-bin/stable_token", -1, delay_ms=50)

    results = await asyncio.gather(
        *(tokens.get(program) for _ in range(10)), return_exceptions=True
    )

    assert all(isinstance(r, WeChatError) and r.code == "wechat_busy" for r in results)
    assert await wx.calls("cgi-bin/stable_token") == 1
    assert await tokens.get(program)


async def test_a_wrong_secret_is_refused_while_the_right_ones_token_is_cached(
    tokens, program
) -> None:
    await tokens.get(program)

    with pytest.raises(WeChatError) as caught:
        await tokens.get(MiniProgram(program.app_id, "wrong"))

    assert (caught.value.code, caught.value.errcode) == ("wechat_invalid_credentials", 40125)


async def test_each_mini_program_has_its_own_token(tokens, program) -> None:
    other = MiniProgram("wx_other", "other-secret")

    assert await tokens.get(program) != await tokens.get(other)
    assert tokens.fetches == 2
