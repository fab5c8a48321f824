"""What routes take from the request: the services, the caller's IP, browser and language."""

from __future__ import annotations

from fastapi import Request

from minilogin.core.qrlogin import RequestContext
from minilogin.services import Services


async def services(request: Request) -> Services:
    """The app's services. ``async`` so FastAPI calls it on the event loop: a plain function
    dependency would cost a hop to a worker thread on every request."""
    svc: Services = request.app.state.services
    return svc


def bearer_token(authorization: str | None) -> str | None:
    """The credential of an ``Authorization: Bearer …`` header (RFC 6750 §2.1)."""
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def browser_name(user_agent: str) -> str:
    """A short, human name for the browser the phone shows ("Chrome on Windows")."""
    ua = user_agent.lower()
    browser = next(
        (
            name
            for token, name in (
                ("edg/", "Edge"),
                ("micromessenger", "WeChat"),
                ("firefox/", "Firefox"),
                ("chrome/", "Chrome"),
                ("chromium/", "Chromium"),
                ("safari/", "Safari"),
            )
            if token in ua
        ),
        "",
    )
    system = next(
        (
            name
            for token, name in (
                ("windows", "Windows"),
                ("mac os x", "macOS"),
                ("android", "Android"),
                ("iphone", "iOS"),
                ("linux", "Linux"),
            )
            if token in ua
        ),
        "",
    )
    if browser and system:
        return f"{browser} · {system}"
    return browser or system or user_agent[:60]


def request_context(request: Request) -> RequestContext:
    ip = client_ip(request)
    return RequestContext(
        browser=browser_name(request.headers.get("user-agent", "")),
        ip=ip,
        location=approximate_location(ip),
    )


def approximate_location(ip: str) -> str:
    """Without a geolocation database, say only what the address itself tells."""
    if ip.startswith(("127.", "::1")) or ip == "localhost":
        return "本机 / this computer"
    if ip.startswith(("10.", "192.168.")) or ip.startswith(
        tuple(f"172.{n}." for n in range(16, 32))
    ):
        return "局域网 / local network"
    return ""
