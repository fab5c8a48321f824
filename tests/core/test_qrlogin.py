"""The QR login state machine (DESIGN.md, "States of a QR login").

The diagram is written out again below as ``EDGES``, independently of ``ALLOWED``, so that
the tests check the code against the design and not against itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import FrozenInstanceError, replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
)

from minilogin.core import qrlogin
from minilogin.core.errors import Conflict, Gone, MiniloginError
from minilogin.core.qrlogin import (
    ALLOWED,
    CODE_LIFETIME,
    TERMINAL,
    QRLogin,
    RequestContext,
    Scanner,
    Status,
)

P, S, NB, A, C, X, E = (
    Status.PENDING,
    Status.SCANNED,
    Status.NEEDS_BINDING,
    Status.AUTHORIZED,
    Status.CONSUMED,
    Status.CANCELLED,
    Status.EXPIRED,
)

#: The arrows of the diagram in DESIGN.md. ``authorized`` may only be consumed or run out
#: (its code lives 60 s); pending, scanned and needs_binding may be cancelled or expire.
EDGES: frozenset[tuple[Status, Status]] = frozenset(
    {
        (P, S),
        (S, A),
        (S, NB),
        (NB, A),
        (A, C),
        (P, X),
        (S, X),
        (NB, X),
        (P, E),
        (S, E),
        (NB, E),
        (A, E),
    }
)
DESIGN_TERMINAL = frozenset({C, X, E})

T0 = 1_700_000_000.0
QR_TTL = 120.0

PHONE = "+8613800138000"

ALICE = Scanner(app_id="wx-app", openid="o-alice", unionid="u-alice", nickname="Alice")
BOB = Scanner(app_id="wx-app", openid="o-bob", nickname="Bob")
#: Same openid string, but under another mini program: a different WeChat identity.
ALICE_ELSEWHERE = Scanner(app_id="wx-other", openid="o-alice")


def new_login(**changes: object) -> QRLogin:
    login = QRLogin(
        id="qrl_test",
        pool="demo",
        pool_id="pool-1",
        client_id="demo",
        connection="wechat-mp-qrcode",
        app_id="wx-app",
        scene="AbCdEfGh01234567",
        secret_hash="0" * 64,
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        created_at=T0,
        expires_at=T0 + QR_TTL,
        scope="openid profile phone",
        nonce="n-0S6_WzA2Mj",
        state="xyz",
        request=RequestContext(browser="Chrome 120", ip="203.0.113.7", location="上海"),
        updated_at=T0,
    )
    return replace(login, **changes)  # type: ignore[arg-type]


def needs_binding(login: QRLogin, now: float) -> QRLogin:
    return qrlogin.require_binding(login, now, PHONE, login_only=False)


def login_in(status: Status) -> QRLogin:
    """A login brought to ``status`` through the real transitions (at T0 + 10 s)."""
    now = T0 + 10
    pending = new_login()
    if status is P:
        return pending
    if status is X:
        return qrlogin.cancel(pending, now, "user_cancelled")
    if status is E:
        return pending.current(pending.expires_at)
    scanned = qrlogin.scan(pending, now, ALICE)
    if status is S:
        return scanned
    if status is NB:
        return needs_binding(scanned, now)
    authorized = qrlogin.authorize(scanned, now, "user-1", "code-1")
    if status is A:
        return authorized
    assert status is C
    return qrlogin.consume(authorized, now)


NOW = T0 + 20  # when the tests act on a login from ``login_in``; before every deadline

#: Each operation and the status it moves a login to.
OPERATIONS: dict[str, tuple[Status, Callable[[QRLogin, float], QRLogin]]] = {
    "scan": (S, lambda login, now: qrlogin.scan(login, now, BOB)),
    "authorize": (A, lambda login, now: qrlogin.authorize(login, now, "user-2", "code-2")),
    "require_binding": (NB, needs_binding),
    "consume": (C, qrlogin.consume),
    "cancel": (X, lambda login, now: qrlogin.cancel(login, now, "browser_cancelled")),
    "fail": (X, lambda login, now: qrlogin.fail(login, now, "account_not_found")),
}


# --- the table of edges ---------------------------------------------------------------


def test_allowed_is_exactly_the_diagram() -> None:
    assert set(ALLOWED) == set(Status)
    table = {(src, dst) for src, targets in ALLOWED.items() for dst in targets}
    assert table == EDGES


def test_terminal_states_are_those_of_the_diagram() -> None:
    assert TERMINAL == DESIGN_TERMINAL
    for status in Status:
        assert status.terminal is (status in DESIGN_TERMINAL)
        if status.terminal:
            assert ALLOWED[status] == frozenset()


def test_nothing_leads_back_to_pending() -> None:
    assert all(dst is not P for _, dst in EDGES)
    assert all(P not in targets for targets in ALLOWED.values())


@pytest.mark.parametrize("status", list(Status))
def test_login_in_builds_the_status(status: Status) -> None:
    assert login_in(status).status is status


# --- every (state, operation) pair: edges succeed, non-edges are refused ---------------

PAIRS = [(status, name) for status in Status for name in OPERATIONS]


@pytest.mark.parametrize(("status", "operation"), PAIRS, ids=[f"{s}-{o}" for s, o in PAIRS])
def test_operation_from_status(status: Status, operation: str) -> None:
    target, apply = OPERATIONS[operation]
    login = login_in(status)
    before = replace(login)

    if (status, target) in EDGES:
        after = apply(login, NOW)
        assert after.status is target
        assert after.updated_at == NOW
        assert login == before  # the input is never modified
        assert after.id == login.id
        assert after.created_at == login.created_at
        return

    with pytest.raises(MiniloginError) as raised:
        apply(login, NOW)
    error = raised.value
    if status is E:
        assert type(error) is Gone
        assert error.code == "qrlogin_expired"
    elif operation == "scan" and status in (S, NB, A):
        assert type(error) is Conflict
        assert error.code == "already_scanned"
    else:
        assert type(error) is Conflict
        assert error.code == f"qrlogin_{status.value}"
        assert error.params == {"status": status.value}
    assert login == before


@pytest.mark.parametrize("status", [P, S, NB, A])
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_every_operation_after_the_deadline_is_gone(status: Status, operation: str) -> None:
    """The stored status is not terminal, but the deadline has passed: expiry is lazy and
    every transition sees the login as expired."""
    _, apply = OPERATIONS[operation]
    login = login_in(status)
    before = replace(login)
    for late in (login.expires_at, login.expires_at + 0.001, login.expires_at + 3600):
        with pytest.raises(Gone) as raised:
            apply(login, late)
        assert raised.value.code == "qrlogin_expired"
    assert login == before


def test_a_rescan_of_an_expired_login_by_its_scanner_is_gone() -> None:
    scanned = login_in(S)
    with pytest.raises(Gone, match="qrlogin_expired"):
        qrlogin.scan(scanned, scanned.expires_at, ALICE)


def test_logins_are_frozen() -> None:
    login = new_login()
    with pytest.raises(FrozenInstanceError):
        login.status = S  # type: ignore[misc]


# --- expiry ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [P, S, NB, A])
def test_non_terminal_login_reads_as_expired_from_its_deadline(status: Status) -> None:
    login = login_in(status)
    assert login.current(login.expires_at - 0.001) is login

    expired = login.current(login.expires_at)
    assert expired.status is E
    assert expired.code is None
    assert expired.updated_at == login.expires_at
    # Nothing else about the login changes.
    assert replace(expired, status=login.status, code=login.code, updated_at=login.updated_at) == (
        login
    )
    # However late it is read, it reads the same.
    assert login.current(login.expires_at + 10_000) == expired
    assert login == login_in(status)


@pytest.mark.parametrize("status", [C, X, E])
def test_terminal_login_never_changes_with_time(status: Status) -> None:
    login = login_in(status)
    for later in (NOW, login.expires_at, login.expires_at + 1, T0 + 10**6):
        assert login.current(later) is login


def test_expired_keeps_the_error_it_had() -> None:
    login = replace(new_login(), error="something_earlier")
    assert login.current(login.expires_at).error == "something_earlier"


def test_expires_in_counts_down_whole_seconds_to_zero() -> None:
    login = new_login()
    assert login.expires_in(T0) == 120
    assert login.expires_in(T0 + 0.5) == 119
    assert login.expires_in(T0 + 119.999) == 0
    assert login.expires_in(login.expires_at) == 0
    assert login.expires_in(login.expires_at + 50) == 0


# --- scanning: the first scanner wins --------------------------------------------------


def test_scan_records_the_scanner() -> None:
    login = new_login()
    scanned = qrlogin.scan(login, T0 + 5, ALICE)
    assert scanned.status is S
    assert scanned.scanner == ALICE
    assert scanned.updated_at == T0 + 5
    assert scanned.expires_at == login.expires_at  # scanning does not extend the deadline
    assert scanned.code is None
    assert login.scanner is None
    assert login.status is P


@pytest.mark.parametrize("status", [S, NB])
def test_the_same_scanner_again_gets_the_same_login(status: Status) -> None:
    login = login_in(status)
    again = qrlogin.scan(login, NOW, ALICE)
    assert again == login
    # Even if WeChat now tells us a different nickname, the recorded scanner stays.
    renamed = replace(ALICE, nickname="Alice 2", avatar_url="https://example.com/a.png")
    assert qrlogin.scan(login, NOW, renamed) == login
    assert qrlogin.scan(login, NOW, renamed).scanner == ALICE


@pytest.mark.parametrize("status", [S, NB, A])
@pytest.mark.parametrize("other", [BOB, ALICE_ELSEWHERE], ids=["other-openid", "other-app"])
def test_a_different_scanner_gets_already_scanned(status: Status, other: Scanner) -> None:
    login = login_in(status)
    before = replace(login)
    with pytest.raises(Conflict) as raised:
        qrlogin.scan(login, NOW, other)
    assert raised.value.code == "already_scanned"
    assert login == before
    assert login.scanner == ALICE


def test_the_first_scanner_of_an_authorized_login_cannot_rescan_it() -> None:
    """Once authorized, the login has moved on: even its own scanner is refused (409)."""
    login = login_in(A)
    with pytest.raises(Conflict):
        qrlogin.scan(login, NOW, ALICE)


# --- authorize, consume, cancel, fail ---------------------------------------------------


@pytest.mark.parametrize("status", [S, NB])
def test_authorize_sets_user_code_and_a_60_second_deadline(status: Status) -> None:
    login = login_in(status)
    now = T0 + 30.25
    authorized = qrlogin.authorize(login, now, "user-7", "the-code")
    assert CODE_LIFETIME == 60
    assert authorized.status is A
    assert authorized.user_id == "user-7"
    assert authorized.code == "the-code"
    assert authorized.expires_at == now + 60
    assert authorized.updated_at == now
    assert authorized.scanner == ALICE
    assert login.code is None
    assert login.user_id is None


def test_the_code_deadline_is_60_seconds_from_authorization_even_past_the_qr_deadline() -> None:
    scanned = login_in(S)
    late = scanned.expires_at - 1  # authorized one second before the QR code would expire
    authorized = qrlogin.authorize(scanned, late, "user-1", "c")
    assert authorized.expires_at == late + 60
    assert authorized.current(scanned.expires_at + 10).status is A
    assert authorized.current(late + 59.999).code == "c"
    expired = authorized.current(late + 60)
    assert expired.status is E
    assert expired.code is None


def test_consume_clears_the_code_and_keeps_the_user() -> None:
    authorized = login_in(A)
    consumed = qrlogin.consume(authorized, NOW)
    assert consumed.status is C
    assert consumed.code is None
    assert consumed.user_id == authorized.user_id
    assert consumed.scanner == authorized.scanner
    assert authorized.code == "code-1"


def test_consume_within_the_code_lifetime_only() -> None:
    authorized = qrlogin.authorize(login_in(S), T0 + 50, "user-1", "c")
    assert qrlogin.consume(authorized, T0 + 50 + 59.9).status is C
    with pytest.raises(Gone, match="qrlogin_expired"):
        qrlogin.consume(authorized, T0 + 50 + 60)


def test_a_code_is_consumed_once() -> None:
    consumed = qrlogin.consume(login_in(A), NOW)
    with pytest.raises(Conflict) as raised:
        qrlogin.consume(consumed, NOW + 1)
    assert raised.value.code == "qrlogin_consumed"


@pytest.mark.parametrize("status", [P, S, NB])
@pytest.mark.parametrize("end", [qrlogin.cancel, qrlogin.fail], ids=["cancel", "fail"])
def test_cancel_and_fail_record_the_reason(
    status: Status, end: Callable[[QRLogin, float, str], QRLogin]
) -> None:
    login = login_in(status)
    ended = end(login, NOW, "phone_in_use")
    assert ended.status is X
    assert ended.error == "phone_in_use"
    assert ended.code is None
    assert ended.updated_at == NOW
    assert ended.scanner == login.scanner
    assert login.error is None


@pytest.mark.parametrize("login_only", [False, True])
def test_require_binding_keeps_phone_mode_and_scanner_and_sets_no_code(login_only: bool) -> None:
    scanned = login_in(S)
    needs = qrlogin.require_binding(scanned, NOW, "+8613900139000", login_only=login_only)
    assert needs.status is NB
    assert needs.phone == "+8613900139000"
    assert needs.login_only is login_only
    assert scanned.phone is None
    assert needs.scanner == ALICE
    assert needs.code is None
    assert needs.expires_at == scanned.expires_at


def test_refusals_name_the_status_they_met() -> None:
    with pytest.raises(Conflict) as raised:
        qrlogin.consume(login_in(P), NOW)
    assert raised.value.code == "qrlogin_pending"
    assert raised.value.params["status"] == "pending"
    with pytest.raises(Conflict) as raised:
        qrlogin.cancel(login_in(A), NOW, "too_late")
    assert raised.value.code == "qrlogin_authorized"


# --- property tests -------------------------------------------------------------------

SCANNERS = [ALICE, BOB, ALICE_ELSEWHERE, replace(ALICE, nickname="Alice (renamed)")]


def identity(scanner: Scanner) -> tuple[str, str]:
    return scanner.app_id, scanner.openid


class QRLoginMachine(RuleBasedStateMachine):
    """Random sequences of scans by a few people, confirmations, exchanges, cancellations
    and the passing of time, against a model of the diagram."""

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.login = new_login()
        self.codes = 0
        self.last_status = P
        self.first_scanner: Scanner | None = None
        self.terminal: QRLogin | None = None

    # The transition under test, with what the model says must happen.

    def apply(self, attempt: Callable[[QRLogin], QRLogin], allowed: bool) -> QRLogin | None:
        before = self.login
        snapshot = replace(before)
        seen = before.current(self.now)
        refusal: MiniloginError | None = None
        try:
            after = attempt(before)
        except (Gone, Conflict) as error:
            refusal = error
        assert before == snapshot  # refused or not, the input is unchanged
        if isinstance(refusal, Gone):
            assert seen.status is E, "Gone only for an expired login"
            assert refusal.code == "qrlogin_expired"
            assert not allowed
            return None
        if isinstance(refusal, Conflict):
            assert seen.status is not E, "an expired login answers Gone, not Conflict"
            assert refusal.code in ("already_scanned", f"qrlogin_{seen.status}")
            assert not allowed, f"refused {refusal.code} from {seen.status}"
            return None
        assert allowed, f"accepted from {seen.status}"
        assert after == seen or (seen.status, after.status) in EDGES
        self.login = after
        return after

    def seen(self) -> QRLogin:
        return self.login.current(self.now)

    @rule(scanner=st.sampled_from(SCANNERS))
    def scan(self, scanner: Scanner) -> None:
        seen = self.seen()
        rescan = (
            seen.status in (S, NB)
            and seen.scanner is not None
            and identity(seen.scanner) == identity(scanner)
        )
        allowed = seen.status is P or rescan
        after = self.apply(lambda login: qrlogin.scan(login, self.now, scanner), allowed)
        if after is not None:
            assert after.status is S if seen.status is P else after == seen
            assert after.scanner == (scanner if seen.status is P else seen.scanner)

    @rule(user=st.sampled_from(["user-1", "user-2"]))
    def authorize(self, user: str) -> None:
        self.codes += 1
        code = f"code-{self.codes}"
        allowed = self.seen().status in (S, NB)
        after = self.apply(lambda login: qrlogin.authorize(login, self.now, user, code), allowed)
        if after is not None:
            assert (after.status, after.user_id, after.code) == (A, user, code)
            assert after.expires_at == self.now + CODE_LIFETIME

    @rule(login_only=st.booleans())
    def require_binding(self, login_only: bool = False) -> None:
        allowed = self.seen().status is S
        after = self.apply(
            lambda login: qrlogin.require_binding(login, self.now, PHONE, login_only=login_only),
            allowed,
        )
        if after is not None:
            assert after.status is NB
            assert after.phone == PHONE
            assert after.login_only is login_only

    @rule()
    def consume(self) -> None:
        allowed = self.seen().status is A
        after = self.apply(lambda login: qrlogin.consume(login, self.now), allowed)
        if after is not None:
            assert after.status is C
            assert after.code is None
            assert after.user_id is not None

    @rule(reason=st.sampled_from(["user_cancelled", "browser_cancelled"]), by_fail=st.booleans())
    def cancel(self, reason: str, by_fail: bool) -> None:
        end = qrlogin.fail if by_fail else qrlogin.cancel
        allowed = self.seen().status in (P, S, NB)
        after = self.apply(lambda login: end(login, self.now, reason), allowed)
        if after is not None:
            assert after.status is X
            assert after.error == reason

    @rule(seconds=st.one_of(st.just(0.0), st.integers(1, 10).map(float), st.floats(0, 30)))
    def wait(self, seconds: float) -> None:
        self.now += seconds

    @precondition(lambda self: self.now < self.login.expires_at + 1)
    @rule(offset=st.sampled_from([-0.001, 0.0, 0.001]))
    def wait_until_the_deadline(self, offset: float) -> None:
        self.now = max(self.now, self.login.expires_at + offset)

    @rule(pick=st.integers(0, 1), scanner=st.sampled_from(SCANNERS))
    def go_forward(self, pick: int, scanner: Scanner) -> None:
        """The happy path, so that random runs get deep into the diagram more often."""
        status = self.seen().status
        if status is P:
            self.scan(scanner)
        elif status is S and pick == 0:
            self.require_binding()
        elif status in (S, NB):
            self.authorize("user-1")
        elif status is A and pick == 0:
            self.consume()
        elif status is A:
            self.now = self.login.expires_at  # the code runs out unused

    @precondition(lambda self: self.seen().status.terminal)
    @rule()
    def start_over(self) -> None:
        """A new QR login (the old one is over), so one run lives through several."""
        self.login = new_login(created_at=self.now, expires_at=self.now + QR_TTL)
        self.last_status = P
        self.first_scanner = None
        self.terminal = None

    # Invariants, checked after every step.

    @invariant()
    def status_only_follows_edges(self) -> None:
        status = self.seen().status
        assert status is self.last_status or (self.last_status, status) in EDGES
        self.last_status = status

    @invariant()
    def terminal_states_never_change(self) -> None:
        seen = self.seen()
        if self.terminal is not None:
            assert seen == self.terminal
        elif seen.status.terminal:
            self.terminal = seen

    @invariant()
    def code_is_set_iff_authorized(self) -> None:
        seen = self.seen()
        assert (seen.code is not None) is (seen.status is A)
        assert (self.login.code is not None) is (self.login.status is A)

    @invariant()
    def the_scanner_never_changes(self) -> None:
        seen = self.seen()
        if self.first_scanner is None:
            self.first_scanner = seen.scanner
        else:
            assert seen.scanner == self.first_scanner
        if seen.status in (S, NB, A, C):
            assert seen.scanner is not None
        if seen.status is P:
            assert seen.scanner is None

    @invariant()
    def past_the_deadline_nothing_is_alive(self) -> None:
        seen = self.seen()
        if self.now >= self.login.expires_at:
            assert seen.status.terminal
            if not self.login.status.terminal:
                assert seen.status is E
        if not seen.status.terminal:
            assert self.now < seen.expires_at

    @invariant()
    def a_user_once_authorized(self) -> None:
        seen = self.seen()
        if seen.status in (A, C):
            assert seen.user_id is not None
        assert seen.updated_at <= max(self.now, seen.expires_at)


QRLoginMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestQRLoginMachine = QRLoginMachine.TestCase


_STEPS = st.sampled_from(["scan", "authorize", "require_binding", "consume", "cancel"])


@st.composite
def reachable_logins(draw: st.DrawFn) -> tuple[QRLogin, float]:
    """A login after a random history of attempted operations (refusals are skipped)."""
    login = new_login()
    now = T0
    for step in draw(st.lists(st.tuples(_STEPS, st.floats(0, 70)), max_size=8)):
        name, seconds = step
        now += seconds
        try:
            if name == "scan":
                login = qrlogin.scan(login, now, draw(st.sampled_from(SCANNERS)))
            elif name == "authorize":
                login = qrlogin.authorize(login, now, "user-1", "code")
            elif name == "require_binding":
                login = needs_binding(login, now)
            elif name == "consume":
                login = qrlogin.consume(login, now)
            else:
                login = qrlogin.cancel(login, now, "user_cancelled")
        except (Conflict, Gone):
            pass
    return login, now


@given(reachable_logins(), st.floats(0, 10_000))
def test_after_the_deadline_every_non_terminal_login_reads_as_expired(
    reached: tuple[QRLogin, float], extra: float
) -> None:
    login, _ = reached
    later = login.current(login.expires_at + extra)
    if login.status.terminal:
        assert later is login
    else:
        assert later.status is E
        assert later.code is None
        assert later.updated_at == login.expires_at
        assert later.scanner == login.scanner


@given(reachable_logins(), st.sampled_from(list(OPERATIONS)))
def test_a_refused_transition_changes_nothing(
    reached: tuple[QRLogin, float], operation: str
) -> None:
    login, now = reached
    target, apply = OPERATIONS[operation]
    snapshot = replace(login)
    seen = login.current(now)
    try:
        after = apply(login, now)
    except (Conflict, Gone):
        assert login == snapshot
        assert (seen.status, target) not in EDGES
    else:
        assert login == snapshot
        # A rescan by the recorded scanner is the one success that moves nothing.
        assert (seen.status, after.status) in EDGES or (operation == "scan" and after == seen)
