"""Engine set-up that depends on the database kind, and column types shared by the models."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Store timestamps as UTC and always hand back timezone-aware UTC datetimes.

    SQLite has no time zones, so naive UTC is stored there; PostgreSQL keeps timestamptz.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass timezone-aware UTC times")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# WAL pages after which a committing writer checkpoints (~40 MB). SQLite's default of 1000 made
# about one command in 50 copy and fsync the database; the background worker's chore below
# checkpoints instead, and pages written many times are copied once.
WAL_AUTOCHECKPOINT_PAGES = 10000
WAL_CHECKPOINT_EVERY_SECONDS = 30


def checkpoint_wal(engine: Engine) -> tuple[int, int]:
    """Copy committed WAL pages into the SQLite database without waiting for readers or writers.

    Returns (pages in the WAL, pages copied); (0, 0) for other databases.
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return 0, 0
    raw = engine.raw_connection()  # autocommit (see _on_connect): a checkpoint runs outside transactions
    try:
        _busy, pages, copied = raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        raw.close()
    return pages, copied


# PRAGMA synchronous levels Kesu accepts (config SQLITE_SYNCHRONOUS): FULL and EXTRA sync the
# WAL at every commit (durable on power loss); NORMAL only at checkpoints (see config.py).
SQLITE_SYNCHRONOUS_LEVELS = ("FULL", "EXTRA", "NORMAL")


def configure_engine(engine: Engine, *, synchronous: str = "FULL") -> None:
    """Make SQLite safe for a web process plus a worker thread.

    WAL lets readers run beside the writer, a busy timeout waits instead of failing, and
    every transaction starts with BEGIN IMMEDIATE so that two writers never both hold a
    read snapshot they cannot upgrade (the cause of SQLITE_BUSY in deferred mode).
    ``synchronous`` is SQLite's durability level; FULL keeps every commit over a power loss.
    """
    if engine.dialect.name != "sqlite":
        return
    if synchronous not in SQLITE_SYNCHRONOUS_LEVELS:
        raise ValueError(f"KESU_SQLITE_SYNCHRONOUS is {synchronous!r}; use one of "
                         f"{', '.join(SQLITE_SYNCHRONOUS_LEVELS)} (FULL keeps every commit over a power loss)")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")  # one of SQLITE_SYNCHRONOUS_LEVELS
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
