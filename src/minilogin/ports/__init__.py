"""The narrow interfaces the floors below the wiring need, one per artefact.

Each Protocol is satisfied structurally: the wiring (``wiring.py``) builds the objects and hands
each function only the ports it uses. A port names what a caller needs, never how it is stored.
The ports are kept by the floor that uses them, in this package's modules; all are named here.
"""

from __future__ import annotations

from minilogin.ports.admin import (
    AuditRecorder,
    CodeStatus,
    ConfigInvalidation,
    CredentialTest,
    KeyValues,
    PageRefusal,
)
from minilogin.ports.limits import (
    AttemptCounter,
    FailureLimits,
)
from minilogin.ports.login import (
    ApplicationReader,
    Authorizer,
    CodeBudget,
    CodeSource,
    Counters,
    IdentitySourceReader,
    MiniProgramSessionStore,
    PoolKeyspace,
    PoolReader,
    QRLoginStore,
    SceneRetirement,
)
from minilogin.ports.oidc import (
    AuditSink,
    AuthorizationCodeStore,
    AuthorizationRequestStore,
    CallbackLookup,
    Clock,
    CodeRedemption,
    EndingAuthorizationRequests,
    PendingCounter,
    PoolSigners,
    QRLoginUpdates,
    RevokedTokenStore,
    TokenSigner,
    UserLookup,
)
from minilogin.ports.stores import (
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

__all__ = [
    "AdminStore",
    "ApplicationReader",
    "ApplicationStore",
    "AttemptCounter",
    "AuditRecorder",
    "AuditSink",
    "AuditStore",
    "AuthorizationCodeStore",
    "AuthorizationRequestStore",
    "Authorizer",
    "CallbackLookup",
    "Clock",
    "CodeBudget",
    "CodeImageStore",
    "CodeRedemption",
    "CodeSource",
    "CodeStatus",
    "ConfigInvalidation",
    "Counters",
    "CredentialTest",
    "EndingAuthorizationRequests",
    "FailureLimits",
    "IdentitySourceReader",
    "IdentitySourceStore",
    "KeyValues",
    "MiniProgramSessionStore",
    "PageRefusal",
    "PendingCounter",
    "PoolKeyspace",
    "PoolReader",
    "PoolSigners",
    "PoolStore",
    "QRLoginStore",
    "QRLoginUpdates",
    "RefreshTokenStore",
    "RevokedTokenStore",
    "SceneRetirement",
    "SigningKeyStore",
    "TokenSigner",
    "UserLookup",
    "UserStore",
]
