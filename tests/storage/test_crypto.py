"""Secrets at rest (SecretBox) and password hashes."""

from __future__ import annotations

import pytest

from minilogin.storage.crypto import SecretBox, SecretBoxError, hash_password, verify_password


@pytest.mark.parametrize("plaintext", ["", "wx-app-secret-0123456789abcdef", "密钥 🔑"])
def test_a_sealed_secret_opens_to_the_same_text(plaintext: str) -> None:
    box = SecretBox("key")
    assert box.decrypt(box.encrypt(plaintext)) == plaintext


def test_another_box_with_the_same_key_opens_it() -> None:
    assert SecretBox("key").decrypt(SecretBox("key").encrypt("secret")) == "secret"


def test_sealing_twice_gives_different_bytes_neither_showing_the_plaintext() -> None:
    box = SecretBox("key")
    first, second = box.encrypt("app-secret"), box.encrypt("app-secret")
    assert first != second
    assert b"app-secret" not in first
    assert b"app-secret" not in second


def test_the_wrong_key_is_named_as_the_likely_cause() -> None:
    token = SecretBox("right").encrypt("secret")
    with pytest.raises(SecretBoxError, match="MINILOGIN_SECRET_KEY"):
        SecretBox("wrong").decrypt(token)


def test_a_tampered_value_does_not_open() -> None:
    box = SecretBox("key")
    token = bytearray(box.encrypt("secret"))
    token[-1] ^= 1
    with pytest.raises(SecretBoxError):
        box.decrypt(bytes(token))


@pytest.mark.parametrize("token", [b"", b"\x01short", b"\x02" + bytes(40)])
def test_bytes_that_are_not_a_sealed_value_are_refused(token: bytes) -> None:
    with pytest.raises(SecretBoxError, match="not a secret sealed"):
        SecretBox("key").decrypt(token)


def test_an_empty_key_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        SecretBox("")


def test_a_password_verifies_against_its_argon2id_hash() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert "correct horse" not in hashed
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "Correct horse")


def test_the_same_password_hashes_differently_each_time() -> None:
    assert hash_password("pw") != hash_password("pw")


@pytest.mark.parametrize("stored", ["", "not a hash", "$argon2id$v=19$m=65536,t=3,p=4$broken"])
def test_an_unreadable_hash_verifies_nothing(stored: str) -> None:
    assert not verify_password(stored, "pw")
