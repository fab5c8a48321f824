"""The emulator on its own: WeChat's rules for tokens, codes, scenes and pages, the simulated
users, and faults, on a clock the test moves."""

from __future__ import annotations

import inspect
import io
import json
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
import zxingcpp
from PIL import Image

from minilogin.core.errors import InvalidRequest
from minilogin.sandbox import emulator as emulator_module
from minilogin.sandbox.emulator import PUBLISHED_PAGES, WeChatEmulator, default_phone

APPID = "wx_emulated"
SECRET = "emulated-secret"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def wechat(clock: Clock) -> WeChatEmulator:
    return WeChatEmulator("http://sandbox.test/", clock)


def body(data: object) -> bytes:
    return json.dumps(data).encode()


def stable(wechat: WeChatEmulator, force: bool = False, secret: str = SECRET) -> dict[str, Any]:
    answer = wechat.stable_token(
        body(
            {
                "grant_type": "client_credential",
                "appid": APPID,
                "secret": secret,
                "force_refresh": force,
            }
        )
    )
    assert isinstance(answer, dict)
    return answer


def errcode(answer: object) -> int:
    assert isinstance(answer, dict), "expected a JSON answer"
    code: int = answer.get("errcode", 0)
    return code


def code_for(wechat: WeChatEmulator, scene: str, **fields: object) -> object:
    token = stable(wechat)["access_token"]
    return wechat.unlimited_code({"access_token": token}, body({"scene": scene, **fields}))


def session(wechat: WeChatEmulator, js_code: str, appid: str = APPID) -> object:
    return wechat.jscode2session(
        {
            "appid": appid,
            "secret": SECRET,
            "js_code": js_code,
            "grant_type": "authorization_code",
        }
    )


# Access tokens ------------------------------------------------------------------------------


def test_a_stable_token_stays_the_same_until_its_last_five_minutes(
    wechat: WeChatEmulator, clock: Clock
) -> None:
    first = stable(wechat)
    clock.now += 7200 - 301
    assert stable(wechat)["access_token"] == first["access_token"]
    assert stable(wechat)["expires_in"] == 301

    clock.now += 1
    renewed = stable(wechat)

    assert renewed["access_token"] != first["access_token"]
    assert renewed["expires_in"] == 7200
    # The predecessor keeps working until it expires, then answers 42001.
    assert errcode(code_with_token(wechat, first["access_token"])) == 0
    clock.now += 300
    assert errcode(code_with_token(wechat, first["access_token"])) == 42001


def code_with_token(wechat: WeChatEmulator, token: str) -> object:
    answer = wechat.unlimited_code({"access_token": token}, body({"scene": "s"}))
    return {"errcode": 0} if isinstance(answer, bytes) else answer


def test_a_forced_refresh_invalidates_the_previous_token(wechat: WeChatEmulator) -> None:
    old = stable(wechat)["access_token"]

    new = stable(wechat, force=True)["access_token"]

    assert new != old
    assert errcode(code_with_token(wechat, old)) == 40001
    assert errcode(code_with_token(wechat, new)) == 0


def test_forced_refreshes_work_at_most_every_30_seconds(
    wechat: WeChatEmulator, clock: Clock
) -> None:
    stable(wechat)
    first = stable(wechat, force=True)["access_token"]
    clock.now += 29
    assert stable(wechat, force=True)["access_token"] == first

    clock.now += 1

    assert stable(wechat, force=True)["access_token"] != first


def test_forced_refreshes_are_limited_to_20_a_day(wechat: WeChatEmulator, clock: Clock) -> None:
    clock.now = 1_800_000_000.0 - 1_800_000_000.0 % 86400  # the start of a day
    for _ in range(20):
        assert "access_token" in stable(wechat, force=True)
        clock.now += 30

    assert errcode(stable(wechat, force=True)) == 45009
    clock.now += 86400
    assert "access_token" in stable(wechat, force=True)


def test_plain_tokens_are_new_each_time_and_overlap_five_minutes(
    wechat: WeChatEmulator, clock: Clock
) -> None:
    query = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    first = wechat.token(query)
    second = wechat.token(query)
    assert isinstance(first, dict)
    assert isinstance(second, dict)
    assert first["access_token"] != second["access_token"]
    assert first["expires_in"] == 7200

    clock.now += 299
    assert errcode(code_with_token(wechat, first["access_token"])) == 0
    clock.now += 1
    assert errcode(code_with_token(wechat, first["access_token"])) == 42001
    assert errcode(code_with_token(wechat, second["access_token"])) == 0


