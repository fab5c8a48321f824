"""Signing keys for ID tokens and JWT access tokens (RFC 7515, RFC 7517, RFC 7518).

Keys live in the durable store (private halves encrypted there) so that every instance signs
with the same key and every token verifies against the one JWKS.

The key set holds one current key per algorithm: ES256 (P-256, RFC 7518 §3.4), which signs
access tokens and the ID tokens of applications that ask for it, and RS256 (RSA 2048,
RFC 7518 §3.3), which OpenID Connect Discovery 1.0 §3 requires every provider to offer for ID
tokens and which many relying parties assume (Spring Security's default decoder, for one).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeyParameters, KeySet, RSAKey

from minilogin.core.entities import SigningKey
from minilogin.core.errors import Unauthorized
from minilogin.ports import SigningKeyStore

ALGORITHM = "ES256"
RS256 = "RS256"
#: RSA keys of 2048 bits, the size RFC 7518 §3.3 requires at least.
RSA_BITS = 2048


def generate_key(algorithm: str = ALGORITHM) -> SigningKey:
    kid = secrets.token_urlsafe(12)
    parameters: KeyParameters = {"kid": kid, "use": "sig", "alg": algorithm}
    key: ECKey | RSAKey
    if algorithm == RS256:
        key = RSAKey.generate_key(RSA_BITS, parameters=parameters, private=True)
    elif algorithm == ALGORITHM:
        key = ECKey.generate_key("P-256", parameters=parameters, private=True)
    else:
        raise ValueError(f"no keys for {algorithm}")
    return SigningKey(
        kid=kid,
        algorithm=algorithm,
        private_jwk=json.dumps(key.as_dict(private=True)),
        public_jwk=json.dumps(key.as_dict(private=False)),
    )


class Signer:
    """Signs with the newest active key of the algorithm asked for; verifies against every key
    still published."""

    def __init__(self, keys: list[SigningKey]) -> None:
        if not keys:
            raise ValueError("a signer needs at least one key")
        self._current: dict[str, tuple[str, ECKey | RSAKey]] = {}
        for algorithm in dict.fromkeys(k.algorithm for k in keys):
            mine = [k for k in keys if k.algorithm == algorithm]
            newest = ([k for k in mine if k.active] or mine)[-1]
            private = json.loads(newest.private_jwk)
            key = RSAKey.import_key(private) if algorithm == RS256 else ECKey.import_key(private)
            self._current[algorithm] = (newest.kid, key)
        self._algorithms = list(self._current)
        self._public = KeySet.import_key_set({"keys": [json.loads(k.public_jwk) for k in keys]})
        self._jwks: dict[str, object] = {"keys": [json.loads(k.public_jwk) for k in keys]}

    @classmethod
    async def load(cls, store: SigningKeyStore) -> Signer:
        """The store's keys; a key of each algorithm that has none yet is made and kept (on
        first start, and on the first start of a version that added an algorithm)."""
        keys = await store.list_signing_keys()
        missing = [a for a in (ALGORITHM, RS256) if all(k.algorithm != a for k in keys)]
        if missing:
            for algorithm in missing:
                await store.add_signing_key(generate_key(algorithm))
            keys = await store.list_signing_keys()
        return cls(keys)

    def sign(self, claims: Mapping[str, object], typ: str = "JWT", alg: str = ALGORITHM) -> str:
        kid, key = self._current[alg]
        header = {"alg": alg, "kid": kid, "typ": typ}
        return jwt.encode(header, dict(claims), key)

    def verify(self, token: str) -> dict[str, object]:
        """The claims of a token this provider signed; ``Unauthorized`` for anything else."""
        try:
            decoded = jwt.decode(token, self._public, algorithms=self._algorithms)
        except (JoseError, ValueError) as exc:
            raise Unauthorized(
                "invalid_token", "the token is malformed or not signed by us"
            ) from exc
        return dict(decoded.claims)

    def jwks(self) -> dict[str, object]:
        return self._jwks
