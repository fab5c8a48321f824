"""PKCE, RFC 7636, S256 only."""

from __future__ import annotations

import base64
import hashlib
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minilogin.core import pkce
from minilogin.core.errors import InvalidRequest, OAuthError

# RFC 7636, Appendix B.
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

UNRESERVED = string.ascii_letters + string.digits + "-._~"
verifiers = st.text(alphabet=UNRESERVED, min_size=43, max_size=128)


def test_rfc7636_appendix_b() -> None:
    assert pkce.s256(RFC_VERIFIER) == RFC_CHALLENGE
    assert pkce.validate_challenge(RFC_CHALLENGE, "S256") == RFC_CHALLENGE
    assert pkce.verify(RFC_VERIFIER, RFC_CHALLENGE) is None


@given(verifiers)
def test_s256_is_unpadded_base64url_of_sha256(verifier: str) -> None:
    challenge = pkce.s256(verifier)
    assert len(challenge) == 43
    assert "=" not in challenge
    assert set(challenge) <= set(string.ascii_letters + string.digits + "-_")
    assert base64.urlsafe_b64decode(challenge + "=") == hashlib.sha256(verifier.encode()).digest()
    assert pkce.validate_challenge(challenge, "S256") == challenge
    pkce.verify(verifier, challenge)


# --- the challenge, when a login starts -----------------------------------------------


@pytest.mark.parametrize("method", ["plain", "s256", "S512", "", None, 256])
def test_only_s256_is_accepted(method: object) -> None:
    with pytest.raises(InvalidRequest) as raised:
        pkce.validate_challenge(RFC_CHALLENGE, method)
    assert raised.value.code == "invalid_code_challenge_method"


def test_plain_is_refused_even_with_a_plain_looking_challenge() -> None:
    with pytest.raises(InvalidRequest, match="invalid_code_challenge_method"):
        pkce.validate_challenge(RFC_VERIFIER, "plain")


@pytest.mark.parametrize(
    "challenge",
    [
        pytest.param(RFC_CHALLENGE[:-1], id="42-chars"),
        pytest.param(RFC_CHALLENGE + "A", id="44-chars"),
        pytest.param(RFC_CHALLENGE + "=", id="padded"),
        pytest.param("", id="empty"),
        pytest.param("A" * 128, id="verifier-length"),
        pytest.param(RFC_CHALLENGE[:-1] + "+", id="plus"),
        pytest.param(RFC_CHALLENGE[:-1] + "/", id="slash"),
        pytest.param(RFC_CHALLENGE[:-1] + ".", id="dot"),
        pytest.param(RFC_CHALLENGE[:-1] + "~", id="tilde"),
        pytest.param(RFC_CHALLENGE[:-1] + " ", id="space"),
        pytest.param(RFC_CHALLENGE[:-1] + "é", id="non-ascii"),
        pytest.param(RFC_CHALLENGE + "\n", id="trailing-newline"),
        pytest.param(RFC_CHALLENGE[:-1] + "\n", id="newline-inside"),
        pytest.param(None, id="none"),
        pytest.param(43, id="int"),
        pytest.param(RFC_CHALLENGE.encode(), id="bytes"),
        pytest.param([RFC_CHALLENGE], id="list"),
        pytest.param({"challenge": RFC_CHALLENGE}, id="dict"),
    ],
)
def test_malformed_challenges_are_refused(challenge: object) -> None:
    with pytest.raises(InvalidRequest) as raised:
        pkce.validate_challenge(challenge, "S256")
    assert raised.value.code == "invalid_code_challenge"


@given(st.text(max_size=60))
def test_any_challenge_is_either_43_base64url_characters_or_refused(challenge: str) -> None:
    wellformed = len(challenge) == 43 and set(challenge) <= set(
        string.ascii_letters + string.digits + "-_"
    )
    try:
        assert pkce.validate_challenge(challenge, "S256") == challenge
    except InvalidRequest:
        assert not wellformed
    else:
        assert wellformed


# --- the verifier, when the code is exchanged -----------------------------------------


def test_the_shortest_and_longest_verifiers_are_accepted() -> None:
    for verifier in ("a" * 43, "~" * 128, UNRESERVED[:43], (UNRESERVED * 2)[:128]):
        pkce.verify(verifier, pkce.s256(verifier))


def expect_invalid_grant(verifier: object, challenge: str = RFC_CHALLENGE) -> OAuthError:
    with pytest.raises(OAuthError) as raised:
        pkce.verify(verifier, challenge)  # type: ignore[arg-type]
    error = raised.value
    assert type(error) is OAuthError
    assert error.code == "invalid_grant"
    assert error.status == 400
    return error


@pytest.mark.parametrize(
    "verifier",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param("a" * 42, id="42-chars"),
        pytest.param("a" * 129, id="129-chars"),
        pytest.param(RFC_VERIFIER[:-1] + "+", id="plus"),
        pytest.param(RFC_VERIFIER[:-1] + "/", id="slash"),
        pytest.param(RFC_VERIFIER[:-1] + "=", id="equals"),
        pytest.param(RFC_VERIFIER[:-1] + " ", id="space"),
        pytest.param(RFC_VERIFIER[:-1] + "é", id="non-ascii"),
        pytest.param(RFC_VERIFIER[:-1] + "\x00", id="nul"),
        pytest.param(RFC_VERIFIER + "\n", id="trailing-newline"),
    ],
)
def test_malformed_verifiers_are_refused(verifier: str | None) -> None:
    error = expect_invalid_grant(verifier, pkce.s256(RFC_VERIFIER))
    assert "malformed" in str(error)


@pytest.mark.parametrize(
    "verifier",
    [
        pytest.param(12345, id="int"),
        pytest.param(RFC_VERIFIER.encode(), id="bytes"),
        pytest.param([RFC_VERIFIER], id="list"),
    ],
)
def test_non_string_verifiers_are_refused_as_invalid_grant(verifier: object) -> None:
    """Whatever a broken client sends, the answer is ``invalid_grant``, never a crash."""
    expect_invalid_grant(verifier)


def test_a_verifier_that_does_not_match_is_invalid_grant() -> None:
    other = RFC_VERIFIER[:-1] + ("j" if RFC_VERIFIER[-1] != "j" else "k")
    error = expect_invalid_grant(other)
    assert "does not match" in str(error)


def test_the_verifier_is_not_accepted_as_its_own_challenge() -> None:
    """``plain`` in disguise: sending the challenge itself as the verifier fails."""
    expect_invalid_grant(RFC_CHALLENGE, RFC_CHALLENGE)


@given(verifiers, verifiers)
def test_verify_accepts_exactly_the_matching_verifier(verifier: str, other: str) -> None:
    challenge = pkce.s256(verifier)
    pkce.verify(verifier, challenge)
    if other != verifier:
        with pytest.raises(OAuthError, match="does not match"):
            pkce.verify(other, challenge)