def test_the_first_secret_of_an_appid_is_its_secret(wechat: WeChatEmulator) -> None:
    stable(wechat)

    assert errcode(stable(wechat, secret="another")) == 40125
    assert errcode(session(wechat, wechat.login_code(APPID, "alice"))) == 0


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"appid": APPID, "secret": SECRET}, 40002),
        ({"grant_type": "client_credential", "secret": SECRET}, 41002),
        ({"grant_type": "client_credential", "appid": APPID}, 41004),
        ({"grant_type": "client_credential", "appid": APPID, "secret": 7}, 41004),
        (
            {
                "grant_type": "client_credential",
                "appid": APPID,
                "secret": SECRET,
                "force_refresh": "yes",
            },
            40097,
        ),
        ([1, 2], 47001),
    ],
)
def test_stable_token_refuses_what_wechat_refuses(
    wechat: WeChatEmulator, data: object, expected: int
) -> None:
    assert errcode(wechat.stable_token(body(data))) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(b"", 44002), (b"  ", 44002), (b"{", 47001), (b"\xff\xfe", 47001), (b"[" * 100_000, 47001)],
)
def test_bodies_that_are_not_json_objects(
    wechat: WeChatEmulator, raw: bytes, expected: int
) -> None:
    assert errcode(wechat.stable_token(raw)) == expected
    token = stable(wechat)["access_token"]
    assert errcode(wechat.phone_number({"access_token": token}, raw)) == expected


@pytest.mark.parametrize(
    ("query", "expected"), [({}, 41001), ({"access_token": "12_nonsense"}, 40001)]
)
def test_calls_need_a_known_access_token(
    wechat: WeChatEmulator, query: dict[str, str], expected: int
) -> None:
    assert errcode(wechat.unlimited_code(query, body({"scene": "s"}))) == expected
    assert errcode(wechat.phone_number(query, body({"code": "c"}))) == expected


def test_errors_carry_wechat_errmsgs_with_a_rid(wechat: WeChatEmulator) -> None:
    answer = wechat.error(40029)

    assert answer["errcode"] == 40029
    assert answer["errmsg"].startswith("invalid code rid: ")


# Codes from the phone ---------------------------------------------------------------------


def test_a_login_code_is_single_use(wechat: WeChatEmulator) -> None:
    code = wechat.login_code(APPID, "alice")

    first = session(wechat, code)

    assert isinstance(first, dict)
    assert first["openid"] == wechat.openid(APPID, "alice")
    assert "unionid" not in first
    assert "errcode" not in first
    assert errcode(session(wechat, code)) == 40163


def test_a_login_code_expires_after_five_minutes(wechat: WeChatEmulator, clock: Clock) -> None:
    code = wechat.login_code(APPID, "alice")
    clock.now += 300

    assert errcode(session(wechat, code)) == 40029


def test_a_login_code_belongs_to_its_appid(wechat: WeChatEmulator) -> None:
    code = wechat.login_code("wx_other", "alice")

    assert errcode(session(wechat, code)) == 40029


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"appid": ""}, 41002),
        ({"secret": ""}, 41004),
        ({"js_code": ""}, 41008),
        ({"grant_type": "client_credential"}, 40002),
    ],
)
def test_jscode2session_refuses_missing_parameters(
    wechat: WeChatEmulator, change: dict[str, str], expected: int
) -> None:
    query = {
        "appid": APPID,
        "secret": SECRET,
        "js_code": wechat.login_code(APPID, "alice"),
        "grant_type": "authorization_code",
        **change,
    }

    assert errcode(wechat.jscode2session(query)) == expected


def test_a_phone_code_is_single_use_and_answers_like_wechat(
    wechat: WeChatEmulator, clock: Clock
) -> None:
    token = stable(wechat)["access_token"]
    code = wechat.phone_code(APPID, "alice")

    answer = wechat.phone_number({"access_token": token}, body({"code": code}))

    assert answer == {
        "errcode": 0,
        "errmsg": "ok",
        "phone_info": {
            "phoneNumber": default_phone("alice")[3:],
            "purePhoneNumber": default_phone("alice")[3:],
            "countryCode": "86",
            "watermark": {"timestamp": int(clock.now), "appid": APPID},
        },
    }
    assert errcode(wechat.phone_number({"access_token": token}, body({"code": code}))) == 40029


def test_a_phone_code_needs_the_token_of_its_appid(wechat: WeChatEmulator) -> None:
    token = stable(wechat)["access_token"]
    code = wechat.phone_code("wx_other", "alice")

    assert errcode(wechat.phone_number({"access_token": token}, body({"code": code}))) == 40029
    assert errcode(wechat.phone_number({"access_token": token}, body({"code": 5}))) == 47001


