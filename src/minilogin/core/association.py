"""How a confirmed scan finds its account: the identity source's login mode and account
identity association rules, as one pure decision.

The caller looks up the two candidates (the user already linked to this WeChat identity, and
the user holding the verified phone number) and acts on the decision it gets back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from minilogin.core.entities import Association, LoginMode, User


class Outcome(StrEnum):
    LOGIN = "login"  # the linked user logs in
    LINK = "link"  # link the identity to the matched user, then log in
    CREATE = "create"  # create a user with the verified phone and link the identity
    ASK_BINDING = "ask_binding"  # the PC binds an existing account or creates one
    REFUSE = "refuse"  # nothing is created or linked; ``error`` says why


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    user: User | None = None
    error: str | None = None
    #: With ``CREATE``: the account that holds the phone number without ever having verified
    #: it. The person WeChat verified the number for takes it over.
    unverified_holder: User | None = None


def decide(
    *,
    login_mode: LoginMode,
    association: Association,
    linked: User | None,
    phone_owner: User | None,
) -> Decision:
    """Decide who logs in for a WeChat identity that just confirmed with a verified phone."""
    if linked is not None:
        if linked.blocked:
            return Decision(Outcome.REFUSE, error="account_blocked")
        return Decision(Outcome.LOGIN, user=linked)
    login_only = login_mode is LoginMode.LOGIN_ONLY
    if association is Association.ASK_BINDING:
        return Decision(Outcome.ASK_BINDING)
    # A phone number nobody verified is never handed over: whoever pre-registered a stranger's
    # number would otherwise take over that stranger's login.
    match = phone_owner if phone_owner is not None and phone_owner.phone_verified else None
    if association is Association.FIELD_MATCH and match is not None:
        if match.blocked:
            return Decision(Outcome.REFUSE, error="account_blocked")
        return Decision(Outcome.LINK, user=match)
    if login_only:
        return Decision(Outcome.REFUSE, error="account_not_found")
    if phone_owner is None:
        return Decision(Outcome.CREATE)
    if association is Association.FIELD_MATCH and not phone_owner.phone_verified:
        return Decision(Outcome.CREATE, unverified_holder=phone_owner)
    return Decision(Outcome.REFUSE, error="phone_in_use")
