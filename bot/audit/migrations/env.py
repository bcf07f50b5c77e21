"""Alembic environment: runs the revisions on the connection ``bot.audit.migrate`` hands in.

``bot.audit.migrate`` opens the transaction and takes the cross-process lock itself, so
this file only configures the context. Run directly (``alembic revision --autogenerate``
from the repository root, configured by ``[tool.alembic]`` in ``pyproject.toml``), it
connects to ``DATABASE_URL``.
"""

from __future__ import annotations

import os

from alembic import context

from bot.audit.engine import create_engine
from bot.audit.tables import metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_given = context.config.attributes.get("connection")
if _given is not None:
    _run(_given)
else:
    _engine = create_engine(os.environ.get("DATABASE_URL", "sqlite:///sms-bot.db"))
    try:
        with _engine.begin() as _connection:
            _run(_connection)
    finally:
        _engine.dispose()
