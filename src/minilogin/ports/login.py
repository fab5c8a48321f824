"""What the login floor (``login/``, ``codepool/``, ``lookups.py``) is handed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from minilogin.core.entities import Application, CodeImage, IdentitySource, Pool, User
from minilogin.core.qrlogin import MiniProgramSession, QRLogin, Scanner


class PoolReader(Protocol):
    """Reading a pool by its slug: the durable store, or the configuration cache over it."""

    async def get_pool(self, slug: str) -> Pool | None: ...


class ApplicationReader(Protocol):
    """Reading an application: the durable store, or the configuration cache over it."""

    async def get_application(self, pool_id: str, client_id: str) -> Application | None: ...


class IdentitySourceReader(Protocol):
    """Reading an identity source: the durable store, or the configuration cache over it."""

    async def get_identity_source(self, pool_id: str, unique_id: str) -> IdentitySource | None: ...


class PoolKeyspace(Protocol):
    """The short-lived keys and lists the code pool shares with every instance (the ephemeral
    store: ``storage/ephemeral/base.py`` says what each operation guarantees)."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, ttl: float) -> None: ...

    async def add(self, key: str, value: str, ttl: float) -> bool:
        """Store only if ``key`` holds nothing; ``True`` when stored."""
        ...

    async def compare_and_set(self, key: str, expected: str, value: str, ttl: float) -> bool:
        """Replace the value only if it is still ``expected``; ``True`` when replaced."""
        ...

    async def delete(self, key: str) -> None: ...

    async def incr(self, key: str, ttl: float, by: int = 1) -> int: ...

    async def push(self, key: str, value: str, ttl: float) -> int: ...

    async def pop(self, key: str) -> str | None:
        """The oldest value of the list, each to one caller only; ``None`` once empty."""
        ...

    async def length(self, key: str) -> int: ...


class CodeSource(Protocol):
    """The code pool as a QR login sees it (``codepool/``): a scene for each new login, and
    the image of its code."""

    @property
    def recycles(self) -> bool:
        """Whether codes return to the pool after their logins (logins then match numbers)."""
        ...

    async def lease(self, source: IdentitySource, login_id: str) -> str: ...

    async def image(self, source: IdentitySource, login: QRLogin) -> CodeImage: ...


class CodeBudget(Protocol):
    """Calls counted against a limit per window, all instances together."""

    async def hit(self, key: str, limit: int, window: float) -> bool:
        """Count one call; ``False`` once more than ``limit`` were made in the window."""
        ...


class SceneRetirement(Protocol):
    """Ending the reach of an ended login's scene: a scan of its code finds no login."""

    async def retire_scene(self, login: QRLogin, ttl: float) -> None: ...


class QRLoginStore(Protocol):
    """The QR logins in the ephemeral store, with their one compare-and-set writer
    (``storage/ephemeral/records.py``)."""

    async def create(self, login: QRLogin) -> bool:
        """Store a new login; ``False`` when its id or its scene is taken."""
        ...

    async def get(self, login_id: str) -> QRLogin | None: ...

    async def find_by_scene(self, scene: str) -> QRLogin | None: ...

    async def update(
        self,
        login_id: str,
        change: Callable[[QRLogin], QRLogin],
        seen: QRLogin | None = None,
    ) -> QRLogin:
        """``seen``: the login as the caller just read it, which spares a read while it is
        still the stored one."""
        ...

    async def note_expired(self, login: QRLogin) -> None:
        """Report the login's expiry once, by whichever reader notices it first."""
        ...

    def decode(self, message: str) -> QRLogin:
        """A login as published on its status channel."""
        ...


class Counters(Protocol):
    """Counters shared by every instance (the ephemeral store)."""

    async def incr(self, key: str, ttl: float) -> int:
        """Add one and return the new count; the time to live starts at the first increment."""
        ...


class Authorizer(Protocol):
    """The last step of every successful QR login: a one-time authorization code for the
    browser, and the login moved to ``authorized`` (``login/authorization.py``)."""

    async def __call__(
        self,
        login: QRLogin,
        user: User,
        scanner: Scanner | None = None,
        *,
        ip: str | None,
        **detail: object,
    ) -> QRLogin: ...


class MiniProgramSessionStore(Protocol):
    """The mini program's sessions on scanned QR logins, kept by hash."""

    async def put(self, token: str, session: MiniProgramSession, ttl: float) -> None: ...

    async def get(self, token: str) -> MiniProgramSession | None: ...
