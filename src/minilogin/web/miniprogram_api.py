"""The mini program's API (API.md §3) under ``{public}/api/miniprogram``, for every pool."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from minilogin.login import miniprogram as flow
from minilogin.places import place_of, regions_differ
from minilogin.web import limits
from minilogin.web.deps import client_ip, services_of
from minilogin.web.errors import error_responses
from minilogin.web.login_ports import miniprogram_ports
from minilogin.wiring import Services

router = APIRouter(
    prefix="/api/miniprogram",
    tags=["Mini program"],
    responses=error_responses(400, 403, 404, 409, 410, 413, 424, 429, 503),
)


class ScanBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    scene: str = Field(min_length=1, max_length=64)
    js_code: str = Field(min_length=1, max_length=256)


class ConfirmBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    session: str = Field(min_length=1, max_length=128)
    phone_code: str = Field(min_length=1, max_length=256)
    nickname: str | None = Field(default=None, max_length=64)
    avatar_url: str | None = Field(default=None, max_length=1024)
    #: The digits the person picked, when the scan answer asked for number matching.
    match: str | None = Field(default=None, max_length=8)


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    session: str = Field(min_length=1, max_length=128)
    #: Why the phone ended the login, so the PC can say it (a contract addition).
    reason: Literal["cancelled_by_user", "phone_denied", "phone_quota", "phone_unavailable"] = (
        "cancelled_by_user"
    )


#: Each scan and confirm counts against its IP (the routes' dependencies, and their lean
#: lanes').
count_scan = limits.per_ip("scan")
count_confirm = limits.per_ip("confirm")


@router.post("/scan", dependencies=[Depends(count_scan)])
async def scan(body: ScanBody, request: Request) -> dict[str, Any]:
    return await scan_answer(request, services_of(request), body)


async def scan_answer(request: Request, svc: Services, body: ScanBody) -> dict[str, Any]:
    """The scan route's work once its IP was counted and its body read: the route above and
    its lean lane (``web/lane.py``) both answer with it."""
    scanned = await flow.scan(miniprogram_ports(svc), body.scene, body.js_code)
    answer = flow.scan_body(scanned, svc.clock())
    # The phone warns before "Allow" when its network is in another region than the PC's.
    phone_ip = client_ip(request)
    answer["request"]["region_differs"] = regions_differ(scanned.login.request.ip, phone_ip)
    answer["request"]["phone_location"] = place_of(phone_ip).text
    return answer


@router.post("/confirm", dependencies=[Depends(count_confirm)])
async def confirm(body: ConfirmBody, request: Request) -> dict[str, str]:
    return await confirm_answer(request, services_of(request), body)


async def confirm_answer(request: Request, svc: Services, body: ConfirmBody) -> dict[str, str]:
    """The confirm route's work once its IP was counted and its body read: the route above
    and its lean lane (``web/lane.py``) both answer with it."""
    profile = {
        key: value
        for key, value in (("nickname", body.nickname), ("avatar_url", body.avatar_url))
        if value
    }
    login = await flow.confirm(
        miniprogram_ports(svc),
        body.session,
        body.phone_code,
        profile,
        client_ip(request),
        body.match,
    )
    return {"status": login.status.value}


@router.post("/cancel")
async def cancel(body: CancelBody, request: Request) -> dict[str, str]:
    svc = services_of(request)
    login = await flow.cancel(miniprogram_ports(svc), body.session, client_ip(request), body.reason)
    return {"status": login.status.value}
