"""The durable store, run on every backend of ``durable_store``: what each method keeps and
returns, the uniqueness rules, transactions, concurrency, and secrets at rest."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import ColumnElement, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from minilogin.core.entities import (
    Admin,
    ApiToken,
    Application,
    ApplicationType,
    Association,
    AuditEvent,
    EnvVersion,
    IdentitySource,
    LoginMode,
    Pool,
    SigningKey,
    User,
    WeChatIdentity,
)
from minilogin.core.errors import Conflict, NotFound
from minilogin.storage import durable
from minilogin.storage.crypto import SecretBox, SecretBoxError
from minilogin.storage.sql import SqlStore, make_engine
from minilogin.storage.sql import store as store_module

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
APP_SECRET = "0123456789abcdef-plaintext-app-secret"
PRIVATE_JWK = '{"kty":"EC","crv":"P-256","d":"private-scalar-that-must-stay-secret"}'


async def a_pool(store: SqlStore, slug: str = "demo") -> Pool:
    return await store.create_pool(Pool(slug=slug, name=slug.title()))


async def a_source(
    store: SqlStore, pool: Pool, unique_id: str = "wechat-mp-qrcode", **fields: object
) -> IdentitySource:
    source = IdentitySource(pool_id=pool.id, unique_id=unique_id, display_name="扫码登录")
    for name, value in fields.items():
        setattr(source, name, value)
    return await store.create_identity_source(source)


def an_identity(pool: Pool, openid: str = "o-1", unionid: str | None = None) -> WeChatIdentity:
    return WeChatIdentity(
        pool_id=pool.id, user_id="", app_id="wx-app", openid=openid, unionid=unionid
    )


async def raise_code(call: Awaitable[object], kind: type[Exception], code: str) -> None:
    with pytest.raises(kind) as caught:
        await call
    assert getattr(caught.value, "code", None) == code


def test_sql_store_has_every_durable_store_method_with_its_parameters() -> None:
    methods = {
        name: member
        for name, member in vars(durable.DurableStore).items()
        if inspect.iscoroutinefunction(member)
    }
    assert methods
    for name, member in methods.items():
        implementation = getattr(SqlStore, name)
        assert inspect.iscoroutinefunction(implementation), name
        assert list(inspect.signature(implementation).parameters) == list(
            inspect.signature(member).parameters
        ), name


# pools


async def test_a_new_pool_gets_an_id_and_a_utc_creation_time(durable_store: SqlStore) -> None:
    before = datetime.now(UTC)
    pool = await a_pool(durable_store)
    assert pool.id.startswith("pool_")
    assert pool.created_at is not None
    assert pool.created_at.tzinfo is UTC
    assert before <= pool.created_at <= datetime.now(UTC)
    assert await durable_store.get_pool("demo") == pool


async def test_a_pool_keeps_the_id_time_and_logo_it_was_given(durable_store: SqlStore) -> None:
    in_beijing = datetime(2026, 11, 21, 16, 0, tzinfo=timezone(timedelta(hours=8)))
    given = Pool(slug="acme", name="Acme", id="pool_acme", logo_url="https://x/logo.png")
    given.created_at = in_beijing
    pool = await durable_store.create_pool(given)
    assert pool == await durable_store.get_pool("acme")
    assert pool.id == "pool_acme"
    assert pool.logo_url == "https://x/logo.png"
    assert pool.created_at == T0
    assert pool.created_at is not None
    assert pool.created_at.tzinfo is UTC


async def test_an_unknown_pool_is_none(durable_store: SqlStore) -> None:
    assert await durable_store.get_pool("nope") is None


async def test_a_pool_slug_is_unique(durable_store: SqlStore) -> None:
    await a_pool(durable_store)
    await raise_code(
        durable_store.create_pool(Pool(slug="demo", name="x")), Conflict, "pool_exists"
    )
    assert len(await durable_store.list_pools()) == 1


async def test_pools_are_listed_oldest_first(durable_store: SqlStore) -> None:
    for minutes, slug in [(2, "c"), (0, "a"), (1, "b")]:
        await durable_store.create_pool(
            Pool(slug=slug, name=slug, created_at=T0 + timedelta(minutes=minutes))
        )
    assert [pool.slug for pool in await durable_store.list_pools()] == ["a", "b", "c"]


async def test_naive_datetimes_are_refused(durable_store: SqlStore) -> None:
    with pytest.raises(ValueError, match="naive"):
        await durable_store.create_pool(Pool(slug="x", name="x", created_at=datetime(2026, 1, 1)))


# applications


async def test_an_application_keeps_every_field(durable_store: SqlStore) -> None:
    pool = await a_pool(durable_store)
    given = Application(
        pool_id=pool.id,
        client_id="shop",
        name="商城",
        type=ApplicationType.WEB,
        redirect_uris=["https://shop.example/cb", "https://shop.example/cb2"],
        web_origins=["https://shop.example"],
        post_logout_redirect_uris=["https://shop.example/bye"],
        client_secret_hash="$argon2id$…",
        id_token_lifetime=600,
        access_token_lifetime=900,
        refresh_token_lifetime=86400,
    )
    created = await durable_store.create_application(given)
    assert created.created_at is not None
    given.created_at = created.created_at
    assert created == given
    assert await durable_store.get_application(pool.id, "shop") == given


async def test_an_application_is_found_only_in_its_pool(durable_store: SqlStore) -> None:
    demo, other = await a_pool(durable_store), await a_pool(durable_store, "other")
    await durable_store.create_application(Application(pool_id=demo.id, client_id="a", name="A"))
    assert await durable_store.get_application(other.id, "a") is None
    assert await durable_store.get_application(demo.id, "b") is None


async def test_a_client_id_is_unique_across_pools(durable_store: SqlStore) -> None:
    demo, other = await a_pool(durable_store), await a_pool(durable_store, "other")
    await durable_store.create_application(Application(pool_id=demo.id, client_id="a", name="A"))
    await raise_code(
        durable_store.create_application(Application(pool_id=other.id, client_id="a", name="A")),
        Conflict,
        "client_id_exists",
    )


async def test_an_application_needs_an_existing_pool(durable_store: SqlStore) -> None:
    await raise_code(
        durable_store.create_application(Application(pool_id="pool_x", client_id="a", name="A")),
        NotFound,
        "unknown_pool",
    )


async def test_applications_are_listed_per_pool_oldest_first(durable_store: SqlStore) -> None:
    demo, other = await a_pool(durable_store), await a_pool(durable_store, "other")
    for minutes, client_id in [(1, "b"), (0, "a")]:
        await durable_store.create_application(
            Application(
                pool_id=demo.id,
                client_id=client_id,
                name=client_id,
                created_at=T0 + timedelta(minutes=minutes),
            )
        )
    await durable_store.create_application(Application(pool_id=other.id, client_id="c", name="c"))
    listed = await durable_store.list_applications(demo.id)
    assert [application.client_id for application in listed] == ["a", "b"]


# identity sources


async def test_an_identity_source_keeps_every_field(durable_store: SqlStore) -> None:
    pool = await a_pool(durable_store)
    given = IdentitySource(
        pool_id=pool.id,
        unique_id="wechat-mp-qrcode",
        display_name="小程序扫码",
        callback_url="https://shop.example/after",
        private_deployment=True,
        app_id="wx1234567890abcdef",
        app_secret=APP_SECRET,
        login_mode=LoginMode.LOGIN_ONLY,
        association=Association.ASK_BINDING,
        page="pages/scan/scan",
        env_version=EnvVersion.TRIAL,
        qr_expires_in=300,
        logo=b"\x89PNG\r\n\x1a\n-logo-bytes",
        logo_version=3,
    )
    created = await durable_store.create_identity_source(given)
    assert created.id.startswith("conn_")
    given.id, given.created_at = created.id, created.created_at
    assert created == given
    assert await durable_store.get_identity_source(pool.id, "wechat-mp-qrcode") == given


async def test_an_identity_source_without_an_app_secret_reads_back_without_one(
    durable_store: SqlStore,
) -> None:
    pool = await a_pool(durable_store)
    await a_source(durable_store, pool)
    source = await durable_store.get_identity_source(pool.id, "wechat-mp-qrcode")
    assert source is not None
    assert source.app_secret is None
    assert not source.app_secret_set


async def test_a_unique_id_is_unique_within_a_pool_only(durable_store: SqlStore) -> None:
    demo, other = await a_pool(durable_store), await a_pool(durable_store, "other")
    await a_source(durable_store, demo)
    await raise_code(a_source(durable_store, demo), Conflict, "connection_exists")
    await a_source(durable_store, other)
    assert await durable_store.get_identity_source(other.id, "wechat-mp-qrcode") is not None
    assert await durable_store.get_identity_source(demo.id, "nope") is None


async def test_identity_sources_are_listed_per_pool_oldest_first(durable_store: SqlStore) -> None:
    demo, other = await a_pool(durable_store), await a_pool(durable_store, "other")
    await a_source(durable_store, demo, "late", created_at=T0 + timedelta(minutes=1))
    await a_source(durable_store, demo, "early", created_at=T0)
    await a_source(durable_store, other, "elsewhere")
    listed = await durable_store.list_identity_sources(demo.id)
    assert [source.unique_id for source in listed] == ["early", "late"]


async def test_sources_are_enabled_per_application_in_creation_order(
    durable_store: SqlStore,
) -> None:
    pool = await a_pool(durable_store)
    for client_id in ("shop", "blog"):
        await durable_store.create_application(
            Application(pool_id=pool.id, client_id=client_id, name=client_id)
        )
    await a_source(durable_store, pool, "second", created_at=T0 + timedelta(minutes=1))
    await a_source(durable_store, pool, "first", created_at=T0)
    await durable_store.enable_identity_source(pool.id, "shop", "second")
    await durable_store.enable_identity_source(pool.id, "shop", "first")
    await durable_store.enable_identity_source(pool.id, "shop", "first")  # again: no change

    enabled = await durable_store.enabled_identity_sources(pool.id, "shop")
    assert [source.unique_id for source in enabled] == ["first", "second"]
    assert await durable_store.enabled_identity_sources(pool.id, "blog") == []

    await durable_store.disable_identity_source(pool.id, "shop", "first")
    await durable_store.disable_identity_source(pool.id, "shop", "first")  # again: no change
    enabled = await durable_store.enabled_identity_sources(pool.id, "shop")
    assert [source.unique_id for source in enabled] == ["second"]


async def test_enabled_sources_of_an_unknown_application_are_none(durable_store: SqlStore) -> None:
    pool = await a_pool(durable_store)
    assert await durable_store.enabled_identity_sources(pool.id, "nope") == []


@pytest.mark.parametrize("toggle", ["enable_identity_source", "disable_identity_source"])
async def test_enabling_names_an_application_and_a_source_of_the_same_pool(
    durable_store: SqlStore, toggle: str
) -> None:
    demo, other = await a_pool(durable_store), await a_pool(durable_store, "other")
    await durable_store.create_application(Application(pool_id=demo.id, client_id="a", name="A"))
    await a_source(durable_store, demo, "mine")
    await a_source(durable_store, other, "theirs")
    method: Callable[[str, str, str], Awaitable[None]] = getattr(durable_store, toggle)
    await raise_code(method(demo.id, "nope", "mine"), NotFound, "unknown_client")
    await raise_code(method(demo.id, "a", "theirs"), NotFound, "unknown_connection")
    await raise_code(method(other.id, "a", "theirs"), NotFound, "unknown_client")


async def test_enabling_concurrently_is_harmless(durable_store: SqlStore) -> None:
    pool = await a_pool(durable_store)
    await durable_store.create_application(Application(pool_id=pool.id, client_id="a", name="A"))
    await a_source(durable_store, pool)
    await asyncio.gather(
        *(durable_store.enable_identity_source(pool.id, "a", "wechat-mp-qrcode") for _ in range(8))
    )
    assert len(await durable_store.enabled_identity_sources(pool.id, "a")) == 1


async def test_an_enable_that_loses_a_race_still_succeeds(
    durable_store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = await a_pool(durable_store)
    await durable_store.create_application(Application(pool_id=pool.id, client_id="a", name="A"))
    await a_source(durable_store, pool)
    await durable_store.enable_identity_source(pool.id, "a", "wechat-mp-qrcode")

    # The next existence check answers as if read before a concurrent enable committed.
    real_exists = store_module._exists
    answers = iter([False])

    async def stale_once(session: AsyncSession, *where: ColumnElement[bool]) -> bool:
        answer = next(answers, None)
        return answer if answer is not None else await real_exists(session, *where)

    monkeypatch.setattr(store_module, "_exists", stale_once)
    await durable_store.enable_identity_source(pool.id, "a", "wechat-mp-qrcode")
    assert len(await durable_store.enabled_identity_sources(pool.id, "a")) == 1


# users and identities


async def test_a_new_user_gets_an_id_and_is_found_by_id_and_phone(durable_store: SqlStore) -> None:
    pool = await a_pool(durable_store)
    user = await durable_store.create_user(
        User(pool_id=pool.id, phone="+8613800138000", phone_verified=True, nickname="小明")
    )
    assert user.id.startswith("usr_")
    assert user.created_at is not None
    assert user.login_count == 0
    assert user.last_login_at is None
    assert await durable_store.get_user(pool.id, user.id) == user
    assert await durable_store.find_user_by_phone(pool.id, "+8613800138000") == user


async def test_a_user_keeps_every_field(durable_store: SqlStore) -> None:
    pool = await a_pool(durable_store)
    given = User(
        pool_id=pool.id,
        id="usr_given",
        phone="+8613800138000",
        phone_verified=True,
        username="xiaoming",
        email="xm@example.com",
        password_hash="$argon2id$…",
        nickname="小明",
        avatar_url="https://x/a.png",
        blocked=True,
        login_count=7,
        last_login_at=T0,
        created_at=T0 - timedelta(days=1),
    )
    assert await durable_store.create_user(given) == given
    assert await durable_store.get_user(pool.id, "usr_given") == given


async def test_users_are_found_only_in_their_pool(durable_store: SqlStore) -> None:
    demo, other = await a_pool(durable_store), await a_pool(durable_store, "other")
    user = await durable_store.create_user(User(pool_id=demo.id, phone="+8613800138000"))
    assert await durable_store.get_user(other.id, user.id) is None
    assert await durable_store.find_user_by_phone(other.id, "+8613800138000") is None
    assert await durable_store.get_user(demo.id, "usr_nope") is None


async def test_a_phone_number_belongs_to_one_user_per_pool(durable_store: SqlStore) -> None:
    demo, other = await a_pool(durable_store), await a_pool(durable_store, "other")
    await durable_store.create_user(User(pool_id=demo.id, phone="+8613800138000"))
    await raise_code(
        durable_store.create_user(User(pool_id=demo.id, phone="+8613800138000")),
        Conflict,
        "phone_in_use",
    )
    await durable_store.create_user(User(pool_id=other.id, phone="+8613800138000"))


async def test_usernames_are_unique_regardless_of_case_and_stored_lowercased(
    durable_store: SqlStore,
) -> None:
    pool = await a_pool(durable_store)
    user = await durable_store.create_user(User(pool_id=pool.id, username="XiaoMing"))
    assert user.username == "xiaoming"
    await raise_code(
        durable_store.create_user(User(pool_id=pool.id, username="xiaoming")),
        Conflict,
        "username_taken",
    )


async def test_many_users_may_have_neither_phone_nor_username(durable_store: SqlStore) -> None:
    pool = await a_pool(durable_store)
    first = await durable_store.create_user(User(pool_id=pool.id))
    second = await durable_store.create_user(User(pool_id=pool.id))
    assert first.id != second.id


async def test_a_user_needs_an_existing_pool(durable_store: SqlStore) -> None:
    await raise_code(durable_store.create_user(User(pool_id="pool_x")), NotFound, "unknown_pool")


async def test_a_user_created_with_an_identity_is_found_through_it(
    durable_store: SqlStore,
) -> None:
    pool = await a_pool(durable_store)
    user = await durable_store.create_user(
        User(pool_id=pool.id, phone="+8613800138000"), an_identity(pool, unionid="u-1")
    )
    identity = await durable_store.find_identity(pool.id, "wx-app", "o-1")
    assert identity is not None
    assert identity.id.startswith("wxid_")
    assert identity.user_id == user.id
    assert identity.unionid == "u-1"
    assert identity.created_at == user.created_at
    assert await durable_store.find_identity_by_unionid(pool.id, "u-1") == identity
    assert await durable_store.find_identity(pool.id, "wx-other", "o-1") is None


async def test_creating_a_user_with_a_linked_identity_creates_nothing(
    durable_store: SqlStore,
) -> None:
    pool = await a_pool(durable_store)
    first = await durable_store.create_user(User(pool_id=pool.id), an_identity(pool))
    await raise_code(
        durable_store.create_user(
            User(pool_id=pool.id, phone="+8613800138000", username="second"), an_identity(pool)
        ),
        Conflict,
        "identity_linked",
    )
    assert await durable_store.find_user_by_phone(pool.id, "+8613800138000") is None
    # The username is still free: the failed user was not written.
    await durable_store.create_user(User(pool_id=pool.id, username="second"))
    identity = await durable_store.find_identity(pool.id, "wx-app", "o-1")
    assert identity is not None
    assert identity.user_id == first.id


async def test_a_user_and_its_identity_must_be_of_one_pool(durable_store: SqlStore) -> None:
    demo, other = await a_pool(durable_store), await a_pool(durable_store, "other")
    with pytest.raises(ValueError, match="pool"):
        await durable_store.create_user(User(pool_id=demo.id), an_identity(other))


async def test_an_identity_links_to_an_existing_user_once(durable_store: SqlStore) -> None:
    pool = await a_pool(durable_store)
    user = await durable_store.create_user(User(pool_id=pool.id))
    identity = an_identity(pool)
    identity.user_id = user.id
    linked = await durable_store.link_identity(identity)
    assert linked.user_id == user.id
    assert linked.created_at is not None
    assert await durable_store.find_identity(pool.id, "wx-app", "o-1") == linked
    other_user = await durable_store.create_user(User(pool_id=pool.id))
    identity.user_id = other_user.id
    await raise_code(durable_store.link_identity(identity), Conflict, "identity_linked")


async def test_an_identity_links_only_to_a_user_of_its_pool(durable_store: SqlStore) -> None:
    demo, other = await a_pool(durable_store), await a_pool(durable_store, "other")
    user = await durable_store.create_user(User(pool_id=other.id))
    identity = an_identity(demo)
    identity.user_id = user.id
    await raise_code(durable_store.link_identity(identity), NotFound, "unknown_user")


async def test_a_unionid_finds_the_oldest_identity_in_the_pool(durable_store: SqlStore) -> None:
    demo, other = await a_pool(durable_store), await a_pool(durable_store, "other")
    user = await durable_store.create_user(User(pool_id=demo.id))
    for minutes, app_id in [(1, "wx-new"), (0, "wx-old")]:
        await durable_store.link_identity(
            WeChatIdentity(
                pool_id=demo.id,
                user_id=user.id,
                app_id=app_id,
                openid=f"o-{app_id}",
                unionid="u-1",
                created_at=T0 + timedelta(minutes=minutes),
            )
        )
    found = await durable_store.find_identity_by_unionid(demo.id, "u-1")
    assert found is not None
    assert found.app_id == "wx-old"
    assert await durable_store.find_identity_by_unionid(other.id, "u-1") is None


async def test_a_login_is_counted_with_the_profile_sent(durable_store: SqlStore) -> None:
    pool = await a_pool(durable_store)
    user = await durable_store.create_user(User(pool_id=pool.id, nickname="old"))
    after = await durable_store.record_login(
        pool.id, user.id, T0, {"nickname": "小明", "avatar_url": "https://x/a.png"}
    )
    assert (after.login_count, after.last_login_at) == (1, T0)
    assert (after.nickname, after.avatar_url) == ("小明", "https://x/a.png")
    assert await durable_store.get_user(pool.id, user.id) == after

    later = T0 + timedelta(hours=1)
    again = await durable_store.record_login(pool.id, user.id, later, {"nickname": ""})
    assert (again.login_count, again.last_login_at) == (2, later)
    assert (again.nickname, again.avatar_url) == ("小明", "https://x/a.png")


async def test_a_login_of_an_unknown_user_is_not_found(durable_store: SqlStore) -> None:
    demo, other = await a_pool(durable_store), await a_pool(durable_store, "other")
    user = await durable_store.create_user(User(pool_id=demo.id))
    await raise_code(
        durable_store.record_login(other.id, user.id, T0, {}), NotFound, "unknown_user"
    )


async def test_concurrent_logins_are_all_counted(durable_store: SqlStore) -> None:
    pool = await a_pool(durable_store)
    user = await durable_store.create_user(User(pool_id=pool.id))
    await asyncio.gather(*(durable_store.record_login(pool.id, user.id, T0, {}) for _ in range(10)))
    after = await durable_store.get_user(pool.id, user.id)
    assert after is not None
    assert after.login_count == 10


async def test_of_concurrent_registrations_of_one_phone_exactly_one_wins(
    durable_store: SqlStore,
) -> None:
    pool = await a_pool(durable_store)
    results = await asyncio.gather(
        *(
            durable_store.create_user(
                User(pool_id=pool.id, phone="+8613800138000"), an_identity(pool, f"o-{n}")
            )
            for n in range(8)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(result, User) for result in results) == 1
    losers = [result for result in results if not isinstance(result, User)]
    assert all(isinstance(loser, Conflict) and loser.code == "phone_in_use" for loser in losers)


# A conflict the check before the write can miss: another transaction commits in between (on
# PostgreSQL; SQLite writers take turns). The database refuses the row and the caller still
# gets the Conflict, with nothing written.
async def _register_existing_phone(store: SqlStore, pool: Pool) -> None:
    await store.create_user(User(pool_id=pool.id, phone="+8613800138000"), an_identity(pool, "x"))


async def _register_existing_identity(store: SqlStore, pool: Pool) -> None:
    await store.create_user(User(pool_id=pool.id, username="new"), an_identity(pool))


async def _link_existing_identity(store: SqlStore, pool: Pool) -> None:
    user = await store.create_user(User(pool_id=pool.id, username="new"))
    identity = an_identity(pool)
    identity.user_id = user.id
    await store.link_identity(identity)


async def _create_existing_pool(store: SqlStore, pool: Pool) -> None:
    await a_pool(store)


@pytest.mark.parametrize(
    ("write", "code"),
    [
        (_register_existing_phone, "phone_in_use"),
        (_register_existing_identity, "identity_linked"),
        (_link_existing_identity, "identity_linked"),
        (_create_existing_pool, "pool_exists"),
    ],
)
async def test_a_conflict_the_first_check_misses_is_still_reported(
    durable_store: SqlStore,
    monkeypatch: pytest.MonkeyPatch,
    write: Callable[[SqlStore, Pool], Awaitable[None]],
    code: str,
) -> None:
    pool = await a_pool(durable_store)
    await durable_store.create_user(
        User(pool_id=pool.id, phone="+8613800138000"), an_identity(pool)
    )
    real_insert = SqlStore._insert
    checks_per_insert: list[int] = []

    async def insert_after_stale_check(
        self: SqlStore, check: Callable[[AsyncSession], Awaitable[None]], *rows: object
    ) -> None:
        checks_per_insert.append(0)

        async def stale_first(session: AsyncSession) -> None:
            checks_per_insert[-1] += 1
            if checks_per_insert[-1] > 1:
                await check(session)

        await real_insert(self, stale_first, *rows)  # type: ignore[arg-type]

    monkeypatch.setattr(SqlStore, "_insert", insert_after_stale_check)
    await raise_code(write(durable_store, pool), Conflict, code)
    monkeypatch.undo()
    # The stale check let the row through, the database refused it, the check ran again.
    assert checks_per_insert[-1] == 2
    assert await durable_store.find_user_by_phone(pool.id, "+8613800138000") is not None
    assert len(await durable_store.list_pools()) == 1


# signing keys


async def test_signing_keys_are_kept_and_listed_per_pool_oldest_first(
    durable_store: SqlStore,
) -> None:
    pool, other = await a_pool(durable_store), await a_pool(durable_store, "other")
    newer = SigningKey(
        kid="k2",
        algorithm="ES256",
        private_jwk=PRIVATE_JWK,
        public_jwk='{"kty":"EC"}',
        active=True,
        pool_id=pool.id,
        serial=2,
    )
    newer.created_at = T0 + timedelta(days=1)
    older = SigningKey(
        kid="k1",
        algorithm="ES256",
        private_jwk="{}",
        public_jwk="{}",
        active=False,
        created_at=T0,
        pool_id=pool.id,
        retire_at=T0 + timedelta(days=2),
    )
    theirs = SigningKey(
        kid="k3", algorithm="ES256", private_jwk="{}", public_jwk="{}", pool_id=other.id
    )
    assert await durable_store.add_signing_key(newer) == newer
    assert await durable_store.add_signing_key(older) == older
    await durable_store.add_signing_key(theirs)
    assert await durable_store.list_signing_keys(pool.id) == [older, newer]
    assert [k.kid for k in await durable_store.list_signing_keys(other.id)] == ["k3"]


async def test_a_kid_is_unique(durable_store: SqlStore) -> None:
    pool, other = await a_pool(durable_store), await a_pool(durable_store, "other")
    key = SigningKey(kid="k1", algorithm="ES256", private_jwk="{}", public_jwk="{}")
    key.pool_id = pool.id
    await durable_store.add_signing_key(key)
    await raise_code(durable_store.add_signing_key(key), Conflict, "signing_key_exists")
    key.pool_id = other.id
    await raise_code(durable_store.add_signing_key(key), Conflict, "signing_key_exists")


async def test_a_pool_has_one_key_per_serial_and_algorithm(durable_store: SqlStore) -> None:
    """What two instances making a pool's first keys at once rely on: one of them wins."""
    pool = await a_pool(durable_store)

    def key(kid: str, algorithm: str = "ES256") -> SigningKey:
        return SigningKey(
            kid=kid, algorithm=algorithm, private_jwk="{}", public_jwk="{}", pool_id=pool.id
        )

    results = await asyncio.gather(
        *(durable_store.add_signing_key(key(f"k{n}")) for n in range(4)), return_exceptions=True
    )
    assert sum(isinstance(r, SigningKey) for r in results) == 1
    assert all(isinstance(r, SigningKey | Conflict) for r in results), results
    await durable_store.add_signing_key(key("rsa", "RS256"))
    assert len(await durable_store.list_signing_keys(pool.id)) == 2


