"""The token endpoint's grants, one handler per grant type (RFC 6749 §4.1.3, §6), registered
in ``oidc/token.py``. A handler is handed the ports it uses when it is built, and one
``TokenRequest`` per call: the client has already authenticated (``oidc/client_auth.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from minilogin.core.entities import Application, Pool


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """A token request of an authenticated client (RFC 6749 §3.2)."""

    issuer: str  # the pool's issuer as the request reached it (its ``iss``)
    pool: Pool
    client: Application
    form: Mapping[str, str]
    ip: str | None = None


class GrantHandler(Protocol):
    async def __call__(self, request: TokenRequest) -> dict[str, object]:
        """The successful token response (RFC 6749 §5.1); ``OAuthError`` otherwise (§5.2)."""
        ...
