"""The SDK's public files, loadable from any site (API.md §7): ``minilogin.js`` (the SDK and the
``<minilogin-login>`` component, which needs nothing else) and its types ``minilogin.d.ts``;
``authing-compat.js``, Authing's ``wxqrcode`` calls on top of it, and its types.

A module script is always fetched in CORS mode, so a customer's page can only import the SDK
when the answer carries ``Access-Control-Allow-Origin``; the files hold no user data and are
fetched without credentials, so every origin may read them. Each file has two addresses:

- ``/static/{name}``: always the running server's file, cached briefly (and revalidated by
  its ETag), so an upgrade reaches pages within minutes;
- ``/static/v{version}/{name}``: this release's file, cached for a year as immutable, the
  address to pin with Subresource Integrity (``integrity="sha384-…"``, W3C SRI §3).

``/static/sdk.json`` lists both addresses and each file's integrity; ``minilogin sdk`` prints
the same. The console's own files under ``/static/console/`` stay same-origin only.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, TypedDict

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse, Response

from minilogin import __version__
from minilogin.core.errors import NotFound
from minilogin.web.deps import services
from minilogin.wiring import Services

STATIC = Path(__file__).resolve().parent.parent / "static"
SHORT_CACHE = "public, max-age=300"
LONG_CACHE = "public, max-age=31536000, immutable"
#: What any site may read: no credentials are ever involved (Fetch §3.2.5).
PUBLIC_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class Asset:
    name: str
    media_type: str
    body: bytes

    @cached_property
    def integrity(self) -> str:
        """The Subresource Integrity metadata of the file (SRI §3.1, SHA-384)."""
        digest = hashlib.sha384(self.body).digest()
        return f"sha384-{base64.b64encode(digest).decode()}"

    @cached_property
    def etag(self) -> str:
        return f'"{hashlib.sha256(self.body).hexdigest()[:32]}"'


def _load() -> dict[str, Asset]:
    kinds = {
        "minilogin.js": "text/javascript; charset=utf-8",
        "minilogin.d.ts": "application/typescript; charset=utf-8",
        "authing-compat.js": "text/javascript; charset=utf-8",
        "authing-compat.d.ts": "application/typescript; charset=utf-8",
    }
    return {name: Asset(name, kind, (STATIC / name).read_bytes()) for name, kind in kinds.items()}


ASSETS = _load()


def versioned_path(name: str) -> str:
    return f"/static/v{__version__}/{name}"


class ManifestFile(TypedDict):
    url: str
    latest_url: str
    integrity: str


class Manifest(TypedDict):
    version: str
    files: dict[str, ManifestFile]


def manifest(public_url: str) -> Manifest:
    """Where each public file is and its integrity, for ``/static/sdk.json`` and the CLI."""
    return {
        "version": __version__,
        "files": {
            asset.name: ManifestFile(
                url=f"{public_url}{versioned_path(asset.name)}",
                latest_url=f"{public_url}/static/{asset.name}",
                integrity=asset.integrity,
            )
            for asset in ASSETS.values()
        },
    }


router = APIRouter(prefix="/static", tags=["SDK"], include_in_schema=False)


def _answer(asset: Asset, cache: str, if_none_match: str | None) -> Response:
    headers = {**PUBLIC_HEADERS, "Cache-Control": cache, "ETag": asset.etag}
    if if_none_match is not None and asset.etag in if_none_match:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


def _asset(name: str) -> Asset:
    asset = ASSETS.get(name)
    if asset is None:
        raise NotFound("not_found")
    return asset


@router.get("/sdk.json")
async def sdk_manifest(svc: Annotated[Services, Depends(services)]) -> JSONResponse:
    listing = manifest(svc.settings.public_url)
    return JSONResponse(listing, headers={**PUBLIC_HEADERS, "Cache-Control": SHORT_CACHE})


@router.api_route("/v{version}/{name}", methods=["GET", "HEAD"])
async def pinned(
    version: str, name: str, if_none_match: Annotated[str | None, Header()] = None
) -> Response:
    """Only this release's files: an address that promises ``immutable`` must never change."""
    if version != __version__:
        raise NotFound("not_found")
    return _answer(_asset(name), LONG_CACHE, if_none_match)


def _serve_latest(asset: Asset) -> None:
    async def latest(if_none_match: Annotated[str | None, Header()] = None) -> Response:
        return _answer(asset, SHORT_CACHE, if_none_match)

    router.add_api_route(
        f"/{asset.name}", latest, methods=["GET", "HEAD"], name=f"latest {asset.name}"
    )


for _asset_file in ASSETS.values():
    _serve_latest(_asset_file)
