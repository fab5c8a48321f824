"""The service's icon. Every page links ``/static/favicon.svg``; ``/favicon.ico`` points there
too, for the browsers and tools that ask for it without reading any page."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import RedirectResponse

ICON = "/static/favicon.svg"
router = APIRouter(include_in_schema=False)


@router.get("/favicon.ico")
async def favicon() -> RedirectResponse:
    return RedirectResponse(ICON, 301)
