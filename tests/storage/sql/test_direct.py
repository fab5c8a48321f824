"""Statements run straight on the sqlite3 driver (``storage/sql/direct.py``): a statement run
again runs directly, with the rows, values and types SQLAlchemy's execution gives, the errors
it raises (a broken constraint, a bad parameter, a lock held elsewhere, a connection gone),
and a transaction rolled back as before; what SQLAlchemy must run still runs there. The
stores' own statements give the same entities either way."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError

from minilogin.core.entities import CodeImage, Pool, RefreshToken, User, WeChatIdentity
from minilogin.storage.crypto import SecretBox
from minilogin.storage.errors import is_unavailable
from minilogin.storage.sql import SqlStores, make_engine, upgrade_async
from minilogin.storage.sql import direct as direct_module
from minilogin.storage.sql.engine import SqliteFile, sqlite_file_engines
from minilogin.storage.sql.models import UtcDateTime

_things = Table(
    "things",
    MetaData(),
    Column("id", String, primary_key=True),
    Column("at", UtcDateTime),
    Column("tags", JSON),
    Column("flag", Boolean),
    Column("data", LargeBinary),
    Column("n", Integer),
)
_INSERT = insert(_things)
_BY_ID = select(_things).where(_things.c.id == bindparam("id"))
_COUNTED = (
    update(_things)
    .where(_things.c.id == bindparam("which"))
    .values(n=_things.c.n + 1)
    .returning(_things.c.id, _things.c.n, _things.c.at)
)
T0 = datetime(2026, 12, 8, 1, 2, 3, 456789, tzinfo=UTC)


def _thing(id_: str, **fields: Any) -> dict[str, Any]:
    return {"id": id_, "at": T0, "tags": ["a", "b"], "flag": True, "data": b"\x00\xff", "n": 1} | (
        fields
    )


@pytest.fixture
async def file(tmp_path: Path) -> AsyncIterator[tuple[Path, SqliteFile]]:
    path = tmp_path / "direct.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    engines = sqlite_file_engines(engine, 1, wait=False)
    assert engines is not None
    _things.metadata.create_all(engines.writes)
    try:
        yield path, engines
    finally:
        engines.dispose()
        await engine.dispose()


@pytest.fixture
def direct_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL of each statement run directly, in order."""
    runs: list[str] = []
    for method in ("run", "run_many"):
        real = getattr(direct_module._Plan, method)

        def run(plan: direct_module._Plan, *args: Any, real: Any = real) -> Any:
            runs.append(plan.sql)
            return real(plan, *args)

        monkeypatch.setattr(direct_module._Plan, method, run)
    return runs


def _write(engines: SqliteFile, statement: Any, parameters: Any) -> list[Any]:
    with engines.writes.connect() as connection, connection.begin():
        result = connection.execute(statement, parameters)
        return list(result) if result.returns_rows else []


def _sql(engines: SqliteFile, statement: Any) -> str:
    return str(statement.compile(dialect=engines.reads.dialect))


def _in_transaction(connection: Any, work: Any) -> None:
    with connection.begin():
        work(connection)


def _read(engines: SqliteFile, statement: Any, parameters: Any) -> list[Any]:
    with engines.reads.connect() as connection, connection.begin():
        return list(connection.execute(statement, parameters))


async def test_a_statement_run_again_runs_directly_with_sqlalchemys_rows(
    file: tuple[Path, SqliteFile], direct_runs: list[str]
) -> None:
    _, engines = file
    _write(engines, _INSERT, _thing("one"))
    # One parameter set in a list is that set alone: the same statement, run directly.
    _write(engines, _INSERT, [_thing("two", at=None, tags=[], flag=False, data=None, n=7)])
    assert len(direct_runs) == 1
    by_sqlalchemy = _read(engines, _BY_ID, {"id": "two"})
    directly = [_read(engines, _BY_ID, {"id": id_}) for id_ in ("two", "one", "none")]
    assert len(direct_runs) == 4
    assert directly[0] == by_sqlalchemy
    [two] = directly[0]
    assert (two.at, two.tags, two.flag, two.data, two.n) == (None, [], False, None, 7)
    [one] = directly[1]
    assert one._mapping == {
        "id": "one",
        "at": T0,
        "tags": ["a", "b"],
        "flag": True,
        "data": b"\x00\xff",
        "n": 1,
    }
    # The values' types as SQLAlchemy's processors give them: an aware datetime, a bool.
    assert one.at.tzinfo is UTC
    assert type(one.flag) is bool
    assert directly[2] == []


