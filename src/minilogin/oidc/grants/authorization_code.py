"""The ``authorization_code`` grant (RFC 6749 §4.1.3; OpenID Connect Core §3.1.3.2) with PKCE
(RFC 7636 §4.6).

Codes are single-use: a second use fails with ``invalid_grant`` and revokes the tokens the
first use issued (RFC 6749 §4.1.2, "SHOULD revoke (when possible) all tokens previously
issued based on that authorization code"). A code is used up by an exchange that issues tokens
or fails a check, never by one that a store's outage cut short: what reads a store is done
before the code is taken, and a failure after it puts the code back, so that the client's
retry of a 503 is not refused as a replay.

The exchange reads no user: the code carries the claims the login left (``AuthorizationCode.
claims``), and the refresh token's insert is the check that the user is still in the pool and
not blocked (``RefreshTokenStore.add_refresh_token``). A code an earlier version wrote, without
claims, has its user read as before.

``accept`` is the whole check of a code, shared with the console's "Experience login"
(``admin/experience.py``), which shows what the exchange would give without issuing it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import NoReturn

from minilogin.core.claims import TokenContext, user_claims
from minilogin.core.entities import User
from minilogin.core.errors import OAuthError
from minilogin.core.grants import AuthorizationCode, IssuedTokens
from minilogin.core.pkce import verify
from minilogin.core.qrlogin import CODE_LIFETIME
from minilogin.oidc.audit import emit
from minilogin.oidc.grants import TokenRequest
from minilogin.oidc.issue import family_for_code, mint, revoke_family
from minilogin.ports import (
    AuditSink,
    AuthorizationCodeStore,
    Clock,
    CodeRedemption,
    PoolSigners,
    RefreshTokenStore,
    RevokedTokenStore,
    UserLookup,
)

#: Between tries to put a code back into a store that failed: about a restart's length in all.
PUT_BACK_PAUSES = (0.1, 0.2, 0.4, 0.8, 1.5, 2.0)


class UserCannotLogIn(OAuthError):
    """The code's user was deleted or blocked since the code was issued: ``user`` as read
    (None when deleted), or None when the exchange's refresh-token insert refused it."""

    def __init__(self, user: User | None) -> None:
        super().__init__("invalid_grant", "the user can no longer log in")
        self.user = user


@dataclass(frozen=True, slots=True)
class Accepted:
    """A code that passed every check and was used up: what the tokens would say."""

    grant: AuthorizationCode
    user: User
    context: TokenContext


