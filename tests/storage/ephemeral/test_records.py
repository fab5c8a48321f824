"""The typed records: the rate limiter's windows, aligned to the clock, with the time left to
wait; a QR login's change that stands once written; a stored login decoded once while it is
unchanged; an authorization code's grant as written, and as an earlier version wrote it."""

from __future__ import annotations

from dataclasses import replace

import pytest
import redis.exceptions
from tests.core.test_qrlogin import ALICE, BOB, T0, new_login

from minilogin.core import qrlogin
from minilogin.core.errors import Conflict
from minilogin.core.grants import AuthorizationCode, IssuedTokens
from minilogin.core.qrlogin import MiniProgramSession, Status
from minilogin.core.tokens import digest
from minilogin.storage.ephemeral import keys, records
from minilogin.storage.ephemeral.memory import MemoryStore
from minilogin.storage.ephemeral.records import MiniProgramSessions, QRLogins, RateLimiter

WINDOW = 60.0


async def test_attempts_over_the_limit_wait_for_the_next_window() -> None:
    limiter = RateLimiter(MemoryStore())
    start = 6000.0  # the start of a window
    assert [await limiter.attempt("k", 2, WINDOW, start + 10) for _ in range(3)] == [0, 0, 50]
    assert await limiter.attempt("k", 2, WINDOW, start + WINDOW) == 0
    assert await limiter.attempt("other", 2, WINDOW, start + 10) == 0


async def test_failures_on_both_sides_of_a_window_edge_add_up() -> None:
    limiter = RateLimiter(MemoryStore())
    edge = 6000.0
    for _ in range(3):
        await limiter.attempt("k", 5, WINDOW, edge - 1)
    assert await limiter.exceeded("k", 5, WINDOW, edge + 1) == 0
    for _ in range(2):
        await limiter.attempt("k", 5, WINDOW, edge + 1)
    assert await limiter.exceeded("k", 5, WINDOW, edge + 1) == 59
    assert await limiter.exceeded("k", 5, WINDOW, edge + WINDOW + 1) == 0


class _PublishFails(MemoryStore):
    """A store whose announcements fail, as Redis's do while it restarts."""

    async def publish(self, channel: str, message: str) -> None:
        raise redis.exceptions.ConnectionError("Connection refused")


async def test_a_written_change_stands_when_announcing_it_fails() -> None:
    logins = QRLogins(_PublishFails(), lambda: T0)
    assert await logins.create(new_login())
    changed = await logins.update("qrl_test", lambda login: qrlogin.scan(login, T0, ALICE))
    assert changed.status is Status.SCANNED
    assert await logins.get("qrl_test") == changed


async def test_a_store_error_other_than_an_outage_still_fails_the_change() -> None:
    class Broken(MemoryStore):
        async def publish(self, channel: str, message: str) -> None:
            raise ValueError("a bug, not an outage")

    logins = QRLogins(Broken(), lambda: T0)
    assert await logins.create(new_login())
    with pytest.raises(ValueError, match="a bug"):
        await logins.update("qrl_test", lambda login: qrlogin.scan(login, T0, ALICE))


async def test_a_login_with_every_field_set_reads_back_as_written() -> None:
    logins = QRLogins(MemoryStore(), lambda: T0)
    written = replace(
        qrlogin.scan(new_login(), T0, ALICE),
        request=qrlogin.RequestContext("Chrome 120 on Windows", "203.0.113.9", "Beijing"),
        nonce="n-1",
        state="s-1",
        phone="+8613800000000",
        match="42",
        match_choices=("17", "42", "93"),
    )
    assert await logins.create(written)

    assert await logins.get(written.id) == written


