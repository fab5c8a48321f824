"""The account decision on its own: the cases where the rules meet."""

from __future__ import annotations

from minilogin.core.association import Outcome, decide
from minilogin.core.entities import Association, LoginMode, User

REGISTER, ONLY = LoginMode.LOGIN_AND_REGISTER, LoginMode.LOGIN_ONLY


def user(**fields: object) -> User:
    return User(pool_id="p", id="u1", **fields)  # type: ignore[arg-type]


def test_a_linked_identity_logs_in_whatever_the_rules() -> None:
    linked = user(phone="+8613800138000")
    for association in Association:
        for mode in LoginMode:
            decision = decide(
                login_mode=mode, association=association, linked=linked, phone_owner=None
            )
            assert (decision.outcome, decision.user) == (Outcome.LOGIN, linked)


def test_a_blocked_account_is_never_logged_in() -> None:
    blocked = user(blocked=True, phone_verified=True)
    assert (
        decide(
            login_mode=REGISTER, association=Association.OFF, linked=blocked, phone_owner=None
        ).error
        == "account_blocked"
    )
    assert (
        decide(
            login_mode=REGISTER,
            association=Association.FIELD_MATCH,
            linked=None,
            phone_owner=blocked,
        ).error
        == "account_blocked"
    )


def test_field_match_hands_over_only_a_verified_number() -> None:
    verified = user(phone_verified=True)
    unverified = user(phone_verified=False)
    link = decide(
        login_mode=ONLY, association=Association.FIELD_MATCH, linked=None, phone_owner=verified
    )
    assert (link.outcome, link.user) == (Outcome.LINK, verified)
    take = decide(
        login_mode=REGISTER,
        association=Association.FIELD_MATCH,
        linked=None,
        phone_owner=unverified,
    )
    assert (take.outcome, take.user, take.unverified_holder) == (Outcome.CREATE, None, unverified)
    refuse = decide(
        login_mode=ONLY, association=Association.FIELD_MATCH, linked=None, phone_owner=unverified
    )
    assert (refuse.outcome, refuse.error) == (Outcome.REFUSE, "account_not_found")


def test_association_off_never_touches_an_existing_account() -> None:
    for owner in (user(phone_verified=True), user(phone_verified=False)):
        decision = decide(
            login_mode=REGISTER, association=Association.OFF, linked=None, phone_owner=owner
        )
        assert (decision.outcome, decision.error) == (Outcome.REFUSE, "phone_in_use")
    fresh = decide(login_mode=REGISTER, association=Association.OFF, linked=None, phone_owner=None)
    assert fresh.outcome is Outcome.CREATE


def test_ask_binding_asks_unless_already_linked() -> None:
    for mode in LoginMode:
        for owner in (None, user(phone_verified=True)):
            decision = decide(
                login_mode=mode, association=Association.ASK_BINDING, linked=None, phone_owner=owner
            )
            assert decision.outcome is Outcome.ASK_BINDING
