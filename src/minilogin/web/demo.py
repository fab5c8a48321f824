"""The demo relying party at ``{public}/demo/`` (API.md §5): a page that logs in with the SDK
and shows the resulting ID token's claims and UserInfo, directly or through the hosted login
page, whose answer comes back to ``{public}/demo/callback``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from minilogin.core.errors import NotFound
from minilogin.login.qrlogin import authenticate
from minilogin.seed import DEMO_CLIENT, DEMO_POOL
from minilogin.web.deps import bearer_token, services
from minilogin.wiring import Services

router = APIRouter(tags=["Demo"], include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
Svc = Annotated[Services, Depends(services)]


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/demo/")


@router.get("/demo", response_class=HTMLResponse)
@router.get("/demo/", response_class=HTMLResponse)
async def demo_page(request: Request, svc: Svc) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "demo.html",
        {
            "issuer": svc.settings.issuer(DEMO_POOL),
            "client_id": DEMO_CLIENT,
            "public_url": svc.settings.public_url,
            "sandbox": svc.settings.uses_wechat_sandbox,
        },
    )


@router.get("/demo/api/phone-url/{login_id}")
async def sandbox_phone_url(
    login_id: str, svc: Svc, authorization: Annotated[str | None, Header()] = None
) -> dict[str, str]:
    """In sandbox mode, where the code's phone page is, for a laptop that cannot scan its own
    screen. Only the holder of the QR login's secret may ask."""
    phone = svc.settings.sandbox_phone_url
    if phone is None:
        raise NotFound("not_found")
    login = await authenticate(svc.qrlogins, DEMO_POOL, login_id, bearer_token(authorization))
    query = urlencode({"appid": login.app_id, "scene": login.scene})
    return {"phone_url": f"{phone}?{query}"}


@router.get("/demo/callback", response_class=HTMLResponse)
async def demo_callback(request: Request, svc: Svc) -> HTMLResponse:
    """The demo application's redirect URI: finishes a login on the hosted page with the SDK's
    ``handleRedirectCallback()`` and shows its result, or the error the provider answered."""
    return templates.TemplateResponse(
        request,
        "demo_callback.html",
        {"issuer": svc.settings.issuer(DEMO_POOL), "client_id": DEMO_CLIENT},
    )
