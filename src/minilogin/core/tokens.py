"""Random identifiers and secrets, and how they are kept.

Secrets given to a client (the QR login secret, authorization codes) are stored only as a
SHA-256 hash, so a leaked ephemeral store does not leak usable credentials.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

#: WeChat's ``getwxacodeunlimit`` accepts at most 32 visible characters from digits, letters
#: and ``!#$&'()*+,/:;=?@-._~``. A scene made of letters and digits survives every URL and
#: QR encoding unchanged; 16 of them carry 95 bits.
SCENE_ALPHABET = string.ascii_letters + string.digits
SCENE_LENGTH = 16
SCENE_ALLOWED = frozenset(string.ascii_letters + string.digits + "!#$&'()*+,/:;=?@-._~")
SCENE_MAX_LENGTH = 32


def new_scene() -> str:
    return "".join(secrets.choice(SCENE_ALPHABET) for _ in range(SCENE_LENGTH))


def is_valid_scene(scene: str) -> bool:
    return 0 < len(scene) <= SCENE_MAX_LENGTH and set(scene) <= SCENE_ALLOWED


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(16)}"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(secret: str | None, expected_digest: str) -> bool:
    if not secret:
        return False
    return hmac.compare_digest(digest(secret), expected_digest)