async def test_a_key_of_an_unknown_pool_is_refused(durable_store: SqlStore) -> None:
    key = SigningKey(kid="k1", algorithm="ES256", private_jwk="{}", public_jwk="{}")
    key.pool_id = "pool_nobody"
    await raise_code(durable_store.add_signing_key(key), NotFound, "unknown_pool")


async def test_rotating_retires_the_older_keys_and_drops_the_retired(
    durable_store: SqlStore,
) -> None:
    pool = await a_pool(durable_store)

    def key(serial: int, algorithm: str = "ES256", days: int = 0) -> SigningKey:
        return SigningKey(
            kid=f"{algorithm}-{serial}",
            algorithm=algorithm,
            private_jwk="{}",
            public_jwk="{}",
            pool_id=pool.id,
            serial=serial,
            created_at=T0 + timedelta(days=days),
        )

    await durable_store.add_signing_key(key(1))
    await durable_store.add_signing_key(key(1, "RS256"))
    await durable_store.rotate_signing_key(key(2, days=1), T0 + timedelta(days=3))
    by_kid = {k.kid: k for k in await durable_store.list_signing_keys(pool.id)}
    assert (by_kid["ES256-1"].active, by_kid["ES256-1"].retire_at) == (
        False,
        T0 + timedelta(days=3),
    )
    assert (by_kid["ES256-2"].active, by_kid["ES256-2"].retire_at) == (True, None)
    assert (by_kid["RS256-1"].active, by_kid["RS256-1"].retire_at) == (True, None), "untouched"
    # A second rotation within the first one's overlap keeps the earlier instant.
    await durable_store.rotate_signing_key(key(3, days=2), T0 + timedelta(days=9))
    retire = {k.kid: k.retire_at for k in await durable_store.list_signing_keys(pool.id)}
    assert retire["ES256-1"] == T0 + timedelta(days=3)
    assert retire["ES256-2"] == T0 + timedelta(days=9)
    # Once a retired key's instant has passed, the next rotation deletes it.
    await durable_store.rotate_signing_key(key(4, days=4), T0 + timedelta(days=20))
    kids = [k.kid for k in await durable_store.list_signing_keys(pool.id)]
    assert kids == ["RS256-1", "ES256-2", "ES256-3", "ES256-4"]
    await raise_code(
        durable_store.rotate_signing_key(key(4, days=5), T0 + timedelta(days=30)),
        Conflict,
        "signing_key_exists",
    )


