"""SQLAlchemy statements compiled once for SQLite, run on the driver's cursor.

Through SQLAlchemy each ``conn.execute`` of a short statement cost 40-60 µs of Python
(the statement cache, the events, the result objects) on top of SQLite's own work; a
send runs several, between an ack and the Octopush call. A :class:`DriverStatement`
is compiled once, with each column type's conversions, and binds and reads values as
SQLAlchemy would. It runs either on a connection of its own (:mod:`bot.audit.
driver_writes`) or, with :func:`on_driver`, on the driver cursor of a SQLAlchemy
connection, inside the transaction that connection opened (its ``BEGIN``, its
``COMMIT`` or ``ROLLBACK``, its write turn: all as before).

Kept apart from :mod:`bot.audit.driver_writes` (which needs the store) so that the
store itself can run its statements here.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ReturnsRows

from bot.audit.engine import NUL_STORED

#: A bound value the caller gives at each execution (not one fixed in the statement).
_GIVEN = object()


class DriverStatement:
    """A SQLAlchemy statement compiled once to SQLite's SQL, with its types' conversions.

    Run on a driver cursor, it binds values and reads rows as SQLAlchemy would (a time
    is stored as the same text and read back as the same aware datetime; a NUL in a
    text is stored as :data:`~bot.audit.engine.NUL_STORED`, as the engine's hook does),
    without SQLAlchemy's work at each execution (the statement cache, the result
    objects). ``column_keys``: the columns an ``INSERT`` or ``UPDATE`` given its values
    at execution sets, as SQLAlchemy compiles it for the keys of those values.
    """

    def __init__(
        self,
        statement: sa.ClauseElement,
        dialect: Dialect,
        *,
        column_keys: Sequence[str] | None = None,
    ) -> None:
        compiled = statement.compile(
            dialect=dialect,
            column_keys=list(column_keys) if column_keys is not None else None,
        )
        assert isinstance(compiled, SQLCompiler) and compiled.positiontup is not None
        # Values written into the SQL at each execution (an expanding IN) are not
        # SQLAlchemy's to write here: such a statement stays on SQLAlchemy.
        assert not compiled.post_compile_params, "not for values expanded at each run"
        #: The SQL, with ``?`` for each bound value.
        self.sql = compiled.string
        #: The dialect (the engine's) it was compiled for.
        self.dialect = dialect
        self._binds: list[tuple[str, Any, Callable[[Any], Any] | None]] = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            fixed = _GIVEN if bind.required else bind.effective_value
            if fixed is not _GIVEN and process is not None:
                fixed = process(fixed)
                process = None
            self._binds.append((name, fixed, process))
        returned = (
            statement.exported_columns if isinstance(statement, ReturnsRows) else ()
        )
        #: The names of the columns returned, as SQLAlchemy's mappings key them.
        self.keys = tuple(column.key for column in returned)
        self._reads = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in returned
        ]

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """The bound values in the SQL's order, converted as SQLAlchemy binds them."""
        bound: list[Any] = []
        for name, fixed, process in self._binds:
            value = values[name] if fixed is _GIVEN else fixed
            if process is not None:
                value = process(value)
            # The engine's rule for every text bound (``_store_no_nul``), checked
            # here in the one pass over the values.
            if isinstance(value, str) and "\x00" in value:
                value = value.replace("\x00", NUL_STORED)
            bound.append(value)
        return tuple(bound)

    def rows(
        self, cursor: sqlite3.Cursor, values: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """Execute once with ``values``; the rows it returns, converted."""
        found = cursor.execute(self.sql, self.parameters(values)).fetchall()
        return [self.row(each) for each in found]

    def execute(self, cursor: sqlite3.Cursor, values: Mapping[str, Any]) -> int:
        """Execute once with ``values`` (no rows returned); how many rows it changed."""
        return cursor.execute(self.sql, self.parameters(values)).rowcount

    def execute_many(
        self, cursor: sqlite3.Cursor, values: Sequence[Mapping[str, Any]]
    ) -> None:
        """Execute once for each of ``values`` (no rows returned)."""
        cursor.executemany(self.sql, [self.parameters(each) for each in values])

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        """One row as SQLAlchemy would have read it."""
        return tuple(
            read(value) if read is not None else value
            for read, value in zip(self._reads, raw, strict=True)
        )


#: Each SQLite dialect's (engine's) statements, compiled at their first use.
_COMPILED: weakref.WeakKeyDictionary[
    Dialect, dict[tuple[sa.ClauseElement, tuple[str, ...] | None], DriverStatement]
] = weakref.WeakKeyDictionary()


def compiled_for(
    dialect: Dialect,
    statement: sa.ClauseElement,
    column_keys: tuple[str, ...] | None = None,
) -> DriverStatement:
    """``statement`` compiled once for ``dialect`` (keep ``statement`` built once: it
    is the key)."""
    known = _COMPILED.get(dialect)
    if known is None:
        known = _COMPILED.setdefault(dialect, {})
    key = (statement, column_keys)
    found = known.get(key)
    if found is None:
        found = known[key] = DriverStatement(
            statement, dialect, column_keys=column_keys
        )
    return found


def on_driver(conn: Connection) -> DriverRun | None:
    """``conn``'s transaction on its SQLite driver cursor; None on other backends
    (PostgreSQL keeps SQLAlchemy's execution)."""
    if conn.dialect.name != "sqlite":
        return None
    return DriverRun(conn)


class DriverRun:
    """Statements run on the driver cursor of one SQLAlchemy connection, in the
    transaction it holds.

    A driver error is raised as SQLAlchemy's :class:`sqlalchemy.exc.DBAPIError` for it
    (``OperationalError``, ``IntegrityError``…), as ``conn.execute`` would raise it,
    so the caller's transaction rolls back and :meth:`bot.audit.store.AuditStore.
    transaction` says it as it always did. Its parameters are never in the error.
    """

    __slots__ = ("_cursor", "_dialect")

    def __init__(self, conn: Connection) -> None:
        driver = conn.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection), "a SQLite connection in use"
        self._cursor = driver.cursor()
        self._dialect = conn.dialect

    def statement(
        self, statement: sa.ClauseElement, column_keys: tuple[str, ...] | None = None
    ) -> DriverStatement:
        """``statement`` compiled for this connection's dialect (once)."""
        return compiled_for(self._dialect, statement, column_keys)

    def rows(
        self,
        statement: sa.ClauseElement,
        values: Mapping[str, Any],
        *,
        column_keys: tuple[str, ...] | None = None,
    ) -> list[tuple[Any, ...]]:
        """The rows ``statement`` returns, converted as SQLAlchemy reads them."""
        compiled = self.statement(statement, column_keys)
        try:
            return compiled.rows(self._cursor, values)
        except sqlite3.Error as exc:
            raise _wrapped(compiled, exc) from exc

    def mappings(
        self, statement: sa.ClauseElement, values: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """:meth:`rows` keyed by column, as ``result.mappings()`` gives them."""
        compiled = self.statement(statement)
        try:
            rows = compiled.rows(self._cursor, values)
        except sqlite3.Error as exc:
            raise _wrapped(compiled, exc) from exc
        keys = compiled.keys
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def execute(
        self,
        statement: sa.ClauseElement,
        values: Mapping[str, Any],
        *,
        column_keys: tuple[str, ...] | None = None,
    ) -> int:
        """Run a statement that returns no rows; how many rows it changed."""
        compiled = self.statement(statement, column_keys)
        try:
            return self._cursor.execute(
                compiled.sql, compiled.parameters(values)
            ).rowcount
        except sqlite3.Error as exc:
            raise _wrapped(compiled, exc) from exc

    def execute_many(
        self,
        statement: sa.ClauseElement,
        values: Sequence[Mapping[str, Any]],
        *,
        column_keys: tuple[str, ...] | None = None,
    ) -> None:
        """Run a statement once for each of ``values``."""
        compiled = self.statement(statement, column_keys)
        try:
            compiled.execute_many(self._cursor, values)
        except sqlite3.Error as exc:
            raise _wrapped(compiled, exc) from exc


def _wrapped(compiled: DriverStatement, exc: sqlite3.Error) -> sa.exc.DBAPIError:
    """SQLAlchemy's error for ``exc``, as its own execution would have raised it."""
    error = sa.exc.DBAPIError.instance(
        compiled.sql, None, exc, sqlite3.Error, hide_parameters=True
    )
    assert isinstance(error, sa.exc.DBAPIError)
    return error
