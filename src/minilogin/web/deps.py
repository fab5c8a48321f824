"""What routes take from the request: the services, the issuer, the caller's IP, browser and
language."""

from __future__ import annotations

import ua_parser
from fastapi import Request

from minilogin.core.qrlogin import RequestContext
from minilogin.places import place_of
from minilogin.web.pool_domain import POOL_HOST
from minilogin.wiring import Services


def services_of(request: Request) -> Services:
    """The app's services, for the routes of the login path: read from the app's state in the
    route itself, they cost nothing, where FastAPI solving a dependency for them costs a tenth
    of a hello-world request on each request (issue 17)."""
    svc: Services = request.app.state.services
    return svc


async def services(request: Request) -> Services:
    """The app's services. ``async`` so FastAPI calls it on the event loop: a plain function
    dependency would cost a hop to a worker thread on every request."""
    svc: Services = request.app.state.services
    return svc


def issuer(request: Request, pool: str) -> str:
    """The pool's issuer as this request reached it: its own subdomain's when it came in there
    (``web/pool_domain.py``), else the path under the public URL. Routes pass it on."""
    svc: Services = request.app.state.services
    on_pool_domain = request.scope.get("state", {}).get(POOL_HOST) == pool
    return svc.settings.issuer(pool, on_pool_domain=on_pool_domain)


def bearer_token(authorization: str | None) -> str | None:
    """The credential of an ``Authorization: Bearer …`` header (RFC 6750 §2.1)."""
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None


def client_ip(request: Request) -> str:
    """The peer's address; behind a proxy named in ``MINILOGIN_TRUSTED_PROXIES``, uvicorn
    has already put the X-Forwarded-For client here (``cli.py``)."""
    return request.client.host if request.client else ""


#: Operating systems as people call them (ua-parser names them as Browserscope does).
_SYSTEMS = {"Mac OS X": "macOS", "Windows": "Windows"}
#: 360's browsers send Chrome's user agent with a marker ua-parser's rules don't know.
_QIHU_360 = ("qihu 360", "360se", "360ee")


def browser_name(user_agent: str) -> str:
    """A short, human name for the browser the phone shows ("Chrome · Windows",
    "QQ Browser · Windows"), read with ua-parser's rules."""
    parsed = ua_parser.parse(user_agent[:1024])
    agent = parsed.user_agent.family if parsed.user_agent else ""
    if any(marker in user_agent.lower() for marker in _QIHU_360):
        agent = "360 Browser"
    system = parsed.os.family if parsed.os else ""
    system = _SYSTEMS.get(system, system)
    known = [name for name in (agent, system) if name and name != "Other"]
    return " · ".join(known) or user_agent[:60]


def request_context(request: Request) -> RequestContext:
    ip = client_ip(request)
    return RequestContext(
        browser=browser_name(request.headers.get("user-agent", "")),
        ip=ip,
        location=approximate_location(ip),
    )


def approximate_location(ip: str) -> str:
    return place_of(ip).text


def warm_up() -> None:
    """Load the user-agent rules and the IP database now, not on the first login."""
    browser_name("Mozilla/5.0")
    place_of("1.0.0.1")
