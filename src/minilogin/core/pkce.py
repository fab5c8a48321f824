"""Proof Key for Code Exchange, RFC 7636. Only ``S256`` is accepted (§4.2, §7.2)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

from minilogin.core.errors import InvalidRequest, OAuthError

# RFC 7636 §4.1: code_verifier = 43*128unreserved
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
# BASE64URL(SHA256(...)) without padding is always 43 characters.
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")


def s256(verifier: str) -> str:
    """RFC 7636 §4.2: ``BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))``."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def validate_challenge(challenge: object, method: object) -> str:
    """Check what the browser sends when it starts a login; ``plain`` is refused."""
    if method != "S256":
        raise InvalidRequest("invalid_code_challenge_method")
    if not isinstance(challenge, str) or not _CHALLENGE.fullmatch(challenge):
        raise InvalidRequest("invalid_code_challenge")
    return challenge


def verify(verifier: object, challenge: str) -> None:
    """RFC 7636 §4.6: the server recomputes the challenge from the verifier and compares."""
    if not isinstance(verifier, str) or not _VERIFIER.fullmatch(verifier):
        raise OAuthError("invalid_grant", "code_verifier is missing or malformed")
    if not hmac.compare_digest(s256(verifier), challenge):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
