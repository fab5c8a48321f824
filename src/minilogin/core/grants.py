"""What an authorization code stands for, and what its exchange issued: the records the
login product writes when a QR login is authorized and the token endpoint reads
(``oidc/grants/authorization_code.py``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class AuthorizationCode:
    """What a one-time code stands for until it is exchanged (OIDC Core §3.1.2.5)."""

    pool: str
    client_id: str
    user_id: str
    code_challenge: str | None  # None: a confidential client that sent no PKCE
    scope: str
    auth_time: int
    amr: list[str]
    nonce: str | None = None
    redirect_uri: str | None = None
    qrlogin_id: str | None = None
    #: The claims about the user that ``scope`` releases, as the login left the user
    #: (``core.claims.user_claims``), so that the exchange reads no user. ``None`` in a code
    #: an earlier version wrote.
    claims: dict[str, object] | None = None


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """What the first exchange of a code issued, so a replay can revoke it (RFC 6749 §4.1.2)."""

    access_token_ids: list[str] = field(default_factory=list)
    expires_at: float = 0.0
