"""The values WeChat's calls take and answer, and the access-token source the client needs.

Both ``client`` and ``token_cache`` import from here and neither imports the other: the client
receives whatever answers ``AccessTokens`` (``token_cache.AccessTokenCache`` in the wiring).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class MiniProgram:
    """The credentials of one mini program."""

    app_id: str
    app_secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Session:
    """``code2Session``'s answer. ``session_key`` decrypts the user's data: it stays out of
    every ``repr`` (and so of logs and errors)."""

    openid: str
    session_key: str = field(repr=False)
    unionid: str | None = None


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """WeChat's ``phone_info``. ``phone_number`` has the country code for numbers outside
    mainland China; ``pure_phone_number`` never has it."""

    phone_number: str
    pure_phone_number: str
    country_code: str


class AccessTokens(Protocol):
    """Where the client takes a mini program's access token from."""

    async def get(self, app: MiniProgram, *, rejected: str | None = None) -> str:
        """A token for ``app``; never ``rejected``, the token WeChat just refused."""
        ...
