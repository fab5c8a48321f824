"""The one error hierarchy. Each error has a stable ``code``; its HTTP status and its human
message (Simplified Chinese or English) are decided at the edge, in ``web/errors.py`` and
``core/messages.py``. The class says what kind of failure it is, the code says which one."""

from __future__ import annotations


class MiniloginError(Exception):
    """Base of every error a client can cause or WeChat can answer."""

    def __init__(self, code: str, detail: str | None = None, **params: object) -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail
        self.params = params


class InvalidRequest(MiniloginError):
    """The request is malformed or names values that break a rule."""


class Unauthorized(MiniloginError):
    """A credential (QR login secret, token, admin token) is missing or wrong."""


class Forbidden(MiniloginError):
    """The caller is known but this is not allowed (login-only, blocked account, origin)."""


class NotFound(MiniloginError):
    """The named thing does not exist, or the caller may not know that it does."""


class Conflict(MiniloginError):
    """The thing exists but is in a state that does not allow this (already scanned, used)."""


class Gone(MiniloginError):
    """The thing existed and has expired."""


class RateLimited(MiniloginError):
    """Too many attempts; try again later."""


class TooLarge(MiniloginError):
    """The request's body is larger than the endpoint accepts."""


class UpstreamError(MiniloginError):
    """WeChat answered with an error, timed out or could not be reached."""

    def __init__(
        self, code: str, detail: str | None = None, *, errcode: int | None = None, **params: object
    ) -> None:
        super().__init__(code, detail, **params)
        self.errcode = errcode


class OAuthError(MiniloginError):
    """An error of an OAuth endpoint, answered in RFC 6749 §5.2 form."""

    def __init__(self, code: str, detail: str | None = None, *, status: int = 400) -> None:
        super().__init__(code, detail)
        self.status = status
