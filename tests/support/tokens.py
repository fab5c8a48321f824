"""ID tokens checked as a relying party's OIDC library checks them."""

from __future__ import annotations

from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, KeySetSerialization


def verified_claims(id_token: str, jwks: KeySetSerialization, **expected: str) -> dict[str, Any]:
    """The ID token's claims once its signature checks out against the JWKS and its
    registered claims hold, as a relying party's OIDC library checks them."""
    token = jwt.decode(id_token, KeySet.import_key_set(jwks))
    options: dict[str, jwt.ClaimsOption] = {
        "exp": {"essential": True},
        "iat": {"essential": True},
        "sub": {"essential": True},
    }
    for name, value in expected.items():
        options[name] = {"essential": True, "value": value}
    # ``now`` (the wall clock) and ``leeway`` (5 s) positionally: no claim can stand for them.
    registry = jwt.JWTClaimsRegistry(None, 5, **options)
    registry.validate(token.claims)
    claims: dict[str, Any] = token.claims
    return claims