# audit log


async def test_audit_events_are_listed_per_pool_newest_first(durable_store: SqlStore) -> None:
    pool = await a_pool(durable_store)
    await durable_store.add_audit_events(
        [
            AuditEvent(
                pool_id=pool.id,
                action=f"login.{minutes}",
                created_at=T0 + timedelta(minutes=minutes),
            )
            for minutes in (0, 2, 1)
        ]
    )
    await durable_store.add_audit_events([AuditEvent(pool_id="pool_other", action="elsewhere")])
    await durable_store.add_audit_events([AuditEvent(pool_id=None, action="pool.created")])
    listed = await durable_store.list_audit_events(pool.id)
    assert [event.action for event in listed] == ["login.2", "login.1", "login.0"]
    limited = await durable_store.list_audit_events(pool.id, limit=2)
    assert [event.action for event in limited] == ["login.2", "login.1"]


async def test_an_audit_event_keeps_every_field(durable_store: SqlStore) -> None:
    given = AuditEvent(
        pool_id="pool_x",
        action="qrlogin.authorized",
        actor="usr_1",
        subject="qrl_1",
        detail={"client_id": "demo", "amr": ["wechat_mp_qrcode"], "count": 2, "ok": True},
        ip="203.0.113.7",
        created_at=T0,
    )
    await durable_store.add_audit_events([given])
    [stored] = await durable_store.list_audit_events("pool_x")
    assert stored.id.startswith("evt_")
    given.id = stored.id
    assert stored == given


