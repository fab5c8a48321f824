"""No credential reaches a log line: a real ``minilogin dev`` process (access log on) serves
a whole login with every credential in a URL where one can be (the event stream's
``?secret=``, the callback's ``?code=``, ``id_token_hint``), and its output is read."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import httpx

from minilogin.logs import RedactSecrets, redact
from tests.support.actors import Browser, Phone
from tests.support.server import minilogin_dev


async def test_a_login_leaves_no_token_code_or_secret_in_the_logs(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with minilogin_dev(tmp_path, MINILOGIN_DATA_DIR=str(data)) as server:
        async with httpx.AsyncClient(timeout=10) as http:
            issuer = server.issuer()
            browser, phone = Browser(http, issuer), Phone(http, server.public, "alice")
            await phone.set_profile(phone="+8613800138000")
            login = await browser.create()
            appid, scene = await browser.read_code(login)
            js_code = await phone.wx_login(appid)
            scan = {"scene": scene, "js_code": js_code}
            scanned = await http.post(f"{server.public}/api/miniprogram/scan", json=scan)
            session = scanned.json()["session"]
            phone_code = await phone.phone_code(appid)
            confirm = {"session": session, "phone_code": phone_code}
            await http.post(f"{server.public}/api/miniprogram/confirm", json=confirm)
            events = f"{issuer}/api/qrcodes/{login.id}/events"
            async with http.stream("GET", events, params={"secret": login.secret}) as stream:
                assert stream.status_code == 200
            code = (await browser.status(login))["code"]
            await http.get(f"{server.public}/demo/", params={"code": code, "state": "s"})
            tokens = (await browser.exchange(login, code)).json()
            refreshed = await http.post(
                f"{issuer}/oidc/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": tokens["refresh_token"],
                    "client_id": "demo",
                },
            )
            bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
            assert (await http.get(f"{issuer}/oidc/userinfo", headers=bearer)).is_success
            await http.get(
                f"{issuer}/oidc/session/end", params={"id_token_hint": tokens["id_token"]}
            )
    log = server.log.read_text()
    assert f"/api/qrcodes/{login.id}/events?secret=***" in log  # the access log is on
    assert "/demo/?code=***&state=s" in log
    credentials = [login.secret, js_code, session, phone_code, code]
    credentials += [tokens[name] for name in ("access_token", "refresh_token", "id_token")]
    credentials += [refreshed.json()["access_token"], refreshed.json()["refresh_token"]]
    assert [c for c in credentials if c in log] == []
    # The database holds password hashes and sealed secrets: its owner's alone.
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "minilogin.db").stat().st_mode) == 0o600


def test_every_kind_of_credential_is_masked() -> None:
    assert redact("GET /cb?state=1&code=abc&x=2") == "GET /cb?state=1&code=***&x=2"
    assert redact("jscode2session?appid=wx1&secret=s3&js_code=j&grant_type=g") == (
        "jscode2session?appid=wx1&secret=***&js_code=***&grant_type=g"
    )
    assert redact("Authorization: Bearer eyJ.a-b.c_d") == "Authorization: Bearer ***"
    assert redact("refresh_token%3Dabc") == "refresh_token%3D***"
    assert redact("qrcode=1&unicode=2") == "qrcode=1&unicode=2"


def test_a_record_of_any_logger_is_masked_with_its_exception() -> None:
    try:
        raise ValueError("https://api.weixin.qq.com/sns/jscode2session?secret=topsecret")
    except ValueError as error:
        record = logging.LogRecord(
            "httpx",
            logging.ERROR,
            __file__,
            1,
            "GET %s",
            ("/x?token=t0k",),
            (type(error), error, None),
        )
    assert RedactSecrets().filter(record)
    assert record.getMessage() == "GET /x?token=***"
    assert record.exc_text is not None
    assert "topsecret" not in record.exc_text
    assert "secret=***" in record.exc_text
