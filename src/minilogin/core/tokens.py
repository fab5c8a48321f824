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
#: and ``!#$&'()*+,/:;=?@-._~`` (getUnlimitedQRCode, parameter ``scene``). A scene made of
#: letters and digits survives every URL and QR encoding unchanged; 22 of them carry 131 bits,
#: so nobody guesses a scene that is live.
SCENE_ALPHABET = string.ascii_letters + string.digits
SCENE_LENGTH = 22
#: How many two-digit numbers the phone offers when a login asks for number matching.
MATCH_CHOICES = 3
SCENE_ALLOWED = frozenset(string.ascii_letters + string.digits + "!#$&'()*+,/:;=?@-._~")
SCENE_MAX_LENGTH = 32


def new_scene() -> str:
    return "".join(secrets.choice(SCENE_ALPHABET) for _ in range(SCENE_LENGTH))


def new_match() -> tuple[str, tuple[str, ...]]:
    """Number matching: the two digits the PC shows, and the ``MATCH_CHOICES`` different
    numbers (the shown one among them, in random order) the phone offers to pick from."""
    numbers = secrets.SystemRandom().sample(range(100), MATCH_CHOICES)
    choices = tuple(f"{n:02d}" for n in numbers)
    return secrets.choice(choices), choices


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
