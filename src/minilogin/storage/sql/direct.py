"""The stores' hot statements on a SQLite file run straight on the sqlite3 driver, with what
SQLAlchemy would have done around them kept.

SQLAlchemy's execution of a Core statement (options merged, its compiled form looked up,
an execution context built, the parameters processed, a cursor result set up) is a few
hundred Python steps: in a server's profile of logins it held 13 % of the CPU where the
driver's own ``execute`` held 1 % (BENCHMARKS.md, "Issue 17, third pass"). A statement object
the stores run again and again (they build theirs once, at import) is compiled here once, by
SQLAlchemy, for the names of the parameters it is given; each run after that processes the
parameters with the compiled form's own types (an expanding ``IN`` parameter expanded by
SQLAlchemy's ``construct_expanded_state``), runs its SQL on the driver's cursor (several
parameter sets through its ``executemany``, as SQLAlchemy does), and answers SQLAlchemy's
``Row`` objects in a ``Result``, each value through its column type's result processor, as
SQLAlchemy's execution does. What the driver raises is raised as SQLAlchemy raises it
(``Connection._handle_dbapi_exception``: wrapped in its ``IntegrityError``,
``OperationalError``…, the connection invalidated when the driver says it is gone), so the
stores' conflict handling and the outage answers (``storage/errors.py``) see the same errors.

Everything else runs through SQLAlchemy's execution as before: a statement's first run, a
statement object built for one call, execution options, literal parameters, Python-side
column defaults, several parameter sets with a ``RETURNING`` or with names that differ,
columns of a result that are not a table's own, events listened to, a connection outside an
active transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Column, Connection, CursorResult, Delete, Engine, Insert, Select, Update
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.cursor import _NO_RESULT_METADATA
from sqlalchemy.engine.result import IteratorResult, SimpleResultMetaData
from sqlalchemy.sql.compiler import SQLCompiler

#: Statement objects remembered at most, with their compiled forms: the stores' own are a few
#: dozen; past this the memory starts again (statements built for one call fill it).
REMEMBERED = 512

#: A statement's id, its parameters' names, and whether it is given several sets of them.
_Key = tuple[int, tuple[str, ...], bool]
_Processors = Mapping[str, Callable[[Any], Any]]


class DirectConnection(Connection):
    """A SQLAlchemy ``Connection`` that runs the statements it has run before on the driver
    directly. The engine's connections are of this class once ``use_direct`` has set it."""

    def execute(
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Any = None,
    ) -> CursorResult[Any]:
        if execution_options is None:
            kind = type(parameters)
            if kind is list and len(parameters) == 1:
                # One parameter set in a list runs as that set alone, as SQLAlchemy runs it.
                [parameters] = parameters
                kind = type(parameters)
            if kind is dict:
                plan = _plan(self, statement, parameters, False)
                if plan is not None:
                    return plan.run(self, parameters)
            elif kind is list and parameters and type(parameters[0]) is dict:
                plan = _plan(self, statement, parameters[0], True)
                if plan is not None and plan.takes(parameters):
                    return plan.run_many(self, parameters)
        return super().execute(statement, parameters, execution_options=execution_options)


def use_direct(engine: Engine) -> None:
    """Give ``engine`` (a synchronous one on a SQLite file) connections of ``DirectConnection``,
    with a memory of statements of its own."""

    class Direct(DirectConnection):
        _plans = _Plans(engine.dialect)

    engine._connection_cls = Direct


class _Plans:
    """The statements one engine has run, each with its compiled form once it runs again."""

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        # A statement is kept here while remembered, so its id names no other object.
        self.seen: dict[_Key, tuple[Any, _Plan | None]] = {}


class _Result(IteratorResult[Any]):
    """The rows of a statement run directly, with what a cursor result tells beside them: the
    driver's row count and whether it returns rows at all (a result without raises as
    SQLAlchemy's does when asked for rows)."""

    rowcount: int
    returns_rows: bool


