"""What a login page may know about an application before anyone logs in: the identity
sources enabled for it, one tab each in the ``<minilogin-login>`` component.

``GET {issuer}/api/applications/{client_id}/connections`` → ``[{"unique_id",
"display_name"}]``, answered cross-origin to the pool's registered web origins like the QR
login API (a contract addition to API.md §1).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from minilogin.lookups import load_application, load_pool
from minilogin.web.deps import services
from minilogin.web.errors import error_responses
from minilogin.wiring import Services

router = APIRouter(
    prefix="/pools/{pool}/api/applications",
    tags=["QR login (browser)"],
    responses=error_responses(400, 404, 503),
)
Svc = Annotated[Services, Depends(services)]


@router.get("/{client_id}/connections")
async def connections(pool: str, client_id: str, svc: Svc) -> list[dict[str, str]]:
    known = await load_pool(svc.config, pool)
    application = await load_application(svc.config, known, client_id)
    sources = await svc.config.enabled_identity_sources(known.id, application.client_id)
    return [{"unique_id": s.unique_id, "display_name": s.display_name} for s in sources]