def test_country_code_can_come_as_a_number(wechat: WeChatEmulator) -> None:
    wechat.country_code_as_number = True
    wechat.update_user("eve", {"phone": "+12025550123"})
    token = stable(wechat)["access_token"]

    answer = wechat.phone_number(
        {"access_token": token}, body({"code": wechat.phone_code(APPID, "eve")})
    )

    assert isinstance(answer, dict)
    assert answer["phone_info"]["countryCode"] == 1
    assert answer["phone_info"]["phoneNumber"] == "+12025550123"
    assert answer["phone_info"]["purePhoneNumber"] == "2025550123"


# Mini program codes -------------------------------------------------------------------------


@pytest.mark.parametrize("scene", ["a", "x" * 32, "!#$&'()*+,/:;=?@-._~", "A1b2"])
def test_scenes_wechat_allows(wechat: WeChatEmulator, scene: str) -> None:
    assert isinstance(code_for(wechat, scene), bytes)


# getUnlimitedQRCode: "最大32个可见字符，只支持数字，大小写英文以及部分特殊字符：
# !#$&'()*+,/:;=?@-._~" and "因不支持%": anything else is 40129 invalid scene.
@pytest.mark.parametrize("scene", ["x" * 33, "a b", "a%20", "é", "中文", "a\tb", "a[b]", 'a"b'])
def test_scenes_outside_wechats_rules_are_invalid_scenes(
    wechat: WeChatEmulator, scene: str
) -> None:
    assert errcode(code_for(wechat, scene)) == 40129


@pytest.mark.parametrize("scene", ["", 42, None])
def test_a_missing_scene_is_an_invalid_length(wechat: WeChatEmulator, scene: object) -> None:
    assert errcode(code_for(wechat, scene)) == 40169  # type: ignore[arg-type]


def test_the_sandbox_has_its_own_scene_rules() -> None:
    source = inspect.getsource(emulator_module)

    assert "minilogin.core" not in source.replace("minilogin.core.errors", "")


def test_the_published_pages_are_the_shipped_mini_programs() -> None:
    app_json = Path(__file__).parents[2] / "miniprogram" / "app.json"

    assert set(json.loads(app_json.read_text())["pages"]) == PUBLISHED_PAGES


def test_past_5000_codes_a_minute_an_appid_gets_45009(wechat: WeChatEmulator, clock: Clock) -> None:
    # getUnlimitedQRCode: "调用分钟频率受限(5000次/分钟)". Invalid scenes count as calls
    # and cost no drawing, so the limit is reached quickly.
    token = stable(wechat)["access_token"]
    for _ in range(5000):
        wechat.unlimited_code({"access_token": token}, body({"scene": "bad scene"}))

    assert errcode(code_for(wechat, "abc")) == 45009
    clock.now += 60
    assert isinstance(code_for(wechat, "abc"), bytes)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"width": 279}, 40097),
        ({"width": 1281}, 40097),
        ({"width": "430"}, 40097),
        ({"width": True}, 40097),
        ({"env_version": "beta"}, 40097),
        ({"env_version": ["release"]}, 40097),
        ({"check_path": "no"}, 40097),
        ({"page": "/pages/login/login", "check_path": False}, 41030),
        ({"page": "pages/login/login?x=1", "check_path": False}, 41030),
        ({"page": 5, "check_path": False}, 41030),
        ({"page": "pages/elsewhere/page"}, 41030),  # check_path defaults to true
        ({"page": "pages/elsewhere/page", "check_path": False}, 0),
        ({"page": "pages/login/login", "check_path": True, "env_version": "trial"}, 0),
        ({"page": "pages/login/login", "check_path": True, "env_version": "release"}, 0),
        ({"page": "pages/index/index", "check_path": True}, 41030),  # not in app.json
        ({"page": "pages/login/login?scancode_time=1", "check_path": False}, 85096),
        ({"page": ""}, 0),
        ({"width": 280}, 0),
        ({"width": 1280}, 0),
    ],
)
def test_code_parameters(wechat: WeChatEmulator, fields: dict[str, object], expected: int) -> None:
    answer = code_for(wechat, "scene", **fields)

    assert (0 if isinstance(answer, bytes) else errcode(answer)) == expected