async def test_a_batch_of_audit_events_is_written_whole(durable_store: SqlStore) -> None:
    batch = [AuditEvent(pool_id="pool_b", action=f"step.{n}", created_at=T0) for n in range(5)]
    await durable_store.add_audit_events(batch)
    listed = await durable_store.list_audit_events("pool_b")
    assert sorted(event.action for event in listed) == [f"step.{n}" for n in range(5)]
    assert len({event.id for event in listed}) == 5


# the database underneath


async def _raw_rows(database_url: str, query: str) -> list[tuple[object, ...]]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            return [tuple(row) for row in await connection.execute(text(query))]
    finally:
        await engine.dispose()


async def test_secrets_are_encrypted_at_rest(durable_store: SqlStore, database_url: str) -> None:
    pool = await a_pool(durable_store)
    await a_source(durable_store, pool, app_secret=APP_SECRET)
    await durable_store.add_signing_key(
        SigningKey(
            kid="k1",
            algorithm="ES256",
            private_jwk=PRIVATE_JWK,
            public_jwk="{}",
            pool_id=pool.id,
        )
    )
    stored = await _raw_rows(database_url, "SELECT * FROM identity_sources")
    stored += await _raw_rows(database_url, "SELECT * FROM signing_keys")
    for value in (value for row in stored for value in row):
        as_bytes = value if isinstance(value, bytes) else str(value).encode()
        assert APP_SECRET.encode() not in as_bytes
        assert b"private-scalar" not in as_bytes

    await durable_store.close()
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        files = list(Path(url.database).parent.iterdir())
        assert files
        for file in files:
            content = file.read_bytes()
            assert APP_SECRET.encode() not in content, file
            assert b"private-scalar" not in content, file


