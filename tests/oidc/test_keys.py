"""The signers (``oidc/keys.py``): one current key per algorithm in each pool's own key set,
ID tokens in the algorithm asked for, a pool's first keys made once however many instances
ask at once, and rotation: new tokens carry the new kid, earlier ones verify until the overlap
ends, and then the old kid leaves the key set."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from minilogin.core.entities import Pool
from minilogin.core.errors import Unauthorized
from minilogin.oidc.keys import PoolKeys, Signer, generate_key, rotate
from minilogin.storage.config_cache import ConfigCache
from minilogin.storage.crypto import SecretBox
from minilogin.storage.ephemeral.memory import MemoryStore
from minilogin.storage.sql import SqlStores, upgrade_async
from tests.support.cli import run_minilogin
from tests.support.logins import kid_of, tokens_of_a_login
from tests.support.server import minilogin_dev
from tests.support.tokens import verified_claims

TTL = 5.0


def test_each_algorithm_signs_with_its_own_key_and_everything_verifies() -> None:
    ec, rsa = generate_key("ES256"), generate_key("RS256")
    signer = Signer([ec, rsa])
    public = KeySet.import_key_set(signer.jwks())  # type: ignore[arg-type]
    for alg, key in (("ES256", ec), ("RS256", rsa)):
        token = signer.sign({"sub": "u1"}, alg=alg)
        header = jwt.decode(token, public, algorithms=[alg]).header
        assert (header["alg"], header["kid"]) == (alg, key.kid)
        assert signer.verify(token)["sub"] == "u1"
    assert signer.sign({"sub": "u1"}).count(".") == 2
    assert {k["kty"] for k in signer.jwks()["keys"]} == {"EC", "RSA"}  # type: ignore[index]
    assert all("d" not in k for k in signer.jwks()["keys"])  # type: ignore[union-attr]


def test_a_token_is_the_compact_serialization_of_its_header_and_claims() -> None:
    """RFC 7515 §7.1: three BASE64URL segments without padding; the claims as UTF-8 JSON;
    an ES256 signature as R and S of 32 octets each (RFC 7518 §3.4), an RS256 one of the
    modulus' 256 (RFC 7518 §3.3)."""
    ec, rsa = generate_key("ES256"), generate_key("RS256")
    signer = Signer([ec, rsa])
    claims = {"sub": "u1", "name": "小明", "amr": ["wechat_mp_qrcode"], "phone_verified": True}
    for alg, typ, key, octets in (("ES256", "at+jwt", ec, 64), ("RS256", "JWT", rsa, 256)):
        token = signer.sign(claims, typ=typ, alg=alg)
        segments = token.split(".")
        assert len(segments) == 3
        assert all("=" not in segment for segment in segments)
        header, payload, signature = (
            base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)) for segment in segments
        )
        assert json.loads(header) == {"alg": alg, "kid": key.kid, "typ": typ}
        assert json.loads(payload.decode("utf-8")) == claims
        assert len(signature) == octets
        public = KeySet.import_key_set(signer.jwks())  # type: ignore[arg-type]
        assert jwt.decode(token, public, algorithms=[alg]).claims == claims
        # The header is encoded once; a second token of the same type still verifies.
        assert signer.verify(signer.sign({"sub": "u2"}, typ=typ, alg=alg))["sub"] == "u2"


def test_a_token_signed_by_another_key_is_refused() -> None:
    theirs = Signer([generate_key("RS256"), generate_key("ES256")])
    ours = Signer([generate_key("RS256"), generate_key("ES256")])
    with pytest.raises(Unauthorized):
        ours.verify(theirs.sign({"sub": "u1"}, alg="RS256"))


def test_only_the_offered_algorithms_have_keys() -> None:
    with pytest.raises(ValueError, match="HS256"):
        generate_key("HS256")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqlStores]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
    await upgrade_async(url)
    opened = await SqlStores.open(url, SecretBox("test-secret-key"))
    yield opened
    await opened.close()