@dataclass(frozen=True, slots=True)
class AuthorizationCodeGrant:
    """The handler, with the ports it uses: the codes, the user, the product's hook for a
    redeemed code, the refresh tokens it starts, the access-token denylist a replay fills,
    the pool's keys, the audit sink and the clock."""

    codes: AuthorizationCodeStore
    users: UserLookup
    redeemed: CodeRedemption
    refresh_tokens: RefreshTokenStore
    revoked: RevokedTokenStore
    keys: PoolSigners
    audit: AuditSink
    clock: Clock

    async def __call__(self, request: TokenRequest) -> dict[str, object]:
        # The pool's keys are read before the code is used up (see the module's docstring).
        await self.keys.signer(request.pool.id)
        grant = await self._take(request)
        client, code = request.client, request.form["code"]
        released = await self._released(request, code, grant)
        context = self._context(request, grant)
        async with self._put_back_on_failure(code, grant):
            minted = await mint(
                self.keys,
                request.pool.id,
                client,
                grant.user_id,
                released,
                context,
                family_for_code(code),
            )
            added = await self.refresh_tokens.add_refresh_token(minted.refresh)
            if added is not None:
                await self.redeemed(grant)
                expires_at = float(context.now + client.access_token_lifetime)
                await self.codes.remember_issued(
                    code,
                    IssuedTokens([minted.access_token_id], expires_at),
                    client.access_token_lifetime,
                )
        if added is None:
            # Blocked or deleted since the login: a failed check, which used the code up.
            raise UserCannotLogIn(None)
        await emit(
            self.audit,
            "token.issued",
            pool_id=request.pool.id,
            actor=client.client_id,
            subject=grant.user_id,
            ip=request.ip,
            grant_type="authorization_code",
            qrlogin=grant.qrlogin_id,
        )
        return minted.body

    async def accept(self, request: TokenRequest) -> Accepted:
        """Check the code against the client, its redirect URI (§4.1.3), its PKCE challenge
        and its user, using it up; the product hears that it was redeemed (its QR login
        ends, ``consumed``)."""
        grant = await self._take(request)
        code = request.form["code"]
        user = await self._user(request, code, grant)
        async with self._put_back_on_failure(code, grant):
            await self.redeemed(grant)
        return Accepted(grant, user, self._context(request, grant))

    async def _take(self, request: TokenRequest) -> AuthorizationCode:
        """The code's grant, checked against the request and used up."""
        code = request.form.get("code")
        if not code:
            raise OAuthError("invalid_request", "code is required")
        # Read, then taken: a take whose answer is lost can put back only what was read.
        grant = await self.codes.peek(code)
        if grant is None:
            await self._refuse_unknown(request, code)
        try:
            self._check(request, grant)
        except OAuthError:
            # A failed check uses the code up, as a guess must.
            await self.codes.take(code)
            raise
        async with self._put_back_on_failure(code, grant):
            # A take whose answer a restarting store lost may have removed the code: put back.
            taken = await self.codes.take(code)
        if taken is None:  # another exchange of it won the race
            await self._refuse_unknown(request, code)
        return grant

    async def _user(self, request: TokenRequest, code: str, grant: AuthorizationCode) -> User:
        """The code's user, who may still log in; the code, taken, goes back if the read
        fails, and stays used up if the user may not."""
        async with self._put_back_on_failure(code, grant):
            user = await self.users.get_user(request.pool.id, grant.user_id)
        if user is None or user.blocked:
            raise UserCannotLogIn(user)
        return user

    async def _released(
        self, request: TokenRequest, code: str, grant: AuthorizationCode
    ) -> Mapping[str, object]:
        if grant.claims is not None:
            return grant.claims
        return user_claims(await self._user(request, code, grant), grant.scope)

    def _context(self, request: TokenRequest, grant: AuthorizationCode) -> TokenContext:
        return TokenContext(
            issuer=request.issuer,
            client_id=request.client.client_id,
            scope=grant.scope,
            auth_time=grant.auth_time,
            now=int(self.clock()),
            amr=tuple(grant.amr),
            nonce=grant.nonce,
        )

    async def _refuse_unknown(self, request: TokenRequest, code: str) -> NoReturn:
        """Refuse a code that is unknown, expired or used; a used one's tokens are revoked."""
        await self._revoke_replayed(code)
        await emit(
            self.audit,
            "token.code_rejected",
            pool_id=request.pool.id,
            actor=request.client.client_id,
            ip=request.ip,
        )
        raise OAuthError("invalid_grant", "the code is invalid, expired or already used")

    @contextlib.asynccontextmanager
    async def _put_back_on_failure(
        self, code: str, grant: AuthorizationCode
    ) -> AsyncIterator[None]:
        """A store failing after the code was taken issued nothing: the code goes back, for
        one more code lifetime at most, so that the client's retry can use it. The store that
        failed is often the one the code lives in (Redis restarting), so the answer waits a
        few seconds for it to return before giving up."""
        try:
            yield
        except Exception:
            for pause in PUT_BACK_PAUSES:
                with contextlib.suppress(Exception):
                    # Never revive a code whose tokens a racing exchange issued.
                    if await self.codes.issued_for_used(code) is None:
                        await self.codes.put(code, grant, CODE_LIFETIME)
                    break
                await asyncio.sleep(pause)
            raise

    def _check(self, request: TokenRequest, grant: AuthorizationCode) -> None:
        pool, client, form = request.pool, request.client, request.form
        if grant.pool != pool.slug or grant.client_id != client.client_id:
            raise OAuthError("invalid_grant", "the code was issued to another client")
        if grant.redirect_uri is not None and form.get("redirect_uri") != grant.redirect_uri:
            raise OAuthError(
                "invalid_grant", "redirect_uri does not match the authorization request"
            )
        if grant.code_challenge is not None:
            verify(form.get("code_verifier"), grant.code_challenge)
        elif client.pkce_required:
            # Let off when the code was issued, required now: the administrator's latest word.
            raise OAuthError("invalid_grant", "the code was issued without a code_challenge")
        elif "code_verifier" in form:
            # Security BCP §4.8.2: a verifier for a code issued without a challenge is a
            # downgrade.
            raise OAuthError("invalid_grant", "the code was issued without a code_challenge")

    async def _revoke_replayed(self, code: str) -> None:
        issued = await self.codes.issued_for_used(code)
        if issued is None:
            return
        await revoke_family(self.refresh_tokens, self.revoked, self.clock, family_for_code(code))
        ttl = issued.expires_at - self.clock()
        for token_id in issued.access_token_ids:
            await self.revoked.revoke(token_id, ttl)
