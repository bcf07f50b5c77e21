"""An engine tuned for each backend of the audit store, and driver errors made safe.

Nothing here connects at import time.
"""

from __future__ import annotations

import atexit
import logging
import sqlite3
import time
import weakref
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from bot.errors import AuditStoreError

logger = logging.getLogger(__name__)

#: What a NUL character becomes in the store: PostgreSQL's text cannot hold one, and
#: both backends must keep the same record (a refused text is still audited).
NUL_STORED = "\u2400"

#: Execution option that makes a SQLite transaction start with ``BEGIN IMMEDIATE``.
#: Taking the write lock up front avoids SQLITE_BUSY on a read-to-write upgrade.
WRITE = {"sms_bot_write": True}


def describe(exc: BaseException) -> str:
    """First line of a driver error, never its SQL or parameters (texts, numbers)."""
    orig = getattr(exc, "orig", None)
    detail = str(orig if orig is not None else exc).strip().splitlines()
    first = detail[0] if detail else ""
    return f"{type(orig or exc).__name__}: {first}"[:300]


def open_engine(url: str) -> Engine:
    """:func:`create_engine` for ``DATABASE_URL``, its failures said without the URL.

    Raises:
        AuditStoreError: no driver for the URL, a malformed URL, or a SQLite
            directory that cannot be created.
    """
    try:
        return create_engine(url)
    except ImportError as exc:
        raise AuditStoreError(
            f"no driver for the audit store URL ({exc.name}); "
            "for PostgreSQL install 'sms-bot[postgres]'"
        ) from exc
    except sa.exc.SQLAlchemyError as exc:
        raise AuditStoreError(f"bad audit store URL: {describe(exc)}") from exc
    except ValueError as exc:  # its message may quote parts of the URL
        raise AuditStoreError("bad audit store URL: cannot parse it") from exc
    except OSError as exc:
        raise AuditStoreError(
            f"cannot create the directory of the audit store: {exc}"
        ) from exc


def create_engine(url: str | sa.URL, *, unpooled: bool = False) -> Engine:
    """An engine for the audit store; connects lazily.

    SQLite gets WAL and ``BEGIN IMMEDIATE`` for writes, and its file's directory is
    created; PostgreSQL gets ``pool_pre_ping`` and a connect timeout. ``unpooled``
    (SQLite): each connection is opened for its caller and closed when it is, for
    connections kept by a thread (:mod:`bot.audit.driver_writes`), which must not
    take a shared pool's places.
    """
    parsed = sa.make_url(url)
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"check_same_thread": False, "timeout": 30}
        pooling: dict[str, Any] = {"poolclass": sa.pool.NullPool} if unpooled else {}
        engine = sa.create_engine(parsed, connect_args=connect_args, **pooling)
        _tune_sqlite(engine)
        _store_no_nul(engine)
        _SQLITE_ENGINES.add(engine)
        return engine
    if (
        parsed.get_backend_name() == "postgresql"
        and "connect_timeout" not in parsed.query
    ):
        connect_args["connect_timeout"] = 10
    engine = sa.create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)
    _store_no_nul(engine)
    return engine


def _store_no_nul(engine: Engine) -> None:
    """Write every NUL in a text parameter as :data:`NUL_STORED`, on every backend.

    PostgreSQL refuses a NUL in text outright, which would lose the audit record of
    the very send that was refused for holding one. Statements run on SQLite's driver
    (:class:`bot.audit.driver_statements.DriverStatement`) never pass this hook: they
    apply the same rule themselves.
    """

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _before(
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> tuple[str, Any]:
        if executemany and isinstance(parameters, list):
            return statement, [_without_nul(each) for each in parameters]
        return statement, _without_nul(parameters)


def _without_nul(parameters: Any) -> Any:
    if isinstance(parameters, dict):
        if any(_has_nul(value) for value in parameters.values()):
            return {key: _storable(value) for key, value in parameters.items()}
        return parameters
    if isinstance(parameters, (list, tuple)) and any(map(_has_nul, parameters)):
        return type(parameters)(_storable(value) for value in parameters)
    return parameters


def _has_nul(value: Any) -> bool:
    return isinstance(value, str) and "\x00" in value


def _storable(value: Any) -> Any:
    return value.replace("\x00", NUL_STORED) if _has_nul(value) else value


def _tune_sqlite(engine: Engine) -> None:
    """Make SQLite safe for many threads and processes (the pysqlite recipe)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Stop pysqlite from issuing its own BEGIN; ours below says which kind.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA busy_timeout=30000")
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            # Removed or overwritten content (a redacted text) is zeroed, not left in
            # free space where anyone reading the file would find it.
            cursor.execute("PRAGMA secure_delete=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sms_bot_write", False)
        statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        # Straight to the driver: through ``exec_driver_sql`` the statement took a
        # third of a short transaction's CPU (the events, the cache, the result).
        driver = conn.connection.driver_connection
        assert driver is not None, "a connection in use has its driver's"
        try:
            driver.execute(statement)
        except sqlite3.Error as exc:
            raise sa.exc.OperationalError(statement, None, exc) from exc


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL (persistent), retrying while another process does it.

    SQLite answers a concurrent ``journal_mode`` change with "database is locked" at
    once, without waiting for the busy timeout.
    """
    deadline = time.monotonic() + 30
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


#: Every SQLite engine still in use, checkpointed when the process exits.
_SQLITE_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()
_CHECKPOINT_WAIT_MS = 2000


def checkpoint(engine: Engine) -> None:
    """Move SQLite's write-ahead log into the database file and empty it.

    Until then the log (``audit.db-wal``) keeps the earlier versions of changed rows,
    such as a text removed by ``SMS_AUDIT_REDACT_TEXT``. Nothing to do on PostgreSQL.
    A checkpoint that readers keep from finishing is logged; the next one completes it.
    """
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            if raw is None:
                return
            raw.execute(f"PRAGMA busy_timeout={_CHECKPOINT_WAIT_MS}")
            try:
                busy = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                raw.execute("PRAGMA busy_timeout=30000")
    except (sa.exc.SQLAlchemyError, sqlite3.Error) as exc:
        logger.warning("audit store checkpoint failed: %s", describe(exc))
        return
    if busy is not None and busy[0]:
        logger.info("audit store checkpoint left for later: the database was busy")


@atexit.register
def _checkpoint_at_exit() -> None:
    """A clean stop leaves no old row versions in the log, whoever forgot to close."""
    for engine in list(_SQLITE_ENGINES):
        # Not disposed (closed): a pool still holds a connection to the file, idle or
        # kept by its store's writers (``AuditStore``'s turn connection).
        pool = engine.pool
        if (
            getattr(pool, "checkedin", lambda: 0)()
            or getattr(pool, "checkedout", lambda: 0)()
        ):
            checkpoint(engine)
