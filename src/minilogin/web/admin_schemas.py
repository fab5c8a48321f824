"""The request bodies of the admin API (API.md §6), for its OpenAPI document.

The bodies themselves are checked by the core (``core/applications.py``,
``core/connection.py``) and the use cases, which name the field that breaks a rule
(``invalid_<field>``) and report every broken field at once; these models document them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


def documented(model: type[BaseModel]) -> dict[str, Any]:
    """The request body's schema for OpenAPI; the body itself is checked by the core, which
    names the field that breaks a rule (``invalid_<field>``)."""
    schema = model.model_json_schema()
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    }


# Request bodies, for the documentation (see ``documented``).


class PoolIn(BaseModel):
    slug: str
    name: str
    logo_url: str | None = None


class PoolChanges(BaseModel):
    name: str | None = None
    logo_url: str | None = None


class ApplicationIn(BaseModel):
    name: str
    type: Literal["spa", "web"] = "spa"
    redirect_uris: list[str] = []
    web_origins: list[str] = []
    post_logout_redirect_uris: list[str] = []
    id_token_lifetime: int = 3600
    access_token_lifetime: int = 3600
    refresh_token_lifetime: int = 30 * 24 * 3600
    id_token_signed_response_alg: Literal["RS256", "ES256"] = "RS256"  # noqa: S105 - not a secret
    pkce_required: bool = True
    resource_server: bool = False


class ApplicationChanges(BaseModel):
    name: str | None = None
    redirect_uris: list[str] | None = None
    web_origins: list[str] | None = None
    post_logout_redirect_uris: list[str] | None = None
    id_token_lifetime: int | None = None
    access_token_lifetime: int | None = None
    refresh_token_lifetime: int | None = None
    id_token_signed_response_alg: Literal["RS256", "ES256"] | None = None
    pkce_required: bool | None = None
    resource_server: bool | None = None


LoginModeName = Literal["login_and_register", "login_only"]
AssociationName = Literal["off", "field_match", "ask_binding"]
EnvVersionName = Literal["release", "trial", "develop"]


class ConnectionIn(BaseModel):
    unique_id: str
    display_name: str
    callback_url: str | None = None
    private_deployment: bool = False
    app_id: str | None = None
    app_secret: str | None = None
    login_mode: LoginModeName = "login_and_register"
    association: AssociationName = "field_match"
    page: str = "pages/login/login"
    env_version: EnvVersionName = "release"
    qr_expires_in: int = 120


class ConnectionChanges(BaseModel):
    display_name: str | None = None
    callback_url: str | None = None
    private_deployment: bool | None = None
    app_id: str | None = None
    app_secret: str | None = None
    login_mode: LoginModeName | None = None
    association: AssociationName | None = None
    page: str | None = None
    env_version: EnvVersionName | None = None
    qr_expires_in: int | None = None


class UserIn(BaseModel):
    username: str | None = None
    phone: str | None = None
    phone_verified: bool = False
    email: str | None = None
    password: str | None = None
    nickname: str | None = None


class UserChanges(UserIn):
    blocked: bool | None = None


class ExperienceIn(BaseModel):
    code: str
    code_verifier: str
