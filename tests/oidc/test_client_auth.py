"""Client authentication (RFC 6749 §2.3.1) without HTTP: both methods, never both at once, and
``invalid_client`` for anything that does not authenticate."""

from __future__ import annotations

import base64

import pytest

from minilogin.core.entities import Application, ApplicationType
from minilogin.core.errors import OAuthError
from minilogin.core.tokens import digest
from minilogin.oidc.client_auth import authenticate_client, client_credentials

POOL_ID = "pool_1"
SECRET = "s3cret:with%colon"
WEB = Application(
    pool_id=POOL_ID,
    client_id="web",
    name="Backend",
    type=ApplicationType.WEB,
    client_secret_hash=digest(SECRET),
)
SPA = Application(pool_id=POOL_ID, client_id="spa", name="Shop", type=ApplicationType.SPA)


class Applications:
    async def get_application(self, pool_id: str, client_id: str) -> Application | None:
        return next(
            (a for a in (WEB, SPA) if (a.pool_id, a.client_id) == (pool_id, client_id)), None
        )


def basic(client_id: str, secret: str) -> str:
    # §2.3.1: each part form-urlencoded before it is joined and base64-encoded.
    raw = f"{client_id}:" + secret.replace("%", "%25").replace(":", "%3A")
    return "Basic " + base64.b64encode(raw.encode()).decode()


def test_basic_credentials_are_url_decoded() -> None:
    assert client_credentials({}, basic("web", SECRET)) == ("web", SECRET)


def test_post_credentials_come_from_the_form() -> None:
    form = {"client_id": "web", "client_secret": SECRET}
    assert client_credentials(form, None) == ("web", SECRET)


def test_both_methods_at_once_are_refused() -> None:
    with pytest.raises(OAuthError) as raised:
        client_credentials({"client_secret": SECRET}, basic("web", SECRET))
    assert raised.value.code == "invalid_request"


def test_malformed_basic_credentials_are_an_invalid_client() -> None:
    with pytest.raises(OAuthError) as raised:
        client_credentials({}, "Basic not-base64!")
    assert (raised.value.code, raised.value.status) == ("invalid_client", 401)


async def test_a_confidential_client_needs_its_secret() -> None:
    assert await authenticate_client(Applications(), POOL_ID, "web", SECRET) == WEB
    for secret in ("wrong", None):
        with pytest.raises(OAuthError) as raised:
            await authenticate_client(Applications(), POOL_ID, "web", secret)
        assert (raised.value.code, raised.value.status) == ("invalid_client", 401)


async def test_a_public_client_names_itself() -> None:
    assert await authenticate_client(Applications(), POOL_ID, "spa", None) == SPA


@pytest.mark.parametrize(
    ("pool_id", "client_id"), [(POOL_ID, "nope"), ("other", "spa"), (POOL_ID, None)]
)
async def test_unknown_clients_are_refused(pool_id: str, client_id: str | None) -> None:
    with pytest.raises(OAuthError) as raised:
        await authenticate_client(Applications(), pool_id, client_id, None)
    assert raised.value.code == "invalid_client"
