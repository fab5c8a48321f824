"""The OpenAPI page ``/docs`` (Swagger UI), working without internet (many intranets have none):
its script, style and icon come from the ``fastapi-offline`` package and are served here under
``/docs/assets/``, never from a CDN. FastAPI's own pages load them from jsDelivr, so the app
turns those off and mounts this one instead. There is no ``/redoc``: ReDoc's page still loads
its logo from its vendor's CDN."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(str(files("fastapi_offline") / "static"))
PREFIX = "/docs/assets"
OPENAPI_URL = "/openapi.json"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
TITLE = "minilogin API"

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title=TITLE,
        swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{PREFIX}/favicon.png",
        oauth2_redirect_url=OAUTH2_REDIRECT_URL,
        # Swagger UI would otherwise send the document to validator.swagger.io for a badge.
        swagger_ui_parameters={"validatorUrl": None},
    )


@router.get(OAUTH2_REDIRECT_URL)
async def swagger_ui_oauth2_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


def install(app: FastAPI) -> None:
    """The pages and their assets; the app must be built with ``docs_url=None, redoc_url=None``."""
    app.include_router(router)
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="api-docs-assets")