class _CountingReads(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get(self, key: str) -> str | None:
        self.reads += 1
        return await super().get(key)


async def test_a_change_to_the_login_the_caller_just_read_is_written_without_reading_it() -> None:
    store = _CountingReads()
    logins = QRLogins(store, lambda: T0)
    assert await logins.create(new_login())
    seen = await logins.get("qrl_test")
    assert seen is not None
    store.reads = 0
    changed = await logins.update("qrl_test", lambda cur: qrlogin.scan(cur, T0, ALICE), seen=seen)
    assert changed.status is Status.SCANNED
    assert store.reads == 0
    assert await logins.get("qrl_test") == changed


async def test_a_copy_the_stored_login_moved_on_from_is_not_what_the_change_is_decided_on() -> None:
    logins = QRLogins(MemoryStore(), lambda: T0)
    assert await logins.create(new_login())
    stale = await logins.get("qrl_test")
    assert stale is not None
    await logins.update("qrl_test", lambda cur: qrlogin.cancel(cur, T0, "cancelled_by_browser"))
    with pytest.raises(Conflict):
        await logins.update("qrl_test", lambda cur: qrlogin.scan(cur, T0, ALICE), seen=stale)
    stored = await logins.get("qrl_test")
    assert stored is not None
    assert stored.status is Status.CANCELLED

    # A copy that would refuse the change, where the stored login takes it: it is taken.
    assert await logins.create(new_login(id="qrl_other", scene="s-other"))
    scanned_copy = qrlogin.scan(new_login(id="qrl_other", scene="s-other"), T0, BOB)
    changed = await logins.update(
        "qrl_other", lambda cur: qrlogin.scan(cur, T0, ALICE), seen=scanned_copy
    )
    assert changed.scanner == ALICE


async def test_a_login_read_again_unchanged_is_not_decoded_again_and_a_change_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logins = QRLogins(MemoryStore(), lambda: T0)
    assert await logins.create(new_login())
    first = await logins.get("qrl_test")
    assert first is not None
    assert await logins.get("qrl_test") is first

    changed = await logins.update("qrl_test", lambda cur: qrlogin.scan(cur, T0, ALICE))
    again = await logins.get("qrl_test")
    assert again == changed
    assert again is not None
    assert again.status is Status.SCANNED

    # Only the last few texts are kept: the oldest is decoded afresh.
    monkeypatch.setattr(records, "DECODED", 2)
    for n in range(2):
        assert await logins.create(new_login(id=f"qrl_{n}", scene=f"s-{n}"))
        await logins.get(f"qrl_{n}")
    assert await logins.get("qrl_test") == again
    assert await logins.get("qrl_test") is not again


async def test_a_login_read_or_written_here_is_compared_as_its_text_not_serialized_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    serialized: list[str] = []
    decoded: list[str] = []

    def to_json(login: qrlogin.QRLogin) -> str:
        serialized.append(login.id)
        return encode(login)

    def from_json(text: str) -> qrlogin.QRLogin:
        decoded.append(text)
        return decode(text)

    encode, decode = records._qrlogin_to_json, records._qrlogin_from_json
    monkeypatch.setattr(records, "_qrlogin_to_json", to_json)
    monkeypatch.setattr(records, "_qrlogin_from_json", from_json)
    store = MemoryStore()
    logins = QRLogins(store, lambda: T0)
    assert await logins.create(new_login())
    read = await logins.get("qrl_test")
    assert read is not None
    serialized.clear()

    # The caller's copy as read: only the changed login is serialized, once.
    scanned = await logins.update("qrl_test", lambda cur: qrlogin.scan(cur, T0, ALICE), seen=read)
    assert serialized == ["qrl_test"]
    # What this instance wrote is read back without decoding, as the same login...
    decoded.clear()
    assert await logins.get("qrl_test") is scanned
    assert decoded == []
    # ...and a change that starts from it is compared as the text written.
    serialized.clear()
    cancelled = await logins.update(
        "qrl_test", lambda cur: qrlogin.cancel(cur, T0, "cancelled_by_user"), seen=scanned
    )
    assert serialized == ["qrl_test"]
    assert cancelled.status is Status.CANCELLED
    assert await store.get(keys.qrlogin("qrl_test")) == encode(cancelled)

    # A copy of the caller's making is serialized to be compared, and is stale here: the
    # stored login decides, and refuses.
    serialized.clear()
    with pytest.raises(Conflict):
        await logins.update(
            "qrl_test", lambda cur: qrlogin.scan(cur, T0, BOB), seen=replace(scanned)
        )
    assert serialized == ["qrl_test"]


async def test_a_mini_program_session_is_kept_by_its_token_alone() -> None:
    sessions = MiniProgramSessions(MemoryStore())
    session = MiniProgramSession("qrl_test", "wx_app", "o-alice")
    await sessions.put("the-token", session, 60)

    assert await sessions.get("the-token") == session
    assert await sessions.get("another-token") is None


async def test_a_code_keeps_its_grant_and_what_its_exchange_issued() -> None:
    store = MemoryStore()
    codes = records.AuthorizationCodes(store)
    grant = AuthorizationCode(
        pool="acme",
        client_id="shop",
        user_id="usr_1",
        code_challenge="challenge",
        scope="openid profile phone",
        auth_time=1_800_000_000,
        amr=["wechat_mp_qrcode"],
        nonce="n-1",
        redirect_uri="https://shop.example/cb",
        qrlogin_id="qr_1",
        claims={"sub": "usr_1", "name": "小明", "phone_number_verified": True},
    )
    await codes.put("the-code", grant, 60)
    assert await codes.peek("the-code") == grant
    assert await codes.take("the-code") == grant
    assert await codes.take("the-code") is None
    await codes.remember_issued("the-code", IssuedTokens(["at_1"], 1_800_003_600.0), 60)
    assert await codes.issued_for_used("the-code") == IssuedTokens(["at_1"], 1_800_003_600.0)


async def test_a_code_an_earlier_version_wrote_reads_back_without_claims() -> None:
    store = MemoryStore()
    written = (
        '{"pool": "acme", "client_id": "shop", "user_id": "usr_1", "code_challenge": null, '
        '"scope": "openid", "auth_time": 1800000000, "amr": ["wechat_mp_qrcode"], '
        '"nonce": null, "redirect_uri": null, "qrlogin_id": "qr_1"}'
    )
    await store.set(keys.authorization_code(digest("the-code")), written, 60)
    grant = await records.AuthorizationCodes(store).peek("the-code")
    assert grant is not None
    assert (grant.user_id, grant.qrlogin_id, grant.claims) == ("usr_1", "qr_1", None)