async def test_a_store_with_another_key_cannot_read_the_secrets(
    durable_store: SqlStore, database_url: str
) -> None:
    pool = await a_pool(durable_store)
    await a_source(durable_store, pool, app_secret=APP_SECRET)
    other = await SqlStore.open(database_url, SecretBox("another-key"))
    try:
        with pytest.raises(SecretBoxError, match="MINILOGIN_SECRET_KEY"):
            await other.get_identity_source(pool.id, "wechat-mp-qrcode")
    finally:
        await other.close()


async def test_deleting_a_pool_deletes_everything_in_it(
    durable_store: SqlStore, database_url: str
) -> None:
    pool = await a_pool(durable_store)
    await durable_store.create_application(Application(pool_id=pool.id, client_id="a", name="A"))
    await a_source(durable_store, pool)
    await durable_store.enable_identity_source(pool.id, "a", "wechat-mp-qrcode")
    await durable_store.create_user(User(pool_id=pool.id), an_identity(pool))
    await durable_store.add_audit_events([AuditEvent(pool_id=pool.id, action="kept")])

    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM pools"))
    finally:
        await engine.dispose()

    for table in (
        "applications",
        "identity_sources",
        "application_identity_sources",
        "users",
        "wechat_identities",
    ):
        assert await _raw_rows(database_url, f"SELECT * FROM {table}") == [], table  # noqa: S608
    assert [event.action for event in await durable_store.list_audit_events(pool.id)] == ["kept"]


