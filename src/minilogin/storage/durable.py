"""The durable store's interface: every per-aggregate store of ``minilogin.ports`` at once.

Implementations keep secrets (AppSecrets, private signing keys) encrypted at rest and hand
them back decrypted; they raise ``Conflict`` when a uniqueness rule would break, so no caller
sees a database error. Each method is one transaction: nothing is ever left half-written.
"""

from __future__ import annotations

from typing import Protocol

from minilogin.core.entities import CodeImage, RefreshToken
from minilogin.ports import (
    AdminStore,
    ApplicationStore,
    AuditStore,
    CodeImageStore,
    IdentitySourceStore,
    PoolStore,
    RefreshTokenStore,
    SigningKeyStore,
    UserStore,
)

__all__ = ["CodeImage", "DurableStore", "RefreshToken"]


class DurableStore(
    PoolStore,
    ApplicationStore,
    IdentitySourceStore,
    UserStore,
    RefreshTokenStore,
    SigningKeyStore,
    CodeImageStore,
    AuditStore,
    AdminStore,
    Protocol,
):
    async def close(self) -> None: ...
