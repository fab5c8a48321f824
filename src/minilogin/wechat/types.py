"""The values WeChat's calls take and answer, the access-token source the client needs, and
the calls as the floors above use them (the code pool, the mini program's flow).

Both ``client`` and ``token_cache`` import from here and neither imports the other: the client
receives whatever answers ``AccessTokens`` (``token_cache.AccessTokenCache`` in the wiring).
Here rather than in ``ports``, which the storage floor imports, so that ``ports`` does
not depend on ``wechat`` (whose token cache uses the storage floor).
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


class CodeMaker(Protocol):
    """WeChat's ``getUnlimitedQRCode``: the image of a mini program code for a scene."""

    async def get_unlimited_code(
        self, app: MiniProgram, scene: str, *, page: str | None, env_version: str = ...
    ) -> bytes: ...


class WeChatLogin(Protocol):
    """The two WeChat calls a scan and its confirmation make (``wechat/client.py``)."""

    async def code_to_session(self, app: MiniProgram, js_code: str) -> Session: ...

    async def get_phone_number(
        self, app: MiniProgram, code: str, *, openid: str | None = ...
    ) -> PhoneNumber: ...