class _Plan:
    """A statement compiled for a set of parameter names, run on the driver."""

    def __init__(
        self, compiled: SQLCompiler, processors: _Processors, metadata: SimpleResultMetaData | None
    ) -> None:
        self.sql = compiled.string
        self.names = tuple(compiled.positiontup or ())
        self.construct = compiled.construct_params
        # Expanding parameters: the statement and its parameters' names depend on the values.
        self.expand = compiled.construct_expanded_state if compiled.post_compile_params else None
        self.processors = processors
        self.metadata = metadata

    def takes(self, many: list[Any]) -> bool:
        """Whether each of ``many`` parameter sets has the names of the first, in its order."""
        names = tuple(many[0])
        return all(type(each) is dict and tuple(each) == names for each in many)

    def run(self, connection: Connection, parameters: dict[str, Any]) -> CursorResult[Any]:
        # What SQLAlchemy's errors show: the parameters given until they are processed.
        sql, values, cursor = self.sql, cast(Sequence[Any], [parameters]), None
        try:
            if self.expand is None:
                values = self._values(self.construct(parameters, escape_names=False))
            else:
                state = self.expand(parameters, escape_names=False)
                sql = state.statement
                values = _processed(
                    state.parameters, state.positiontup or (), self.processors, state.processors
                )
            cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            cursor.execute(sql, values)
            rows = list(cursor.fetchall()) if self.metadata is not None else []
            count = cursor.rowcount
            cursor.close()
        except BaseException as error:
            connection._handle_dbapi_exception(error, sql, values, cursor, None)
        return self._result(rows, count)

    def run_many(self, connection: Connection, many: list[dict[str, Any]]) -> CursorResult[Any]:
        values: Sequence[Any] = many
        cursor = None
        try:
            values = [self._values(self.construct(each, escape_names=False)) for each in many]
            cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            cursor.executemany(self.sql, values)
            count = cursor.rowcount
            cursor.close()
        except BaseException as error:
            connection._handle_dbapi_exception(error, self.sql, values, cursor, None)
        return self._result([], count)

    def _values(self, bound: Mapping[str, Any]) -> list[Any]:
        processors = self.processors
        return [
            processors[name](bound[name]) if name in processors else bound[name]
            for name in self.names
        ]

    def _result(self, rows: list[Any], count: int) -> CursorResult[Any]:
        result = _Result(self.metadata or _NO_RESULT_METADATA, iter(rows))
        result.rowcount = count
        result.returns_rows = self.metadata is not None
        return cast(CursorResult[Any], result)


def _processed(
    bound: Mapping[str, Any], names: Sequence[str], *processors: _Processors
) -> list[Any]:
    values = []
    for name in names:
        value = bound[name]
        for each in processors:
            if name in each:
                value = each[name](value)
                break
        values.append(value)
    return values


def _plan(
    connection: DirectConnection, statement: Any, parameters: dict[str, Any], many: bool
) -> _Plan | None:
    """The compiled form to run ``statement`` directly with these parameters' names, or None
    where SQLAlchemy must run it."""
    if (
        connection._has_events
        or connection.engine._has_events
        or connection.dialect._has_events
        or connection.in_nested_transaction()
    ):
        return None
    transaction = connection.get_transaction()
    if transaction is None or not transaction.is_active or connection.invalidated:
        return None
    plans: _Plans = connection._plans  # type: ignore[attr-defined]
    key = (id(statement), tuple(parameters), many)
    seen = plans.seen.get(key)
    if seen is None or seen[0] is not statement:
        if len(plans.seen) >= REMEMBERED:
            plans.seen.clear()
        # Its first run: SQLAlchemy's, and remembered for the next.
        plans.seen[key] = (statement, None)
        return None
    plan = seen[1]
    if plan is None:
        plan = _compile(statement, plans.dialect, parameters, many) or _SQLALCHEMY
        plans.seen[key] = (statement, plan)
    return None if plan is _SQLALCHEMY else plan


def _compile(
    statement: Any, dialect: Dialect, parameters: dict[str, Any], many: bool
) -> _Plan | None:
    """``statement``'s plan, or None when it is one SQLAlchemy must run."""
    if not isinstance(statement, Select | Insert | Update | Delete):
        return None
    # The parameters' names sorted, as SQLAlchemy compiles for them.
    compiled = statement.compile(
        dialect=dialect, column_keys=sorted(parameters), for_executemany=many
    )
    if (
        not isinstance(compiled, SQLCompiler)
        or not compiled.positional
        or compiled.literal_execute_params
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.escaped_bind_names
        or compiled.implicit_returning
    ):
        return None
    processors = {}
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            processors[name] = process
    if isinstance(statement, Select):
        columns: Sequence[Any] = list(statement.selected_columns)
    else:
        columns = list(compiled.effective_returning or ())
        if not columns:
            # Several parameter sets go to the driver's executemany as SQLAlchemy sends them,
            # unless it batches them into one INSERT of many VALUES.
            if many and (compiled.post_compile_params or compiled.insert_single_values_expr):
                return None
            return _Plan(compiled, processors, None)
    if many or not all(
        isinstance(column, Column) and column.table is not None and column.key == column.name
        for column in columns
    ):
        return None
    keys = [column.key for column in columns]
    if len(set(keys)) != len(keys):
        # SQLAlchemy would tell the columns apart by labels of its own.
        return None
    metadata = SimpleResultMetaData(
        keys,
        _processors=[
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ],
    )
    return _Plan(compiled, processors, metadata)


#: Remembered for a statement SQLAlchemy must run.
_SQLALCHEMY = cast(_Plan, object())