@pytest.fixture
async def instances(store: SqlStores) -> AsyncIterator[tuple[list[PoolKeys], Clock]]:
    """Two instances over one database, each with its own memory store: no change message
    passes between them, only the cache's time to live."""
    clock = Clock()
    caches = [
        ConfigCache(
            store.pools,
            store.applications,
            store.identity_sources,
            store.signing_keys,
            MemoryStore(),
            TTL,
            clock,
        )
        for _ in range(2)
    ]
    for cache in caches:
        await cache.start()
    yield [PoolKeys(cache, store.signing_keys, clock) for cache in caches], clock
    for cache in caches:
        await cache.close()


def published(signer: Signer) -> set[str]:
    return {str(key["kid"]) for key in signer.jwks()["keys"]}  # type: ignore[attr-defined]


async def test_pools_get_keys_of_their_own_and_refuse_each_others_tokens(
    store: SqlStores, instances: tuple[list[PoolKeys], Clock]
) -> None:
    [keys, _], _ = instances
    a = await store.pools.create_pool(Pool(slug="a", name="A"))
    b = await store.pools.create_pool(Pool(slug="b", name="B"))
    signer_a, signer_b = await keys.signer(a.id), await keys.signer(b.id)
    assert published(signer_a)
    assert not published(signer_a) & published(signer_b)
    for alg in ("RS256", "ES256"):
        token = signer_a.sign({"sub": "u1"}, alg=alg)
        assert signer_a.verify(token)["sub"] == "u1"
        with pytest.raises(Unauthorized):
            signer_b.verify(token)
    assert sorted(k.algorithm for k in await store.signing_keys.list_signing_keys(a.id)) == [
        "ES256",
        "RS256",
    ]


async def test_two_instances_making_a_pools_first_keys_at_once_agree(
    store: SqlStores, instances: tuple[list[PoolKeys], Clock]
) -> None:
    pool = await store.pools.create_pool(Pool(slug="a", name="A"))
    first, second = await asyncio.gather(*(k.signer(pool.id) for k in instances[0]))
    assert len(await store.signing_keys.list_signing_keys(pool.id)) == 2, (
        "one key per algorithm, once"
    )
    assert published(first) == published(second)
    assert second.verify(first.sign({"sub": "u1"}))["sub"] == "u1"


async def test_a_rotation_reaches_an_instance_that_never_restarts_and_the_old_kid_retires(
    store: SqlStores, instances: tuple[list[PoolKeys], Clock]
) -> None:
    [keys, _], clock = instances
    pool = await store.pools.create_pool(Pool(slug="a", name="A"))
    before = (await keys.signer(pool.id)).sign({"sub": "u1"}, alg="RS256")
    old_kid = kid_of(before)
    overlap = timedelta(seconds=60)
    made = await rotate(
        store.signing_keys, pool.id, overlap, datetime.fromtimestamp(clock.now, UTC)
    )
    assert sorted(k.algorithm for k in made) == ["ES256", "RS256"]
    assert all(k.serial == 2 for k in made)
    new_rs = next(k.kid for k in made if k.algorithm == "RS256")

    # Within the cache's time to live the instance may still sign with the old key: the
    # overlap a rotation gives covers that as well.
    clock.now += TTL + 0.1
    signer = await keys.signer(pool.id)
    after = signer.sign({"sub": "u1"}, alg="RS256")
    assert kid_of(after) == new_rs
    assert signer.verify(before)["sub"] == "u1", "tokens issued before still verify"
    assert old_kid in published(signer)

    clock.now += overlap.total_seconds()
    signer = await keys.signer(pool.id)
    assert old_kid not in published(signer)
    with pytest.raises(Unauthorized):
        signer.verify(before)
    assert signer.verify(after)["sub"] == "u1"


