"""An integrator's website for the browser tests: a folder of pages served by a small HTTP
server of its own on another port, so that the pages run on another origin than minilogin, as
a customer's pages do, and load the SDK across origins. ``{{minilogin}}`` in a page stands for
the server's public URL (where the SDK comes from and whose pools the page logs in to).

The site's origin is registered with minilogin as an application's web origin through the
admin API (``allow_origin``), as an administrator would do in the console.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.support.live_server import serving
from tests.support.server import free_port

#: The admin API token the browser tests' servers are started with (``MINILOGIN_ADMIN_TOKEN``).
ADMIN_TOKEN = "browser-tests-admin-token-0123456789"


def site_app(folder: Path, minilogin: str) -> Starlette:
    root = folder.resolve()

    async def page(request: Request) -> Response:
        path = (root / request.path_params["path"]).resolve()
        if path.is_dir():
            path = path / "index.html"
        if root not in path.parents or not path.is_file():
            return PlainTextResponse("not found", 404)
        body = path.read_bytes()
        if path.suffix == ".html":
            body = body.replace(b"{{minilogin}}", minilogin.encode())
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return Response(body, media_type=kind, headers={"Cache-Control": "no-store"})

    return Starlette(routes=[Route("/{path:path}", page)])


@contextmanager
def customer_site(folder: Path, minilogin: str) -> Iterator[str]:
    """``folder`` served on a free port of 127.0.0.1; yields the site's origin."""
    port = free_port()
    with serving(site_app(folder, minilogin), port):
        yield f"http://127.0.0.1:{port}"


def allow_origin(public: str, client_id: str, origin: str, pool: str = "demo") -> None:
    """Add ``origin`` to the application's web origins through the admin API."""
    url = f"{public}/admin/api/pools/{pool}/applications/{client_id}"
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    current = httpx.get(url, headers=headers)
    assert current.status_code == 200, current.text
    origins = [*current.json()["web_origins"], origin]
    changed = httpx.patch(url, headers=headers, json={"web_origins": origins})
    assert changed.status_code == 200, changed.text
