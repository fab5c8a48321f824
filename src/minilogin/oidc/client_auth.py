"""Client authentication (RFC 6749 §2.3), shared by the token (§3.2.1), revocation
(RFC 7009 §2.1) and introspection (RFC 7662 §2.1) endpoints.

A confidential client authenticates with its secret, ``client_secret_basic`` (§2.3.1: the
form-urlencoded id and secret in HTTP Basic) or ``client_secret_post`` (the same in the form
body), never both at once; a public client (§2.1) only names itself with ``client_id``.
A failure is ``invalid_client`` with status 401 (§5.2).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import unquote

from minilogin.core.entities import Application
from minilogin.core.errors import OAuthError
from minilogin.core.tokens import matches
from minilogin.ports import ApplicationReader


def client_credentials(
    form: Mapping[str, str], authorization: str | None
) -> tuple[str | None, str | None]:
    """The client id and secret the request presents, by either method of §2.3.1."""
    if authorization and authorization.lower().startswith("basic "):
        if "client_secret" in form:
            raise OAuthError("invalid_request", "use one client authentication method")
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
            raw_id, raw_secret = decoded.split(":", 1)
        except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
            raise OAuthError("invalid_client", "malformed Basic credentials", status=401) from exc
        return unquote(raw_id), unquote(raw_secret)
    return form.get("client_id"), form.get("client_secret")


async def authenticate_client(
    applications: ApplicationReader, pool_id: str, client_id: str | None, secret: str | None
) -> Application:
    """The pool's application that authenticated (§2.3.1), else ``invalid_client``."""
    if not client_id:
        raise OAuthError("invalid_client", "client_id is required", status=401)
    application = await applications.get_application(pool_id, client_id)
    if application is None:
        raise OAuthError("invalid_client", "unknown client", status=401)
    if not application.is_public and (
        application.client_secret_hash is None
        or not matches(secret, application.client_secret_hash)
    ):
        raise OAuthError("invalid_client", "client authentication failed", status=401)
    return application


async def authenticated_client(
    applications: ApplicationReader,
    pool_id: str,
    form: Mapping[str, str],
    authorization: str | None,
) -> Application:
    """The client of a request to the token, revocation or introspection endpoint."""
    client_id, secret = client_credentials(form, authorization)
    return await authenticate_client(applications, pool_id, client_id, secret)
