"""Every key and channel name of the ephemeral store, in one place.

Each kind of record begins with segments of its own. Where one kind's beginning is a prefix of
another's (``qrlogin:{id}`` and ``qrlogin:scene:{scene}``), the shorter one's argument is a
random identifier, which holds no ``:``, so the two never name the same key. Reading this
module tells an operator everything minilogin keeps in Redis (the Redis store puts its prefix
before each name), but for ``codepool:``, whose keys ``codepool/keys.py`` names beside the
code pool that shares them between instances.
"""

from __future__ import annotations

from typing import Final

# ---- QR logins (records.QRLogins) ----------------------------------------------------------


def qrlogin(login_id: str) -> str:
    """The login itself, as JSON, until a little past its deadline."""
    return f"qrlogin:{login_id}"


def qrlogin_scene(scene: str) -> str:
    """The id of the login a scene's code leads to. Scenes are unique across mini programs:
    the mini program's scan call names only the scene, and one server may serve the
    platform's and several private ones."""
    return f"qrlogin:scene:{scene}"


def qrlogin_expired(login_id: str) -> str:
    """Set by the first reader that notices the login expired, so its expiry is reported once."""
    return f"qrlogin:expired:{login_id}"


def qrlogin_events(login_id: str) -> str:
    """The channel each change of the login is published on."""
    return f"qrlogin:events:{login_id}"


# ---- OpenID Connect (records.AuthorizationCodes, .AuthorizationRequests, .RevokedTokens) -----


def authorization_code(code_digest: str) -> str:
    """The grant a one-time code stands for, until it is exchanged."""
    return f"authcode:{code_digest}"


def used_authorization_code(code_digest: str) -> str:
    """What the first exchange of a code issued, so a replay can revoke it."""
    return f"authcode:used:{code_digest}"


def authorization_request(request_id: str) -> str:
    """A pending authorization request of the hosted login page, until it expires."""
    return f"authreq:{request_id}"


def bound_authorization_request(login_id: str) -> str:
    """The authorization request a QR login answers, for as long as the login is kept."""
    return f"authreq:qrlogin:{login_id}"


def revoked_access_token(token_id: str) -> str:
    """An access token revoked before its expiry, until it would have expired."""
    return f"revoked:{token_id}"


# ---- the mini program (records.MiniProgramSessions) ------------------------------------------


def miniprogram_session(token_digest: str) -> str:
    return f"mpsession:{token_digest}"


# ---- limits (records.RateLimiter) ------------------------------------------------------------


def rate_limit(key: str) -> str:
    """A counter for the window that began at its first hit."""
    return f"ratelimit:{key}"


def rate_limit_window(key: str, index: int) -> str:
    """A counter for the ``index``-th clock-aligned window."""
    return f"ratelimit:{key}:{index}"


# ---- configuration (config_cache.ConfigCache) ------------------------------------------------

#: The channel an instance publishes on after changing a pool, application or source.
CONFIG_CHANGED: Final = "config:changed"


# ---- the console (admin/access.py) -----------------------------------------------------------


def console_session(session_digest: str) -> str:
    """An administrator's console session and its CSRF token, until it ends."""
    return f"console:session:{session_digest}"


# ---- binding an account (login/binding.py) ---------------------------------------------------


def wrong_binding_passwords(login_id: str) -> str:
    """How many wrong passwords binding an account to a QR login was given, as long as it lives."""
    return f"binding:wrong:{login_id}"


# ---- WeChat's access tokens (wechat/token_cache.py) ------------------------------------------
# ``program`` is a mini program's AppID and a fingerprint of its AppSecret, ``{appid}:{hash}``.


def wechat_token(program: str) -> str:
    """The cached access token, for as long as it lives."""
    return f"wechat:token:{program}"


def wechat_token_lock(program: str) -> str:
    """Held by the instance fetching a new access token."""
    return f"wechat:token-lock:{program}"


def wechat_token_rejected(program: str, token_fingerprint: str) -> str:
    """Set when WeChat rejected a cached token, as long as that token would have lived."""
    return f"wechat:token-rejected:{program}:{token_fingerprint}"


def wechat_token_forced_at(program: str) -> str:
    """Set for 30 s after a forced refresh, which WeChat allows that often."""
    return f"wechat:token-forced-at:{program}"


def wechat_token_forced(program: str, day: int) -> str:
    """The forced refreshes of the ``day``-th day since the epoch."""
    return f"wechat:token-forced:{program}:{day}"


# ---- health (web/health.py) ------------------------------------------------------------------

#: Read (never written) by the health check to time a round trip to the ephemeral store.
HEALTH_PROBE: Final = "health:probe"
