"""The signing key store (``storage/sql/signing_keys.py``) on every backend of ``stores``:
each pool's keys apart, one key per serial, rotation's retirement."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.storage.sql.given import PRIVATE_JWK, T0, a_pool, raise_code

from minilogin.core.entities import SigningKey
from minilogin.core.errors import Conflict, NotFound
from minilogin.storage.sql import SqlStores


async def test_signing_keys_are_kept_and_listed_per_pool_oldest_first(
    stores: SqlStores,
) -> None:
    pool, other = await a_pool(stores), await a_pool(stores, "other")
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
    assert await stores.signing_keys.add_signing_key(newer) == newer
    assert await stores.signing_keys.add_signing_key(older) == older
    await stores.signing_keys.add_signing_key(theirs)
    assert await stores.signing_keys.list_signing_keys(pool.id) == [older, newer]
    assert [k.kid for k in await stores.signing_keys.list_signing_keys(other.id)] == ["k3"]


async def test_a_kid_is_unique(stores: SqlStores) -> None:
    pool, other = await a_pool(stores), await a_pool(stores, "other")
    key = SigningKey(kid="k1", algorithm="ES256", private_jwk="{}", public_jwk="{}")
    key.pool_id = pool.id
    await stores.signing_keys.add_signing_key(key)
    await raise_code(stores.signing_keys.add_signing_key(key), Conflict, "signing_key_exists")
    key.pool_id = other.id
    await raise_code(stores.signing_keys.add_signing_key(key), Conflict, "signing_key_exists")


async def test_a_pool_has_one_key_per_serial_and_algorithm(stores: SqlStores) -> None:
    """What two instances making a pool's first keys at once rely on: one of them wins."""
    pool = await a_pool(stores)

    def key(kid: str, algorithm: str = "ES256") -> SigningKey:
        return SigningKey(
            kid=kid, algorithm=algorithm, private_jwk="{}", public_jwk="{}", pool_id=pool.id
        )

    results = await asyncio.gather(
        *(stores.signing_keys.add_signing_key(key(f"k{n}")) for n in range(4)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, SigningKey) for r in results) == 1
    assert all(isinstance(r, SigningKey | Conflict) for r in results), results
    await stores.signing_keys.add_signing_key(key("rsa", "RS256"))
    assert len(await stores.signing_keys.list_signing_keys(pool.id)) == 2


async def test_a_key_of_an_unknown_pool_is_refused(stores: SqlStores) -> None:
    key = SigningKey(kid="k1", algorithm="ES256", private_jwk="{}", public_jwk="{}")
    key.pool_id = "pool_nobody"
    await raise_code(stores.signing_keys.add_signing_key(key), NotFound, "unknown_pool")


async def test_rotating_retires_the_older_keys_and_drops_the_retired(
    stores: SqlStores,
) -> None:
    pool = await a_pool(stores)

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

    await stores.signing_keys.add_signing_key(key(1))
    await stores.signing_keys.add_signing_key(key(1, "RS256"))
    await stores.signing_keys.rotate_signing_key(key(2, days=1), T0 + timedelta(days=3))
    by_kid = {k.kid: k for k in await stores.signing_keys.list_signing_keys(pool.id)}
    assert (by_kid["ES256-1"].active, by_kid["ES256-1"].retire_at) == (
        False,
        T0 + timedelta(days=3),
    )
    assert (by_kid["ES256-2"].active, by_kid["ES256-2"].retire_at) == (True, None)
    assert (by_kid["RS256-1"].active, by_kid["RS256-1"].retire_at) == (True, None), "untouched"
    # A second rotation within the first one's overlap keeps the earlier instant.
    await stores.signing_keys.rotate_signing_key(key(3, days=2), T0 + timedelta(days=9))
    retire = {k.kid: k.retire_at for k in await stores.signing_keys.list_signing_keys(pool.id)}
    assert retire["ES256-1"] == T0 + timedelta(days=3)
    assert retire["ES256-2"] == T0 + timedelta(days=9)
    # Once a retired key's instant has passed, the next rotation deletes it.
    await stores.signing_keys.rotate_signing_key(key(4, days=4), T0 + timedelta(days=20))
    kids = [k.kid for k in await stores.signing_keys.list_signing_keys(pool.id)]
    assert kids == ["RS256-1", "ES256-2", "ES256-3", "ES256-4"]
    await raise_code(
        stores.signing_keys.rotate_signing_key(key(4, days=5), T0 + timedelta(days=30)),
        Conflict,
        "signing_key_exists",
    )