async def test_a_retired_key_leaves_even_while_the_key_list_is_cached(
    store: SqlStores, instances: tuple[list[PoolKeys], Clock]
) -> None:
    """The signer made from a cached list is not kept past its next key's retirement."""
    [keys, _], clock = instances
    pool = await store.pools.create_pool(Pool(slug="a", name="A"))
    old_kid = kid_of((await keys.signer(pool.id)).sign({"sub": "u1"}))
    overlap = timedelta(seconds=TTL + 3)
    await rotate(store.signing_keys, pool.id, overlap, datetime.fromtimestamp(clock.now, UTC))
    clock.now += TTL + 0.1  # the list is read again here, and kept until 2 * TTL + 0.1
    assert old_kid in published(await keys.signer(pool.id))
    clock.now += 3.0
    assert old_kid not in published(await keys.signer(pool.id))


# ---- on a real server: pools apart ----------------------------------------------------------


async def test_a_token_of_one_pool_is_refused_by_another(tmp_path: Path) -> None:
    """The attack: an ID token (or access token) pool ``demo`` issued, presented where pool
    ``other`` is the issuer, to its relying parties' key set and to its own endpoints."""
    env = {"MINILOGIN_RATE_LIMIT_SCALE": "0"}
    with minilogin_dev(tmp_path, **env) as server:
        created = run_minilogin("admin", "create-pool", "other", "Other", data_dir=tmp_path)
        assert created.returncode == 0, created.stderr
        demo, other = server.issuer("demo"), server.issuer("other")
        async with httpx.AsyncClient(timeout=30) as web:
            tokens = await tokens_of_a_login(web, server.public, demo, "alice")
            demo_jwks = (await web.get(f"{demo}/oidc/jwks")).json()
            other_jwks = (await web.get(f"{other}/oidc/jwks")).json()
            demo_kids = {key["kid"] for key in demo_jwks["keys"]}
            other_kids = {key["kid"] for key in other_jwks["keys"]}
            assert len(demo_kids) == len(other_kids) == 2
            assert not demo_kids & other_kids
            assert kid_of(tokens["id_token"]) in demo_kids

            # A relying party of ``other`` checks signatures against other's key set.
            verified_claims(tokens["id_token"], demo_jwks)
            with pytest.raises(JoseError):
                verified_claims(tokens["id_token"], other_jwks)
            # The server of ``other`` does not take it either.
            hint = await web.get(
                f"{other}/oidc/session/end", params={"id_token_hint": tokens["id_token"]}
            )
            assert hint.status_code == 400, hint.text
            bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
            refused = await web.get(f"{other}/oidc/userinfo", headers=bearer)
            assert refused.status_code == 401, refused.text
            assert (await web.get(f"{demo}/oidc/userinfo", headers=bearer)).status_code == 200
        assert "500 Internal Server Error" not in server.log.read_text()


async def test_keys_read_again_unchanged_keep_the_signer_and_a_rotation_imports_only_new_keys(
    store: SqlStores, instances: tuple[list[PoolKeys], Clock]
) -> None:
    """Importing a private key is costly (an RSA key is checked): the cache's re-read of keys
    that did not change keeps the signer, and a rotation reuses what stays current."""
    [keys, _], clock = instances
    pool = await store.pools.create_pool(Pool(slug="a", name="A"))
    first = await keys.signer(pool.id)
    clock.now += TTL + 0.1  # the cache reads the keys from the store again
    assert await keys.signer(pool.id) is first
    kept = first.private_keys()
    assert set(kept) == {k.kid for k in await store.signing_keys.list_signing_keys(pool.id)}

    await rotate(
        store.signing_keys, pool.id, timedelta(seconds=60), datetime.fromtimestamp(clock.now, UTC)
    )
    clock.now += TTL + 0.1
    rotated = await keys.signer(pool.id)
    assert rotated is not first
    assert not set(rotated.private_keys()) & set(kept), "the new keys sign"
    # The old keys' retirement changes the key set but not the current keys: no new import.
    clock.now += 60.0
    retired = await keys.signer(pool.id)
    assert retired is not rotated
    assert all(retired.private_keys()[kid] is key for kid, key in rotated.private_keys().items())