async def test_an_update_returning_runs_directly_in_its_transaction(
    file: tuple[Path, SqliteFile], direct_runs: list[str]
) -> None:
    _, engines = file
    _write(engines, _INSERT, _thing("one"))
    counted = [_write(engines, _COUNTED, {"which": "one"}) for _ in range(3)]
    assert [rows[0].n for rows in counted] == [2, 3, 4]
    assert counted[2][0]._mapping == {"id": "one", "n": 4, "at": T0}
    assert direct_runs[-2:] == [direct_runs[-1]] * 2

    def fails_after_its_update(connection: Any) -> None:
        connection.execute(_COUNTED, {"which": "one"})
        raise RuntimeError("the work failed after its update")

    with engines.writes.connect() as connection, pytest.raises(RuntimeError):
        _in_transaction(connection, fails_after_its_update)
    # Rolled back with its transaction.
    assert _read(engines, _BY_ID, {"id": "one"})[0].n == 4


async def test_a_broken_constraint_is_sqlalchemys_integrity_error_and_leaves_nothing(
    file: tuple[Path, SqliteFile], direct_runs: list[str]
) -> None:
    _, engines = file
    _write(engines, _INSERT, _thing("one"))
    _write(engines, _INSERT, _thing("two"))

    def three_then_one_again(connection: Any) -> None:
        connection.execute(_INSERT, _thing("three"))
        connection.execute(_INSERT, _thing("one"))

    with engines.writes.connect() as connection, pytest.raises(IntegrityError) as broken:
        _in_transaction(connection, three_then_one_again)
    assert isinstance(broken.value.orig, sqlite3.IntegrityError)
    assert "INSERT INTO things" in str(broken.value)
    assert len(direct_runs) == 3
    assert _read(engines, _BY_ID, {"id": "three"}) == []
    # The connection goes on.
    _write(engines, _INSERT, _thing("three"))
    assert len(_read(engines, _BY_ID, {"id": "three"})) == 1


async def test_a_bad_parameter_is_raised_as_sqlalchemy_raises_it(
    file: tuple[Path, SqliteFile], direct_runs: list[str]
) -> None:
    _, engines = file
    naive = _thing("naive", at=datetime(2026, 12, 8))
    raised = []
    for _ in range(2):
        with pytest.raises(StatementError) as refused:
            _write(engines, _INSERT, naive)
        raised.append(refused.value)
    # The first run SQLAlchemy's, the second direct: the same error, from the same cause.
    assert len(direct_runs) == 1
    assert [type(error) for error in raised] == [StatementError] * 2
    assert [type(error.orig) for error in raised] == [ValueError] * 2
    assert _read(engines, select(func.count()).select_from(_things), {}) == [(0,)]


async def test_the_drivers_operational_error_is_sqlalchemys_and_an_outage(
    file: tuple[Path, SqliteFile], direct_runs: list[str]
) -> None:
    path, engines = file
    _write(engines, _INSERT, _thing("one"))
    assert len(_read(engines, _BY_ID, {"id": "one"})) == 1
    with sqlite3.connect(path, isolation_level=None) as other:
        other.execute("ALTER TABLE things RENAME TO gone")
    with pytest.raises(OperationalError, match="no such table") as refused:
        _read(engines, _BY_ID, {"id": "one"})
    assert len(direct_runs) == 1
    # The class the outage answer (503 with Retry-After) is given for, the driver's error
    # and its code kept, as SQLAlchemy's execution raises them.
    assert is_unavailable(refused.value)
    assert isinstance(refused.value.orig, sqlite3.OperationalError)
    assert refused.value.orig.sqlite_errorcode == sqlite3.SQLITE_ERROR
    assert "SELECT things.id" in str(refused.value)


async def test_a_connection_invalidated_meanwhile_reconnects_as_before(
    file: tuple[Path, SqliteFile], direct_runs: list[str]
) -> None:
    _, engines = file
    _write(engines, _INSERT, _thing("one"))
    with engines.reads.connect() as connection:
        for _ in range(2):
            with connection.begin():
                assert len(list(connection.execute(_BY_ID, {"id": "one"}))) == 1
        assert len(direct_runs) == 1
        driver = connection.connection.dbapi_connection
        connection.invalidate()
        with connection.begin():
            # SQLAlchemy reconnected as the transaction began; the statement runs directly
            # on the new connection.
            assert connection.connection.dbapi_connection is not driver
            assert len(list(connection.execute(_BY_ID, {"id": "one"}))) == 1
    assert len(direct_runs) == 2