@pytest.mark.parametrize("width", [280, 430, 1280])
def test_a_code_is_a_scannable_qr_code_of_the_requested_width(
    wechat: WeChatEmulator, width: int
) -> None:
    answer = code_for(wechat, "id=1&k=v", width=width)
    assert isinstance(answer, bytes)

    image = Image.open(io.BytesIO(answer))
    (decoded,) = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)

    # WeChat's codes are JPEG: tens of KB at the default width of 430.
    assert image.format == "JPEG"
    assert image.size == (width, width)
    if width == 430:
        assert 20_000 <= len(answer) <= 100_000
    assert decoded.text == f"http://sandbox.test/_sandbox/phone?appid={APPID}&scene=id%3D1%26k%3Dv"
    assert decoded.ec_level == "H"
    position = decoded.position
    left = min(position.top_left.x, position.bottom_left.x)
    # The quiet zone: at least four modules of white around the symbol.
    assert left >= 4 * (width // 61)
    # Smooth scaling and JPEG blur the symbol's edge over about a module: beyond it the zone
    # is white to within JPEG's artefacts.
    edge = left - width // 61
    low, _ = image.convert("L").crop((0, 0, width, edge)).getextrema()
    assert low >= 235


# Users ---------------------------------------------------------------------------------------


def test_users_get_a_deterministic_mainland_number(wechat: WeChatEmulator) -> None:
    phone = wechat.user("alice").phone

    assert phone == default_phone("alice") == WeChatEmulator("http://x").user("alice").phone
    assert phone.startswith("+86138")
    assert phonenumbers.is_valid_number(phonenumbers.parse(phone))
    assert default_phone("bob") != phone


def test_openids_are_per_appid_and_stable(wechat: WeChatEmulator) -> None:
    openid = wechat.openid(APPID, "alice")

    assert openid == WeChatEmulator("http://x").openid(APPID, "alice")
    assert openid != wechat.openid("wx_other", "alice")
    assert openid != wechat.openid(APPID, "bob")
    assert len(openid) == 28


def test_a_user_can_be_changed(wechat: WeChatEmulator) -> None:
    user = wechat.update_user("alice", {"phone": "+8613800138000", "unionid": "u1"})
    assert (user.phone, user.unionid, user.nickname) == ("+8613800138000", "u1", None)

    user = wechat.update_user("alice", {"nickname": "Alice", "unionid": None})

    assert user.to_json() == {
        "user": "alice",
        "phone": "+8613800138000",
        "unionid": None,
        "nickname": "Alice",
    }


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"phone": "13800138000"}, "invalid_phone"),
        ({"phone": "+86 138 0013 8000"}, "invalid_phone"),
        ({"phone": "+861"}, "invalid_phone"),
        ({"phone": 8613800138000}, "invalid_phone"),
        ({"nickname": "x" * 65}, "invalid_request"),
        ({"unionid": 5}, "invalid_request"),
        ({"age": 3}, "invalid_request"),
        ([], "invalid_request"),
    ],
)
def test_bad_user_changes_are_refused(wechat: WeChatEmulator, changes: object, code: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        wechat.update_user("alice", changes)

    assert caught.value.code == code


@pytest.mark.parametrize(
    ("appid", "user"), [("", "alice"), (APPID, " "), (APPID, "x" * 65), (1, "a")]
)
def test_codes_need_an_appid_and_a_user(
    wechat: WeChatEmulator, appid: object, user: object
) -> None:
    with pytest.raises(InvalidRequest):
        wechat.login_code(appid, user)


# Faults and counters ----------------------------------------------------------------------


def test_faults_are_taken_in_order_and_counted(wechat: WeChatEmulator) -> None:
    wechat.add_fault({"path": "sns/jscode2session", "errcode": -1, "times": 2})
    wechat.add_fault({"path": "/sns/jscode2session/", "errcode": 45011, "delay_ms": 5})

    taken = [wechat.begin_call("sns/jscode2session") for _ in range(4)]

    assert [f.errcode if f else None for f in taken] == [-1, -1, 45011, None]
    assert taken[2] is not None
    assert taken[2].delay_ms == 5
    assert wechat.stats() == {"calls": {"sns/jscode2session": 4}}


def test_faults_can_be_cleared(wechat: WeChatEmulator) -> None:
    wechat.add_fault({"path": "cgi-bin/token", "errcode": -1, "times": 3})
    wechat.clear_faults()

    assert wechat.begin_call("cgi-bin/token") is None


@pytest.mark.parametrize(
    "spec",
    [
        {"path": "cgi-bin/unknown"},
        {"errcode": -1},
        {"path": "cgi-bin/token", "times": 0},
        {"path": "cgi-bin/token", "delay_ms": -1},
        {"path": "cgi-bin/token", "delay_ms": 60_001},
        {"path": "cgi-bin/token", "errcode": "x"},
        "cgi-bin/token",
    ],
)
def test_bad_faults_are_refused(wechat: WeChatEmulator, spec: object) -> None:
    with pytest.raises(InvalidRequest):
        wechat.add_fault(spec)
