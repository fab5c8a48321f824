"""The mini program's API (API.md §3) under ``{public}/api/miniprogram``, for every pool."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from minilogin.flows import miniprogram as flow
from minilogin.services import Services
from minilogin.web.deps import client_ip, services

router = APIRouter(prefix="/api/miniprogram", tags=["Mini program"])
Svc = Annotated[Services, Depends(services)]


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


@router.post("/scan")
async def scan(body: ScanBody, svc: Svc) -> dict[str, Any]:
    scanned = await flow.scan(svc, body.scene, body.js_code)
    return flow.scan_body(scanned, svc.clock())


@router.post("/confirm")
async def confirm(body: ConfirmBody, request: Request, svc: Svc) -> dict[str, str]:
    profile = {
        key: value
        for key, value in (("nickname", body.nickname), ("avatar_url", body.avatar_url))
        if value
    }
    login = await flow.confirm(
        svc, body.session, body.phone_code, profile, client_ip(request), body.match
    )
    return {"status": login.status.value}


@router.post("/cancel")
async def cancel(body: CancelBody, request: Request, svc: Svc) -> dict[str, str]:
    login = await flow.cancel(svc, body.session, client_ip(request), body.reason)
    return {"status": login.status.value}