async def test_a_url_without_the_async_driver_is_accepted(
    durable_store: SqlStore, database_url: str, secret_box: SecretBox
) -> None:
    await a_pool(durable_store)
    url = make_url(database_url)
    plain = url.set(drivername=url.get_backend_name()).render_as_string(hide_password=False)
    store = await SqlStore.open(plain, secret_box)
    try:
        assert await store.get_pool("demo") is not None
    finally:
        await store.close()


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}"
    store = await SqlStore.open(database_url, SecretBox("k" * 32))
    await store.close()
    assert await _raw_rows(database_url, "PRAGMA journal_mode") == [("wal",)]


async def test_administrators_and_tokens_are_listed_described_and_deleted(
    durable_store: SqlStore,
) -> None:
    boss = await durable_store.create_admin(Admin(username="boss", password_hash="h1"))
    await durable_store.create_admin(Admin(username="alice", password_hash="h2"))
    owned = await durable_store.create_api_token(ApiToken(token_hash="t1", admin_id=boss.id))
    unowned = await durable_store.create_api_token(ApiToken(token_hash="t2", description="ci"))

    assert [admin.username for admin in await durable_store.list_admins()] == ["alice", "boss"]
    assert {token.id for token in await durable_store.list_api_tokens()} == {owned.id, unowned.id}
    described = await durable_store.describe_api_token(owned.id, "deploy")
    assert described.description == "deploy"
    assert (await durable_store.get_api_token(owned.id)) == described
    assert await durable_store.get_api_token("tok_missing") is None

    await durable_store.delete_api_token(unowned.id)
    with pytest.raises(NotFound, match="unknown_api_token"):
        await durable_store.delete_api_token(unowned.id)
    with pytest.raises(NotFound, match="unknown_api_token"):
        await durable_store.describe_api_token(unowned.id, "x")
    # Deleting an administrator takes their tokens with them.
    await durable_store.delete_admin(boss.id)
    assert await durable_store.list_api_tokens() == []
    assert [admin.username for admin in await durable_store.list_admins()] == ["alice"]
    with pytest.raises(NotFound, match="unknown_admin"):
        await durable_store.delete_admin(boss.id)


