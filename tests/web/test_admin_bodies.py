"""What the admin API's bodies show of each record: never a secret, and times in UTC."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from minilogin.core.entities import (
    Admin,
    ApiToken,
    Application,
    ApplicationType,
    IdentitySource,
    User,
)
from minilogin.web import admin_bodies

AT = datetime(2026, 3, 1, 9, 30, 15, tzinfo=timezone(timedelta(hours=8)))


def test_no_body_shows_a_secret_or_its_hash() -> None:
    application = Application(
        "pool", "client", "Shop", ApplicationType.WEB, client_secret_hash="digest-of-secret"
    )
    source = IdentitySource(
        "pool", "own", "Ours", private_deployment=True, app_id="wx1", app_secret="s3cret"
    )
    bodies = [
        admin_bodies.application_body(application, []),
        admin_bodies.connection_body(source, [application], "https://id.example/acme"),
        admin_bodies.user_body(User("pool", "u1", username="bob", password_hash="$argon2id$x")),
        admin_bodies.admin_body(Admin("boss", "$argon2id$y")),
        admin_bodies.token_body(ApiToken("hash-of-token", description="ci"), None),
    ]
    text = json.dumps(bodies)
    for secret in ("digest-of-secret", "s3cret", "$argon2id$", "hash-of-token"):
        assert secret not in text
    assert "client_secret" not in bodies[0]
    assert bodies[1]["app_secret_set"] is True
    assert bodies[2]["password_set"] is True


def test_a_new_client_secret_is_shown_when_given() -> None:
    application = Application("pool", "client", "Shop", ApplicationType.WEB)
    assert admin_bodies.application_body(application, ["wx"], "new")["client_secret"] == "new"


def test_times_are_utc_to_the_second() -> None:
    admin = admin_bodies.admin_body(Admin("boss", "hash", created_at=AT))
    assert admin["created_at"] == "2026-03-01T01:30:15Z"
    token = admin_bodies.token_body(ApiToken("hash", created_at=AT.astimezone(UTC)), "boss")
    assert (token["created_at"], token["last_used_at"]) == ("2026-03-01T01:30:15Z", None)


@dataclass(frozen=True)
class Refused:
    page: str | None
    env_version: str
    errmsg: str
    since: float
    retry_at: float


def test_a_refused_page_is_the_sources_code_error() -> None:
    assert admin_bodies.code_error_body(None) is None
    since = AT.timestamp()
    body = admin_bodies.code_error_body(
        Refused("pages/login/login", "release", "invalid page", since, since + 60)
    )
    assert body == {
        "error": "wechat_invalid_page",
        "page": "pages/login/login",
        "env_version": "release",
        "errmsg": "invalid page",
        "since": "2026-03-01T01:30:15Z",
        "retry_at": "2026-03-01T01:31:15Z",
    }
