"""The signing key store (``storage/sql/signing_keys.py``) on every backend of ``stores``."""

from __future__ import annotations

from datetime import timedelta

from tests.storage.sql.given import PRIVATE_JWK, T0, raise_code

from minilogin.core.entities import SigningKey
from minilogin.core.errors import Conflict
from minilogin.storage.sql import SqlStores


async def test_signing_keys_are_kept_and_listed_oldest_first(stores: SqlStores) -> None:
    newer = SigningKey(
        kid="k2", algorithm="ES256", private_jwk=PRIVATE_JWK, public_jwk='{"kty":"EC"}', active=True
    )
    newer.created_at = T0 + timedelta(days=1)
    older = SigningKey(
        kid="k1", algorithm="RS256", private_jwk="{}", public_jwk="{}", active=False, created_at=T0
    )
    assert await stores.signing_keys.add_signing_key(newer) == newer
    assert await stores.signing_keys.add_signing_key(older) == older
    assert await stores.signing_keys.list_signing_keys() == [older, newer]


async def test_a_kid_is_unique(stores: SqlStores) -> None:
    key = SigningKey(kid="k1", algorithm="ES256", private_jwk="{}", public_jwk="{}")
    await stores.signing_keys.add_signing_key(key)
    await raise_code(stores.signing_keys.add_signing_key(key), Conflict, "signing_key_exists")