# code images ----------------------------------------------------------------------------------


async def test_code_images_are_kept_replaced_and_deleted(durable_store: SqlStore) -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    png = durable.CodeImage("image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    jpeg = durable.CodeImage("image/jpeg", b"\xff\xd8\xff" + b"\x00\xff" * 5000)
    assert await durable_store.get_code_image("wx1", "scene-a") is None

    await durable_store.put_code_image("wx1", "scene-a", png, now + timedelta(hours=1))
    await durable_store.put_code_image("wx2", "scene-a", jpeg, now + timedelta(hours=1))
    assert await durable_store.get_code_image("wx1", "scene-a") == png
    assert await durable_store.get_code_image("wx2", "scene-a") == jpeg  # per mini program
    await durable_store.put_code_image("wx1", "scene-a", jpeg, now + timedelta(hours=1))
    assert await durable_store.get_code_image("wx1", "scene-a") == jpeg  # replaced

    await durable_store.delete_code_images("wx1", ["scene-a", "missing"])
    assert await durable_store.get_code_image("wx1", "scene-a") is None
    assert await durable_store.get_code_image("wx2", "scene-a") == jpeg
    await durable_store.delete_code_images("wx1", [])


async def test_code_images_past_their_time_are_swept_unless_kept_longer(
    durable_store: SqlStore,
) -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    image = durable.CodeImage("image/png", b"\x89PNG\r\n\x1a\n")
    for scene in ("old", "kept", "young"):
        await durable_store.put_code_image("wx1", scene, image, now + timedelta(minutes=1))
    assert await durable_store.keep_code_image("wx1", "kept", now + timedelta(days=1))
    assert not await durable_store.keep_code_image("wx1", "missing", now + timedelta(days=1))
    await durable_store.put_code_image("wx1", "young", image, now + timedelta(hours=1))

    assert await durable_store.delete_code_images_until(now + timedelta(minutes=2)) == 1
    assert await durable_store.get_code_image("wx1", "old") is None
    assert await durable_store.get_code_image("wx1", "kept") == image
    assert await durable_store.get_code_image("wx1", "young") == image
    assert await durable_store.delete_code_images_until(now + timedelta(minutes=2)) == 0
