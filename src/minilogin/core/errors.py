"""The one error hierarchy. Each error has a stable ``code``; its HTTP status and its human
message (Simplified Chinese or English) are decided at the edge, in ``web/errors.py`` and
``core/messages.py``. The class says what kind of failure it is, the code says which one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


class MiniloginError(Exception):
    """Base of every error a client can cause or WeChat can answer."""

    def __init__(self, code: str, detail: str | None = None, **params: object) -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail
        self.params = params


class InvalidRequest(MiniloginError):
    """The request is malformed or names values that break a rule."""


class InvalidFields(InvalidRequest):
    """Several fields of one form break their rules: every one is named, so that a form can
    show them all at once. ``code`` and ``detail`` are the first's, as a single error's."""

    def __init__(self, problems: list[InvalidRequest]) -> None:
        super().__init__(problems[0].code, problems[0].detail)
        self.problems = problems


class Problems:
    """Collects the field errors of one form, to raise them together (``InvalidFields``)."""

    def __init__(self) -> None:
        self.found: list[InvalidRequest] = []

    def check(self, check: Callable[[], T]) -> T | None:
        """``check()``, or None when it raised ``InvalidRequest`` (which is kept)."""
        try:
            return check()
        except InvalidFields as many:
            self.found.extend(many.problems)
        except InvalidRequest as problem:
            self.found.append(problem)
        return None

    def raise_any(self) -> None:
        if self.found:
            raise InvalidFields(self.found)


@contextmanager
def all_problems() -> Iterator[Problems]:
    """A block whose ``Problems`` are raised together at its end."""
    problems = Problems()
    yield problems
    problems.raise_any()


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


class Unavailable(MiniloginError):
    """Nothing is wrong with the request, but it can't be served now: try again after
    ``retry_after`` seconds (the code pool is dry and WeChat's per-minute budget spent)."""

    def __init__(self, code: str, detail: str | None = None, *, retry_after: int) -> None:
        super().__init__(code, detail)
        self.retry_after = retry_after


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
