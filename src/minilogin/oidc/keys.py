"""Signing keys for ID tokens and JWT access tokens (RFC 7515, RFC 7517, RFC 7518).

Keys live in the durable store (private halves encrypted there) so that every instance signs
with the same key and every token verifies against its pool's one JWKS.

Every pool has a key set of its own and pools share no ``kid``: a token one pool issued never
verifies at another (issue #13). A pool's keys are made on its first use; two instances doing
that at once agree through the store, which takes one key per serial. Rotation
(``rotate``) makes a key of a higher serial current and gives the ones before it an instant to
retire: until then they stay published and verifying, so that every token they signed can live
its life out.

The key set holds one current key per algorithm: ES256 (P-256, RFC 7518 §3.4), which signs
access tokens and the ID tokens of applications that ask for it, and RS256 (RSA 2048,
RFC 7518 §3.3), which OpenID Connect Discovery 1.0 §3 requires every provider to offer for ID
tokens and which many relying parties assume (Spring Security's default decoder, for one).

Tokens are signed with ``cryptography`` directly, in JWS Compact Serialization (RFC 7515 §7.1),
the protected header encoded once per key and type: each code exchange signs two tokens, and
``joserfc.jwt.encode`` nearly doubled an ES256 token's CPU (0.046 ms against 0.026 ms for the
signature alone, measured here) checking and copying a header that never changes. Verifying
stays with ``joserfc``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ec import ECDSA
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.hashes import SHA256
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeyParameters, KeySet, RSAKey

from minilogin.core.entities import SigningKey
from minilogin.core.errors import Conflict, Unauthorized
from minilogin.ports import SigningKeyStore

ALGORITHM = "ES256"
RS256 = "RS256"
#: RSA keys of 2048 bits, the size RFC 7518 §3.3 requires at least.
RSA_BITS = 2048
#: Every pool has a current key of each.
ALGORITHMS = (ALGORITHM, RS256)
#: Pools whose signer is kept in memory before the memo is emptied rather than grown.
MAX_POOLS = 10_000


def generate_key(
    algorithm: str = ALGORITHM,
    pool_id: str = "",
    serial: int = 1,
    created_at: datetime | None = None,
) -> SigningKey:
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
        created_at=created_at,
        pool_id=pool_id,
        serial=serial,
    )


class Signer:
    """Signs with the current key (highest serial) of the algorithm asked for; verifies against
    every key it was given, which are the ones still published."""

    def __init__(
        self, keys: list[SigningKey], parsed: Mapping[str, ECKey | RSAKey] | None = None
    ) -> None:
        """``parsed``: private keys already imported, by kid (a kid names one key for good),
        which are not imported again: importing an RSA private key checks it, about 50 ms."""
        if not keys:
            raise ValueError("a signer needs at least one key")
        self._current: dict[str, tuple[str, ECKey | RSAKey]] = {}
        self._signatures: dict[str, Callable[[bytes], bytes]] = {}
        for algorithm in dict.fromkeys(k.algorithm for k in keys):
            mine = [k for k in keys if k.algorithm == algorithm]
            newest = max(mine, key=lambda k: (k.active, k.serial))
            known = parsed.get(newest.kid) if parsed is not None else None
            key = known if known is not None else _import_private(newest)
            self._current[algorithm] = (newest.kid, key)
            self._signatures[algorithm] = _signature(key)
        # By (alg, typ): the encoded protected header and its dot, the same for every token.
        self._headers: dict[tuple[str, str], bytes] = {}
        self._algorithms = list(self._current)
        self._public = KeySet.import_key_set({"keys": [json.loads(k.public_jwk) for k in keys]})
        self._jwks: dict[str, object] = {"keys": [json.loads(k.public_jwk) for k in keys]}

    def sign(self, claims: Mapping[str, object], typ: str = "JWT", alg: str = ALGORITHM) -> str:
        """The JWS Compact Serialization (RFC 7515 §7.1) of ``claims`` as a JWT (RFC 7519 §7.1)
        signed with the current key of ``alg``."""
        header = self._headers.get((alg, typ))
        if header is None:
            kid = self._current[alg][0]
            protected = json.dumps({"alg": alg, "kid": kid, "typ": typ}, separators=(",", ":"))
            header = self._headers[alg, typ] = _segment(protected.encode()) + b"."
        payload = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode()
        signing_input = header + _segment(payload)
        signature = _segment(self._signatures[alg](signing_input))
        return (signing_input + b"." + signature).decode("ascii")

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

    def private_keys(self) -> dict[str, ECKey | RSAKey]:
        """The private keys it signs with, by kid: the next signer's ``parsed``."""
        return dict(self._current.values())


