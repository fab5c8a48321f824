"""The sandbox over HTTP: WeChat's server API under ``/_sandbox/wechat/``, the simulated
phone under ``/_sandbox/wx/``, and the phone simulator page at ``/_sandbox/phone``.

WeChat's paths answer as WeChat does: JSON errors with HTTP 200, whatever the request holds.
The simulated phone and the sandbox's controls (faults, options, statistics) answer errors
the way the rest of minilogin does: 4xx with ``{"error", "message"}``.

Mount it with ``app.include_router(create_sandbox_router(settings.public_url))``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from minilogin.config import SANDBOX_APP_ID
from minilogin.core.errors import InvalidRequest
from minilogin.sandbox.emulator import Answer, WeChatEmulator

#: What ``PUT /_sandbox/wechat/options`` may change: the form of ``countryCode``, and the
#: per-minute limit of codes (WeChat's 5,000 by default), lowered so tests can reach it.
_OPTIONS = frozenset({"country_code_as_number", "codes_per_minute"})
_STATIC = {"phone.js": "text/javascript", "phone.css": "text/css"}
#: The product's icon, for the phone page: the sandbox may run as a service of its own, without
#: the main app's ``/static``.
_ICON = ("favicon.svg", "image/svg+xml")

Handler = Callable[[Mapping[str, str], bytes], Answer]
#: The calls whose answer is an image drawn on request.
_DRAWING = frozenset({"wxa/getwxacodeunlimit"})


def create_sandbox_router(
    public_url: str, clock: Callable[[], float] = time.time, server_url: str = ""
) -> APIRouter:
    """The sandbox's routes, around one emulator of its own. ``server_url`` is the minilogin
    the phone simulator's mini program calls (by default, the one on its own origin)."""
    emulator = WeChatEmulator(public_url, clock)
    router = APIRouter(include_in_schema=False)
    handlers: dict[str, tuple[str, Handler]] = {
        "cgi-bin/token": ("GET", lambda query, _: emulator.token(query)),
        "cgi-bin/stable_token": ("POST", lambda _, body: emulator.stable_token(body)),
        "sns/jscode2session": ("GET", lambda query, _: emulator.jscode2session(query)),
        "wxa/getwxacodeunlimit": ("POST", emulator.unlimited_code),
        "wxa/business/getuserphonenumber": ("POST", emulator.phone_number),
    }
    for path, (method, handler) in handlers.items():
        router.add_api_route(
            f"/_sandbox/wechat/{path}",
            _wechat_endpoint(emulator, path, method, handler),
            methods=["GET", "POST"],
        )

    @router.post("/_sandbox/wechat/faults")
    async def add_fault(request: Request) -> Response:
        body = await _json_body(request)
        return _answer(lambda: emulator.add_fault(body).to_json())

    @router.delete("/_sandbox/wechat/faults")
    async def clear_faults() -> Response:
        emulator.clear_faults()
        return Response(status_code=204)

    @router.get("/_sandbox/wechat/stats")
    async def stats() -> Response:
        return JSONResponse(emulator.stats())

    @router.put("/_sandbox/wechat/options")
    async def options(request: Request) -> Response:
        body = await _json_body(request)

        def change() -> dict[str, Any]:
            if not isinstance(body, dict) or not body or set(body) - _OPTIONS:
                raise InvalidRequest(
                    "invalid_request", f"the options are {', '.join(sorted(_OPTIONS))}"
                )
            as_number = body.get("country_code_as_number", emulator.country_code_as_number)
            if not isinstance(as_number, bool):
                raise InvalidRequest("invalid_request", "country_code_as_number must be a boolean")
            per_minute = body.get("codes_per_minute", emulator.codes_per_minute)
            if isinstance(per_minute, bool) or not isinstance(per_minute, int) or per_minute < 1:
                raise InvalidRequest(
                    "invalid_request", "codes_per_minute must be a positive integer"
                )
            emulator.country_code_as_number = as_number
            emulator.codes_per_minute = per_minute
            return {"country_code_as_number": as_number, "codes_per_minute": per_minute}

        return _answer(change)

    @router.post("/_sandbox/wx/login")
    async def wx_login(request: Request) -> Response:
        body = await _json_body(request)
        return _answer(
            lambda: {"code": emulator.login_code(_field(body, "appid"), _field(body, "user"))}
        )

    @router.post("/_sandbox/wx/phone_code")
    async def wx_phone_code(request: Request) -> Response:
        body = await _json_body(request)
        return _answer(
            lambda: {"code": emulator.phone_code(_field(body, "appid"), _field(body, "user"))}
        )

    @router.get("/_sandbox/wx/users/{user}")
    async def get_user(user: str, appid: str | None = None) -> Response:
        def read() -> dict[str, Any]:
            found = emulator.user(user)
            return found.to_json(emulator.openid(appid, found.name) if appid else None)

        return _answer(read)

    @router.put("/_sandbox/wx/users/{user}")
    async def put_user(user: str, request: Request) -> Response:
        body = await _json_body(request)
        return _answer(lambda: emulator.update_user(user, body).to_json())

    templates = Environment(
        loader=PackageLoader("minilogin.sandbox", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    page = templates.get_template("phone.html")
    static = resources.files("minilogin.sandbox") / "static"
    assets = {name: (static / name).read_bytes() for name in _STATIC}
    assets[_ICON[0]] = (resources.files("minilogin") / "static" / _ICON[0]).read_bytes()

    @router.get("/_sandbox/phone")
    async def phone(appid: str = "", scene: str = "", lang: str = "") -> Response:
        config = {
            "appid": appid or SANDBOX_APP_ID,
            "scene": scene,
            "lang": lang,
            "server": server_url,
        }
        html = page.render(config=config, lang="en" if lang == "en" else "zh-CN")
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    @router.get("/_sandbox/static/{name}")
    async def asset(name: str) -> Response:
        if name not in assets:
            return _error(404, "not_found", "no such file")
        return Response(assets[name], media_type=_STATIC.get(name, _ICON[1]))

    return router


def _wechat_endpoint(
    emulator: WeChatEmulator, path: str, method: str, handler: Handler
) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        fault = emulator.begin_call(path)
        if fault is not None:
            if fault.delay_ms:
                await asyncio.sleep(fault.delay_ms / 1000)
            if fault.errcode:
                return _wechat(emulator.error(fault.errcode))
        if request.method != method:
            return _wechat(emulator.error(43001 if method == "GET" else 43002))
        if path in _DRAWING:
            # Drawing a QR code is pure-Python work: off the event loop, so the browsers and
            # phones this process serves are not kept waiting while the code pool fills.
            answer = await asyncio.to_thread(handler, request.query_params, await request.body())
        else:
            answer = handler(request.query_params, await request.body())
        if isinstance(answer, bytes):
            return Response(answer, media_type="image/jpeg")
        return _wechat(answer)

    return endpoint


def _wechat(body: dict[str, Any]) -> Response:
    content = json.dumps(body, ensure_ascii=False).encode()
    return Response(content, headers={"Content-Type": "application/json; encoding=utf-8"})


async def _json_body(request: Request) -> object:
    """The request's JSON, or ``None`` when it has none; the emulator says what is wrong."""
    try:
        return json.loads(await request.body())
    except (ValueError, RecursionError):
        return None


def _field(body: object, name: str) -> object:
    if not isinstance(body, dict):
        raise InvalidRequest("invalid_request", "the body must be a JSON object")
    return body.get(name)


def _answer(produce: Callable[[], object]) -> Response:
    try:
        return JSONResponse(produce())
    except InvalidRequest as error:
        return _error(400, error.code, error.detail or error.code)


def _error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"error": code, "message": message}, status)
