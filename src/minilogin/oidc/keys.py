"""Signing keys for ID tokens and JWT access tokens (RFC 7515, RFC 7517, RFC 7518 ES256).

Keys live in the durable store (private halves encrypted there) so that every instance signs
with the same key and every token verifies against the one JWKS.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from minilogin.core.entities import SigningKey
from minilogin.core.errors import Unauthorized
from minilogin.storage.durable import DurableStore

ALGORITHM = "ES256"


def generate_key() -> SigningKey:
    kid = secrets.token_urlsafe(12)
    key = ECKey.generate_key(
        "P-256", parameters={"kid": kid, "use": "sig", "alg": ALGORITHM}, private=True
    )
    return SigningKey(
        kid=kid,
        algorithm=ALGORITHM,
        private_jwk=json.dumps(key.as_dict(private=True)),
        public_jwk=json.dumps(key.as_dict(private=False)),
    )


class Signer:
    """Signs with the newest active key; verifies against every key still published."""

    def __init__(self, keys: list[SigningKey]) -> None:
        if not keys:
            raise ValueError("a signer needs at least one key")
        active = [k for k in keys if k.active] or keys
        self._current = ECKey.import_key(json.loads(active[-1].private_jwk))
        self._kid = active[-1].kid
        self._public = KeySet.import_key_set({"keys": [json.loads(k.public_jwk) for k in keys]})
        self._jwks: dict[str, object] = {"keys": [json.loads(k.public_jwk) for k in keys]}

    @classmethod
    async def load(cls, store: DurableStore) -> Signer:
        """The store's keys; on first start, a new key is made and kept."""
        keys = await store.list_signing_keys()
        if not keys:
            await store.add_signing_key(generate_key())
            keys = await store.list_signing_keys()
        return cls(keys)

    def sign(self, claims: Mapping[str, object], typ: str = "JWT") -> str:
        header = {"alg": ALGORITHM, "kid": self._kid, "typ": typ}
        return jwt.encode(header, dict(claims), self._current)

    def verify(self, token: str) -> dict[str, object]:
        """The claims of a token this provider signed; ``Unauthorized`` for anything else."""
        try:
            decoded = jwt.decode(token, self._public, algorithms=[ALGORITHM])
        except (JoseError, ValueError) as exc:
            raise Unauthorized(
                "invalid_token", "the token is malformed or not signed by us"
            ) from exc
        return dict(decoded.claims)

    def jwks(self) -> dict[str, object]:
        return self._jwks
