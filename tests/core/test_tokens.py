"""Scenes, identifiers, secrets and their digests."""

from __future__ import annotations

import hashlib
import math
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minilogin.core import tokens
from minilogin.core.tokens import is_valid_scene

#: What WeChat's ``getwxacodeunlimit`` accepts in ``scene`` (its documentation, verbatim).
WECHAT_PUNCTUATION = "!#$&'()*+,/:;=?@-._~"
WECHAT_ALLOWED = set(string.ascii_letters + string.digits + WECHAT_PUNCTUATION)
URL_SAFE_BASE64 = set(string.ascii_letters + string.digits + "-_")


# --- scenes ---------------------------------------------------------------------------


def test_the_allowed_set_is_wechats() -> None:
    assert tokens.SCENE_ALLOWED == WECHAT_ALLOWED
    assert tokens.SCENE_MAX_LENGTH == 32
    assert set(tokens.SCENE_ALPHABET) <= WECHAT_ALLOWED


def test_new_scenes_are_valid_for_wechat() -> None:
    for _ in range(500):
        scene = tokens.new_scene()
        assert isinstance(scene, str)
        assert 0 < len(scene) <= 32
        assert len(scene) == tokens.SCENE_LENGTH
        assert set(scene) <= WECHAT_ALLOWED
        # Letters and digits only: nothing that a URL or a QR payload would escape.
        assert scene.isascii()
        assert scene.isalnum()
        assert is_valid_scene(scene)


def test_new_scenes_carry_at_least_128_bits() -> None:
    bits = tokens.SCENE_LENGTH * math.log2(len(set(tokens.SCENE_ALPHABET)))
    assert bits >= 128
    assert tokens.SCENE_LENGTH <= 32


def test_number_matching_offers_distinct_two_digit_choices_with_the_shown_one_among_them() -> None:
    seen: set[str] = set()
    for _ in range(300):
        shown, choices = tokens.new_match()
        assert len(choices) == tokens.MATCH_CHOICES == len(set(choices))
        assert shown in choices
        assert all(len(c) == 2 and c.isdigit() for c in choices)
        seen.add(shown)
    assert len(seen) > 50  # drawn from all hundred, not a few


def test_new_scenes_are_unique_and_use_the_whole_alphabet() -> None:
    scenes = [tokens.new_scene() for _ in range(10_000)]
    assert len(set(scenes)) == len(scenes)
    used = set("".join(scenes))
    assert used == set(tokens.SCENE_ALPHABET)
    # 16 characters from 62 carry more than 95 bits.
    assert tokens.SCENE_LENGTH >= 16
    assert len(tokens.SCENE_ALPHABET) >= 62


@pytest.mark.parametrize(
    "scene",
    [
        pytest.param("a", id="one-char"),
        pytest.param("A" * 32, id="32-chars"),
        pytest.param("0123456789", id="digits"),
        pytest.param("qrl=abc&x=1", id="query-like"),
        pytest.param(string.ascii_letters[:32], id="letters"),
        pytest.param(WECHAT_PUNCTUATION, id="all-punctuation"),
    ],
)
def test_valid_scenes(scene: str) -> None:
    assert is_valid_scene(scene)


@pytest.mark.parametrize("char", list(WECHAT_PUNCTUATION))
def test_each_allowed_punctuation_is_valid(char: str) -> None:
    assert is_valid_scene(char)
    assert is_valid_scene(f"a{char}b")
    assert is_valid_scene(char * 32)


@pytest.mark.parametrize(
    "scene",
    [
        pytest.param("", id="empty"),
        pytest.param("A" * 33, id="33-chars"),
        pytest.param("A" * 1000, id="1000-chars"),
        pytest.param(" ", id="space"),
        pytest.param("a b", id="inner-space"),
        pytest.param("abc ", id="trailing-space"),
        pytest.param("\tabc", id="tab"),
        pytest.param("abc\n", id="newline"),
        pytest.param("ab\x00c", id="nul"),
        pytest.param("扫码登录", id="chinese"),
        pytest.param("café", id="accent"),
        pytest.param("ａｂｃ", id="fullwidth"),
        pytest.param("abc😀", id="emoji"),
        pytest.param("a%20b", id="percent"),
        pytest.param('a"b', id="double-quote"),
        pytest.param("a<b>", id="angle-brackets"),
        pytest.param("a\\b", id="backslash"),
        pytest.param("a^b", id="caret"),
        pytest.param("a`b", id="backtick"),
        pytest.param("a{b}", id="braces"),
        pytest.param("a[b]", id="brackets"),
        pytest.param("a|b", id="pipe"),
    ],
)
def test_invalid_scenes(scene: str) -> None:
    assert not is_valid_scene(scene)


@given(st.text(max_size=40))
def test_is_valid_scene_is_exactly_the_wechat_rule(scene: str) -> None:
    expected = 1 <= len(scene) <= 32 and all(char in WECHAT_ALLOWED for char in scene)
    assert is_valid_scene(scene) is expected


# --- identifiers and secrets ----------------------------------------------------------


def test_ids_carry_their_prefix_and_are_unique() -> None:
    ids = [tokens.new_id("qrl") for _ in range(5_000)]
    assert len(set(ids)) == len(ids)
    for value in ids[:100]:
        prefix, _, rest = value.partition("_")
        assert prefix == "qrl"
        assert len(rest) >= 22  # 16 random bytes
        assert set(rest) <= URL_SAFE_BASE64


def test_secrets_are_long_url_safe_and_unique() -> None:
    secrets = [tokens.new_secret() for _ in range(5_000)]
    assert len(set(secrets)) == len(secrets)
    for secret in secrets[:100]:
        assert len(secret) >= 43  # 32 random bytes
        assert set(secret) <= URL_SAFE_BASE64


def test_digest_is_the_sha256_hex_of_the_utf8_secret() -> None:
    assert tokens.digest("abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert tokens.digest("密钥") == hashlib.sha256("密钥".encode()).hexdigest()
    secret = tokens.new_secret()
    assert tokens.digest(secret) == tokens.digest(secret)
    assert tokens.digest(secret) != secret
    assert len(tokens.digest(secret)) == 64


def test_a_secret_matches_its_digest() -> None:
    secret = tokens.new_secret()
    assert tokens.matches(secret, tokens.digest(secret))


@pytest.mark.parametrize(
    "presented",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param("wrong", id="other"),
        pytest.param("SECRET", id="case"),
        pytest.param("secret ", id="trailing-space"),
        pytest.param("secre", id="prefix"),
    ],
)
def test_anything_else_does_not_match(presented: str | None) -> None:
    assert not tokens.matches(presented, tokens.digest("secret"))


def test_none_and_empty_never_match_even_the_digest_of_empty() -> None:
    empty_digest = tokens.digest("")
    assert not tokens.matches("", empty_digest)
    assert not tokens.matches(None, empty_digest)


def test_the_digest_itself_is_not_a_secret() -> None:
    """Someone who reads the store learns digests; presenting one must not work."""
    secret = tokens.new_secret()
    stored = tokens.digest(secret)
    assert not tokens.matches(stored, stored)


@given(st.text(min_size=1), st.text())
def test_matches_iff_equal(secret: str, other: str) -> None:
    stored = tokens.digest(secret)
    assert tokens.matches(secret, stored)
    assert tokens.matches(other, stored) is (other == secret)
