"""Each pool on its own subdomain (``MINILOGIN_POOL_DOMAIN``, API.md: "also
``https://{pool}.{that domain}``, same paths at its root").

The edge (``web/edge.py``), once the request is observed and before anything else reads its
path, turns a request for ``{pool}.{domain}/oidc/token`` into one for
``/pools/{pool}/oidc/token`` and marks the request as having come in on that subdomain
(``POOL_HOST`` in the request's state), so that its routes compute the subdomain issuer
(``web/deps.py``) and pass it on: to discovery, the tokens' ``iss``, image URLs. Paths
that belong to no pool (the SDK under ``/static``, the mini program's API, the sandbox) are
served as they are on every host.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.types import Scope

SHARED_PREFIXES = ("/static/", "/api/miniprogram/", "/_sandbox/", "/admin/", "/docs", "/openapi")
#: The key of the request's state (``request.state``) naming the pool whose subdomain the
#: request came in on.
POOL_HOST = "minilogin_pool_host"
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def pool_of_host(host: str, domain: str) -> str | None:
    """``acme`` for ``acme.login.example.com[:port]`` when the domain is ``login.example.com``."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    suffix = "." + domain.lower().strip(".")
    name = name.lower()
    if not name.endswith(suffix):
        return None
    label = name[: -len(suffix)]
    return label if _LABEL.fullmatch(label) else None


def on_pool_domain(scope: Scope, domain: str) -> Scope:
    """``scope`` as its routes see it: a request that came in on a pool's subdomain is one for
    the pool's path, marked as having come in there; any other is left as it is."""
    pool = pool_of_host(Headers(scope=scope).get("host", ""), domain)
    path: str = scope["path"]
    if pool is None or path.startswith("/pools/") or path.startswith(SHARED_PREFIXES):
        return scope
    prefix = f"/pools/{pool}"
    rewritten = dict(scope)
    rewritten["path"] = prefix + path
    if "raw_path" in scope and scope["raw_path"] is not None:
        rewritten["raw_path"] = prefix.encode() + scope["raw_path"]
    # A copy: the state the server hands each request is shared with the lifespan's.
    rewritten["state"] = {**scope.get("state", {}), POOL_HOST: pool}
    return rewritten