async def test_an_expanding_in_and_several_parameter_sets_run_directly(
    file: tuple[Path, SqliteFile], direct_runs: list[str]
) -> None:
    _, engines = file
    ids = select(_things.c.id).where(_things.c.id.in_(bindparam("ids", expanding=True)))
    _write(engines, _INSERT, [_thing("one"), _thing("two")])
    _write(engines, _INSERT, [_thing("three"), _thing("four", at=None), _thing("five")])
    assert direct_runs == [_sql(engines, _INSERT)]
    found = [
        sorted(row.id for row in _read(engines, ids, {"ids": wanted}))
        for wanted in (["one"], ["one", "four", "none"], ["two", "five"], [])
    ]
    assert found == [["one"], ["four", "one"], ["five", "two"], []]
    assert len(direct_runs) == 4
    # Its statement as SQLAlchemy compiled it: the expansion is SQLAlchemy's, for each run.
    assert direct_runs[1:] == [_sql(engines, ids)] * 3
    assert _read(engines, _BY_ID, {"id": "four"})[0].at is None

    def again_with_a_duplicate(connection: Any) -> None:
        connection.execute(_INSERT, [_thing("six"), _thing("one")])

    with engines.writes.connect() as connection, pytest.raises(IntegrityError) as broken:
        _in_transaction(connection, again_with_a_duplicate)
    assert isinstance(broken.value.orig, sqlite3.IntegrityError)
    assert len(direct_runs) == 5
    assert _read(engines, ids, {"ids": ["six"]}) == []


async def test_what_sqlalchemy_must_run_still_runs_there(
    file: tuple[Path, SqliteFile], direct_runs: list[str]
) -> None:
    _, engines = file
    returning = insert(_things).returning(_things.c.id)
    count = select(func.count()).select_from(_things)
    for n in range(2):
        _write(engines, _INSERT, _thing(f"one-{n}"))
        direct_runs.clear()
        # A statement built for one run.
        assert _read(engines, select(_things.c.n).where(_things.c.id == "one-0"), {}) == [(1,)]
        # Columns of the result that are no table's own.
        assert _read(engines, count, {}) == [(3 * n + 1,)]
        with engines.reads.connect() as connection, connection.begin():
            options = connection.execute(_BY_ID, {"id": "one-0"}, execution_options={"a": 1})
            assert [row.id for row in options] == ["one-0"]
        # Several parameter sets with a RETURNING (SQLAlchemy batches them), or whose names
        # differ.
        assert sorted(
            row.id for row in _write(engines, returning, [_thing(f"a{n}"), _thing(f"b{n}")])
        ) == [f"a{n}", f"b{n}"]
        with pytest.raises(StatementError, match="A value is required for bind parameter"):
            _write(engines, _INSERT, [_thing(f"c{n}"), {"id": f"d{n}", "n": 5}])
        assert direct_runs == []


async def test_the_stores_statements_give_the_same_entities_directly(
    tmp_path: Path, direct_runs: list[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'stores.db'}"
    await upgrade_async(url)
    stores = await SqlStores.open(url, SecretBox("k" * 32))
    try:
        pool = await stores.pools.create_pool(Pool(slug="demo", name="Demo"))
        user = await stores.users.create_user(
            User(pool_id=pool.id, nickname="阿明"),
            WeChatIdentity(pool_id=pool.id, user_id="", app_id="wx1", openid="o1"),
        )
        image = CodeImage("image/jpeg", b"\xff\xd8 jpeg")
        until = T0 + timedelta(hours=1)
        logins, users, images, tokens = [], [], [], []
        for n in range(3):
            logins.append(
                await stores.users.record_login_by_identity(
                    pool.id, "wx1", "o1", T0 + timedelta(minutes=n), {}
                )
            )
            users.append(await stores.users.get_user(pool.id, user.id))
            await stores.code_images.put_code_image("wx1", f"s{n}", image, until)
            images.append(await stores.code_images.get_code_image("wx1", f"s{n}"))
            added = await stores.refresh_tokens.add_refresh_token(_a_token(pool.id, user.id, n))
            tokens.append((added, await stores.refresh_tokens.find_refresh_token(f"hash-{n}")))
        assert direct_runs, "the stores' statements ran directly"
        assert [login.login_count for login in logins if login] == [1, 2, 3]
        assert [login.last_login_at for login in logins if login] == [
            T0 + timedelta(minutes=n) for n in range(3)
        ]
        assert users == logins
        assert images == [image] * 3
        for added, found in tokens:
            assert found == added
        assert tokens[2][1] is not None
        assert tokens[2][1].amr == ["wechat"]
    finally:
        await stores.close()


def _a_token(pool_id: str, user_id: str, n: int) -> RefreshToken:
    return RefreshToken(
        pool_id=pool_id,
        client_id="client",
        user_id=user_id,
        family_id=f"family-{n}",
        token_hash=f"hash-{n}",
        scope="openid",
        auth_time=1_700_000_000 + n,
        amr=["wechat"],
        expires_at=T0 + timedelta(days=30),
        created_at=T0,
    )
