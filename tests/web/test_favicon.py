"""The icon (``web/favicon.py``): served, and named by every HTML page the service shows —
the console (login, app, experience), the demo, the hosted login page and its messages, and
the sandbox's phone page, which names its own copy (the sandbox may run on its own)."""

from __future__ import annotations

import re
from http.cookies import SimpleCookie
from urllib.parse import urljoin

import httpx
from tests.conftest import PUBLIC

from minilogin.admin import Actor, access
from minilogin.web.admin_ports import access_ports
from minilogin.wiring import Services

ISSUER = f"{PUBLIC}/pools/demo"
ICON = re.compile(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">')


async def icon_of(http: httpx.AsyncClient, url: str, session: str, **params: str) -> str:
    cookie = {"Cookie": f"minilogin_console={session}"} if session else {}
    page = await http.get(url, params=params, headers=cookie)
    assert page.status_code < 500, url
    assert page.headers["content-type"].startswith("text/html"), url
    match = ICON.search(page.text)
    assert match, f"{url} names no icon"
    return urljoin(url, match[1])


async def test_the_icon_is_served_and_every_page_links_it(
    http: httpx.AsyncClient, services: Services
) -> None:
    direct = await http.get(f"{PUBLIC}/favicon.ico")
    assert (direct.status_code, direct.headers["location"]) == (301, "/static/favicon.svg")
    icons = {await icon_of(http, f"{PUBLIC}/console/login", "")}
    await access.create_admin(
        access_ports(services), Actor("cli:test"), "boss", "correct horse battery"
    )
    logged_in = await http.post(
        f"{PUBLIC}/console/login",
        data={"username": "boss", "password": "correct horse battery"},
        headers={"Origin": PUBLIC},
    )
    assert logged_in.status_code == 303
    # The cookie is Secure (this public URL is not on this computer): sent by hand here.
    session = SimpleCookie(logged_in.headers["set-cookie"])["minilogin_console"].value
    pages = [
        (f"{PUBLIC}/console/", {}),
        (f"{PUBLIC}/console/experience", {"pool": "demo", "client_id": "demo"}),
        (f"{PUBLIC}/demo/", {}),
        (f"{ISSUER}/oidc/auth", {"client_id": "demo", "response_type": "code"}),
        (f"{ISSUER}/oidc/auth", {"client_id": "nobody"}),
        (f"{PUBLIC}/_sandbox/phone", {}),
    ]
    icons |= {await icon_of(http, url, session, **params) for url, params in pages}
    assert icons == {f"{PUBLIC}/static/favicon.svg", f"{PUBLIC}/_sandbox/static/favicon.svg"}
    for icon in icons:
        served = await http.get(icon)
        assert served.status_code == 200
        assert served.headers["content-type"].startswith("image/svg+xml")
        assert served.text.startswith("<svg")
