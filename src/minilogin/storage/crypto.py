"""Secrets at rest and password hashes.

``SecretBox`` seals the secrets the service must be able to read back (mini program
AppSecrets, private signing keys) with AES-256-GCM under a key derived from the
``MINILOGIN_SECRET_KEY`` setting. ``hash_password``/``verify_password`` keep what it only ever
needs to compare (account and administrator passwords) as Argon2id hashes.
"""

from __future__ import annotations

import os

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# The first byte of every sealed value names its format, so that a later format (another
# cipher, a rotated key) can be told apart from this one and read side by side.
_FORMAT_V1 = b"\x01"
_NONCE_BYTES = 12
_TAG_BYTES = 16
# HKDF "info": binds the derived key to this use, so the same setting could key another
# purpose without the two keys being related.
_KEY_INFO = b"minilogin secret box v1 aes-256-gcm"


class SecretBoxError(ValueError):
    """A sealed value could not be opened: wrong key, corrupt data, or not a sealed value."""


class SecretBox:
    """Encrypts and decrypts short secrets with a key derived from a settings string."""

    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("the secret key is empty: set MINILOGIN_SECRET_KEY")
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO).derive(
            key.encode()
        )
        self._aead = AESGCM(derived)

    def encrypt(self, plaintext: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _FORMAT_V1 + nonce + self._aead.encrypt(nonce, plaintext.encode(), _FORMAT_V1)

    def decrypt(self, token: bytes) -> str:
        if len(token) < 1 + _NONCE_BYTES + _TAG_BYTES or token[:1] != _FORMAT_V1:
            raise SecretBoxError("the stored value is not a secret sealed by minilogin")
        nonce, sealed = token[1 : 1 + _NONCE_BYTES], token[1 + _NONCE_BYTES :]
        try:
            plaintext = self._aead.decrypt(nonce, sealed, _FORMAT_V1)
        except InvalidTag:
            raise SecretBoxError(
                "cannot decrypt a stored secret: MINILOGIN_SECRET_KEY is not the key it was "
                "encrypted with, or the stored value is corrupt"
            ) from None
        return plaintext.decode()


# argon2-cffi's defaults are RFC 9106's recommended low-memory Argon2id profile.
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; False for a wrong password or an unreadable hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
