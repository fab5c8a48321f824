"""The signer (``oidc/keys.py``): one current key per algorithm in one published key set, ID
tokens in the algorithm asked for, and a deployment from before RS256 given its RSA key on its
next start without losing the key its tokens were signed with."""

from __future__ import annotations

from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from minilogin.core.errors import Unauthorized
from minilogin.oidc.keys import Signer, generate_key
from minilogin.storage.crypto import SecretBox
from minilogin.storage.sql import SqlStores, upgrade_async


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


def test_a_token_signed_by_another_key_is_refused() -> None:
    theirs = Signer([generate_key("RS256"), generate_key("ES256")])
    ours = Signer([generate_key("RS256"), generate_key("ES256")])
    with pytest.raises(Unauthorized):
        ours.verify(theirs.sign({"sub": "u1"}, alg="RS256"))


def test_only_the_offered_algorithms_have_keys() -> None:
    with pytest.raises(ValueError, match="HS256"):
        generate_key("HS256")


async def test_a_store_with_only_an_es256_key_gets_an_rsa_key_and_keeps_the_old_one(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
    await upgrade_async(url)
    store = await SqlStores.open(url, SecretBox("test-secret-key"))
    try:
        old = await store.signing_keys.add_signing_key(generate_key("ES256"))
        old_token = Signer([old]).sign({"sub": "u1"})
        signer = await Signer.load(store.signing_keys)
        keys = await store.signing_keys.list_signing_keys()
        assert sorted(k.algorithm for k in keys) == ["ES256", "RS256"]
        assert signer.verify(old_token)["sub"] == "u1"
        assert (
            jwt.decode(signer.sign({"sub": "u1"}), KeySet.import_key_set(signer.jwks())).header[  # type: ignore[arg-type]
                "kid"
            ]
            == old.kid
        ), "ES256 goes on with the key it had"
        await Signer.load(store.signing_keys)
        assert await store.signing_keys.list_signing_keys() == keys, "nothing made twice"
    finally:
        await store.close()