def _import_private(key: SigningKey) -> ECKey | RSAKey:
    private = json.loads(key.private_jwk)
    return RSAKey.import_key(private) if key.algorithm == RS256 else ECKey.import_key(private)


def _segment(data: bytes) -> bytes:
    """BASE64URL (RFC 7515 §2): URL-safe base64 without its padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _signature(key: ECKey | RSAKey) -> Callable[[bytes], bytes]:
    """The JWS Signature of a signing input with ``key``: RS256, RSASSA-PKCS1-v1_5 with
    SHA-256 (RFC 7518 §3.3); ES256, ECDSA on P-256 with SHA-256 as R and S, each as many
    octets as the curve's order (32), big-endian (RFC 7518 §3.4), where ``cryptography``
    answers a DER sequence."""
    sha256 = SHA256()
    if isinstance(key, RSAKey):
        rsa = key.private_key
        assert rsa is not None, "a signing key has its private half"
        pkcs1 = PKCS1v15()
        return lambda data: rsa.sign(data, pkcs1, sha256)
    ec = key.private_key
    assert ec is not None, "a signing key has its private half"
    ecdsa, size = ECDSA(sha256), (ec.curve.key_size + 7) // 8

    def es256(data: bytes) -> bytes:
        r, s = decode_dss_signature(ec.sign(data, ecdsa))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    return es256


class KeySource(Protocol):
    """Where a pool's keys are read: the configuration cache, so that a rotation reaches every
    instance."""

    async def get_signing_keys(self, pool_id: str) -> list[SigningKey]: ...

    def forget_signing_keys(self, pool_id: str) -> None: ...


class PoolKeys:
    """Each pool's signer, made from its keys as the key source reads them, and its first keys
    made on first use."""

    def __init__(
        self, source: KeySource, store: SigningKeyStore, clock: Callable[[], float]
    ) -> None:
        self._source = source
        self._store = store
        self._clock = clock
        # By pool: the key list a signer was made from (the source hands the same list until
        # it reads again), the instant its next key retires, and the signer.
        self._signers: dict[str, tuple[list[SigningKey], float, Signer]] = {}

    async def signer(self, pool_id: str) -> Signer:
        keys = await self._source.get_signing_keys(pool_id)
        now = self._clock()
        memo = self._signers.get(pool_id)
        if memo is not None and now < memo[1]:
            if memo[0] is keys:
                return memo[2]
            if memo[0] == keys:
                # The cache read the keys again and nothing changed (no rotation): the signer
                # stays, for this list too.
                self._signers[pool_id] = (keys, memo[1], memo[2])
                return memo[2]
        if any(all(k.algorithm != a for k in keys) for a in ALGORITHMS):
            keys = await self._first_keys(pool_id, keys)
        live = [k for k in keys if k.retire_at is None or k.retire_at.timestamp() > now]
        retiring = [k.retire_at.timestamp() for k in live if k.retire_at is not None]
        # A rotation or a retirement changes the key set; the keys that stay current are not
        # imported again.
        signer = Signer(live, memo[2].private_keys() if memo is not None else None)
        if len(self._signers) >= MAX_POOLS:
            self._signers.clear()
        self._signers[pool_id] = (keys, min(retiring, default=float("inf")), signer)
        return signer

    async def _first_keys(self, pool_id: str, keys: list[SigningKey]) -> list[SigningKey]:
        for algorithm in ALGORITHMS:
            if all(k.algorithm != algorithm for k in keys):
                # Conflict: another instance made it first, and its key is the pool's.
                with contextlib.suppress(Conflict):
                    await self._store.add_signing_key(generate_key(algorithm, pool_id))
        # Another instance that read the pool without keys comes here too, finds the keys
        # taken, and reads the ones that won.
        self._source.forget_signing_keys(pool_id)
        return await self._source.get_signing_keys(pool_id)


async def rotate(
    store: SigningKeyStore, pool_id: str, overlap: timedelta, now: datetime
) -> list[SigningKey]:
    """A new current key of each algorithm for the pool; the keys before them verify, and stay
    published, for ``overlap`` more. Answers the new keys."""
    keys = await store.list_signing_keys(pool_id)
    made = []
    for algorithm in ALGORITHMS:
        serial = max((k.serial for k in keys if k.algorithm == algorithm), default=0) + 1
        key = generate_key(algorithm, pool_id, serial, created_at=now)
        made.append(await store.rotate_signing_key(key, now + overlap))
    return made
