"""The rules of identity sources, pools and applications (core/connection.py and
core/applications.py): every field's rule, each breach named by its ``invalid_<field>`` code."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from minilogin.core.applications import (
    changed_application,
    changed_pool,
    check_web_origin,
    new_application,
    new_pool,
)
from minilogin.core.connection import changed_fields, changed_source, new_source, url_problem
from minilogin.core.entities import (
    ApplicationType,
    Association,
    EnvVersion,
    IdentitySource,
    LoginMode,
)
from minilogin.core.errors import InvalidFields, InvalidRequest
from minilogin.core.messages import MESSAGES

VALID = {"unique_id": "wechat-pc", "display_name": "微信扫码登录"}


def refused(code: str) -> pytest.RaisesExc[InvalidRequest]:
    return pytest.raises(InvalidRequest, match=f"^{code}$")


def test_a_source_needs_only_a_unique_id_and_a_display_name() -> None:
    source = new_source("pool_1", VALID)
    assert source.pool_id == "pool_1"
    assert source.unique_id == "wechat-pc"
    assert source.display_name == "微信扫码登录"
    assert source.private_deployment is False
    assert source.login_mode is LoginMode.LOGIN_AND_REGISTER
    assert source.association is Association.FIELD_MATCH
    assert source.env_version is EnvVersion.RELEASE
    assert source.qr_expires_in == 120


def test_every_field_is_taken_and_cleaned() -> None:
    source = new_source(
        "pool_1",
        {
            **VALID,
            "display_name": "  微信  ",
            "callback_url": "https://example.com/callback?from=wechat",
            "private_deployment": True,
            "app_id": " wx_private_a ",
            "app_secret": "s3cret",
            "login_mode": "login_only",
            "association": "ask_binding",
            "page": "pages/scan/scan",
            "env_version": "trial",
            "qr_expires_in": 600,
        },
    )
    assert source.display_name == "微信"
    assert source.callback_url == "https://example.com/callback?from=wechat"
    assert source.app_id == "wx_private_a"
    assert source.app_secret == "s3cret"
    assert source.login_mode is LoginMode.LOGIN_ONLY
    assert source.association is Association.ASK_BINDING
    assert source.page == "pages/scan/scan"
    assert source.env_version is EnvVersion.TRIAL
    assert source.qr_expires_in == 600


@pytest.mark.parametrize(
    "unique_id",
    ["WeChat", "wechat_pc", "a" * 32, "", "wechat pc", "微信", 7, None, "a/b"],
)
def test_a_unique_id_is_lowercase_letters_digits_and_dashes_up_to_31(unique_id: object) -> None:
    with refused("invalid_unique_id"):
        new_source("pool_1", {**VALID, "unique_id": unique_id})


@given(st.from_regex(r"[a-z0-9-]{1,31}", fullmatch=True))
def test_every_unique_id_of_the_rule_is_accepted(unique_id: str) -> None:
    assert new_source("pool_1", {**VALID, "unique_id": unique_id}).unique_id == unique_id


@pytest.mark.parametrize("name", [None, "", "   ", 3, "x" * 65, "line\nbreak"])
def test_a_display_name_is_required(name: object) -> None:
    fields = {**VALID, "display_name": name}
    with refused("invalid_display_name"):
        new_source("pool_1", fields)


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "/callback",
        "callback",
        "//example.com/callback",
        "http://example.com/callback",
        "ftp://example.com/callback",
        "https://example.com/callback#fragment",
        "https://user:pass@example.com/callback",
        "https://exa mple.com/",
        "https://example.com:99999/",
        "https://",
        7,
        "https://example.com/" + "a" * 2048,
    ],
)
def test_a_callback_url_is_an_absolute_https_url(url: object) -> None:
    with refused("invalid_callback_url"):
        new_source("pool_1", {**VALID, "callback_url": url})


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:3000/callback",
        "http://127.0.0.1:8000/cb",
        "http://[::1]:8000/cb",
        "https://example.com/cb",
    ],
)
def test_http_is_allowed_on_this_computer_only(url: str) -> None:
    assert new_source("pool_1", {**VALID, "callback_url": url}).callback_url == url
    assert url_problem(url) is None


def test_an_empty_callback_url_means_none() -> None:
    assert new_source("pool_1", {**VALID, "callback_url": ""}).callback_url is None


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"private_deployment": True}, "invalid_app_id"),
        ({"private_deployment": True, "app_id": "wx_a"}, "invalid_app_secret"),
        ({"private_deployment": True, "app_secret": "s"}, "invalid_app_id"),
        ({"private_deployment": True, "app_id": "", "app_secret": "s"}, "invalid_app_id"),
        ({"private_deployment": True, "app_id": "wx_a", "app_secret": ""}, "invalid_app_secret"),
        ({"app_id": "not-wx"}, "invalid_app_id"),
        ({"app_id": "wx a"}, "invalid_app_id"),
        ({"app_secret": "with space"}, "invalid_app_secret"),
        ({"app_secret": "x" * 129}, "invalid_app_secret"),
        ({"private_deployment": "yes"}, "invalid_private_deployment"),
        ({"login_mode": "register_only"}, "invalid_login_mode"),
        ({"association": "phone"}, "invalid_association"),
        ({"association": None}, "invalid_association"),
        ({"env_version": "beta"}, "invalid_env_version"),
        ({"page": "/pages/login/login"}, "invalid_page"),
        ({"page": "pages/login/login?x=1"}, "invalid_page"),
        ({"page": ""}, "invalid_page"),
        ({"page": "p/" * 70}, "invalid_page"),
        ({"qr_expires_in": 29}, "invalid_qr_expires_in"),
        ({"qr_expires_in": 601}, "invalid_qr_expires_in"),
        ({"qr_expires_in": "120"}, "invalid_qr_expires_in"),
        ({"qr_expires_in": True}, "invalid_qr_expires_in"),
        ({"qr_expires_in": 120.5}, "invalid_qr_expires_in"),
    ],
)
def test_each_rule_names_its_field(fields: dict[str, object], code: str) -> None:
    with refused(code):
        new_source("pool_1", {**VALID, **fields})


def test_every_code_a_rule_raises_has_words_for_people() -> None:
    codes = {
        "invalid_unique_id",
        "unique_id_immutable",
        "invalid_display_name",
        "invalid_callback_url",
        "invalid_private_deployment",
        "invalid_app_id",
        "invalid_app_secret",
        "invalid_login_mode",
        "invalid_association",
        "invalid_page",
        "invalid_env_version",
        "invalid_qr_expires_in",
        "invalid_slug",
        "slug_immutable",
        "invalid_name",
        "invalid_logo_url",
        "invalid_type",
        "application_type_immutable",
        "client_id_immutable",
        "invalid_redirect_uris",
        "invalid_web_origins",
        "invalid_post_logout_redirect_uris",
        "invalid_id_token_lifetime",
        "invalid_access_token_lifetime",
        "invalid_refresh_token_lifetime",
    }
    assert codes <= MESSAGES.keys()
    assert all(MESSAGES[code][0] and MESSAGES[code][1] for code in codes)


def private_source() -> IdentitySource:
    return new_source(
        "pool_1",
        {**VALID, "private_deployment": True, "app_id": "wx_private_a", "app_secret": "first"},
    )


def test_the_unique_id_can_never_change() -> None:
    source = private_source()
    with refused("unique_id_immutable"):
        changed_source(source, {"unique_id": "other"})
    assert changed_source(source, {"unique_id": source.unique_id}) == source


def test_changes_leave_the_original_alone_and_keep_the_secret_unless_replaced() -> None:
    source = private_source()
    kept = changed_source(source, {"display_name": "新名字", "app_secret": None})
    assert kept.app_secret == "first"
    assert source.display_name == "微信扫码登录"
    replaced = changed_source(source, {"app_secret": "second"})
    assert replaced.app_secret == "second"
    assert changed_fields(source, replaced) == ["app_secret"]
    assert changed_fields(source, kept) == ["display_name"]


def test_turning_private_deployment_off_keeps_the_credentials_for_later() -> None:
    public = changed_source(private_source(), {"private_deployment": False})
    assert public.private_deployment is False
    assert (public.app_id, public.app_secret) == ("wx_private_a", "first")


def test_turning_private_deployment_on_needs_both_credentials() -> None:
    source = new_source("pool_1", VALID)
    with refused("invalid_app_id"):
        changed_source(source, {"private_deployment": True})
    with refused("invalid_app_secret"):
        changed_source(source, {"private_deployment": True, "app_id": "wx_a"})


# pools


@pytest.mark.parametrize("slug", ["Acme", "acme_corp", "-acme", "acme-", "a" * 32, "", None])
def test_a_pool_slug_is_a_dns_label(slug: object) -> None:
    with refused("invalid_slug"):
        new_pool({"slug": slug, "name": "Acme"})


def test_a_pool_keeps_its_slug() -> None:
    pool = new_pool({"slug": "acme-2", "name": " Acme ", "logo_url": "https://acme.example/l.png"})
    assert (pool.slug, pool.name, pool.logo_url) == ("acme-2", "Acme", "https://acme.example/l.png")
    with refused("slug_immutable"):
        changed_pool(pool, {"slug": "acme-3"})
    with refused("invalid_logo_url"):
        changed_pool(pool, {"logo_url": "javascript:alert(1)"})
    with refused("invalid_name"):
        changed_pool(pool, {"name": ""})


# applications


def test_an_application_is_a_single_page_app_unless_it_says_web() -> None:
    spa = new_application("pool_1", "cid", {"name": "Shop"})
    assert spa.type is ApplicationType.SPA
    web = new_application("pool_1", "cid", {"name": "Shop", "type": "web"})
    assert web.type is ApplicationType.WEB
    with refused("invalid_type"):
        new_application("pool_1", "cid", {"name": "Shop", "type": "native"})


def test_uris_are_kept_exactly_in_order_without_duplicates() -> None:
    application = new_application(
        "pool_1",
        "cid",
        {
            "name": "Shop",
            "redirect_uris": ["https://shop.example/cb?x=1", "http://localhost:3000/cb"] * 2,
            "web_origins": ["https://Shop.Example/", "http://localhost:3000"],
            "post_logout_redirect_uris": ["https://shop.example/"],
        },
    )
    assert application.redirect_uris == ["https://shop.example/cb?x=1", "http://localhost:3000/cb"]
    assert application.web_origins == ["https://shop.example", "http://localhost:3000"]
    assert application.post_logout_redirect_uris == ["https://shop.example/"]


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"name": ""}, "invalid_name"),
        ({"redirect_uris": "https://shop.example/cb"}, "invalid_redirect_uris"),
        ({"redirect_uris": ["https://shop.example/cb#x"]}, "invalid_redirect_uris"),
        ({"redirect_uris": ["/cb"]}, "invalid_redirect_uris"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uris"),
        ({"redirect_uris": ["http://shop.example/cb"]}, "invalid_redirect_uris"),
        (
            {"redirect_uris": [f"https://shop.example/{n}" for n in range(21)]},
            "invalid_redirect_uris",
        ),
        ({"web_origins": ["https://shop.example/path"]}, "invalid_web_origins"),
        ({"web_origins": ["https://shop.example?x"]}, "invalid_web_origins"),
        ({"web_origins": ["shop.example"]}, "invalid_web_origins"),
        ({"web_origins": ["*"]}, "invalid_web_origins"),
        ({"post_logout_redirect_uris": ["/bye"]}, "invalid_post_logout_redirect_uris"),
        ({"id_token_lifetime": 59}, "invalid_id_token_lifetime"),
        ({"access_token_lifetime": 86401}, "invalid_access_token_lifetime"),
        ({"refresh_token_lifetime": "3600"}, "invalid_refresh_token_lifetime"),
    ],
)
def test_each_application_rule_names_its_field(fields: dict[str, object], code: str) -> None:
    with refused(code):
        new_application("pool_1", "cid", {"name": "Shop", **fields})


def test_an_application_keeps_its_type_and_client_id() -> None:
    application = new_application("pool_1", "cid", {"name": "Shop"})
    with refused("application_type_immutable"):
        changed_application(application, {"type": "web"})
    with refused("client_id_immutable"):
        changed_application(application, {"client_id": "other"})
    renamed = changed_application(application, {"name": "Store", "type": "spa"})
    assert renamed.name == "Store"
    assert application.name == "Shop"


@given(st.sampled_from(["http", "https"]), st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True))
def test_an_origin_is_scheme_host_and_port(scheme: str, host: str) -> None:
    assert check_web_origin(f"{scheme}://{host}.example:8443/") == f"{scheme}://{host}.example:8443"


def test_every_broken_field_is_reported_together() -> None:
    with pytest.raises(InvalidFields) as raised:
        new_source(
            "p1",
            {"unique_id": "Bad", "display_name": "", "page": "/x", "private_deployment": True},
        )
    codes = [problem.code for problem in raised.value.problems]
    assert codes == [
        "invalid_unique_id",
        "invalid_display_name",
        "invalid_page",
        "invalid_app_id",
        "invalid_app_secret",
    ]
    assert raised.value.code == "invalid_unique_id", "the first is the error's own code"
