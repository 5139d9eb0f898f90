"""SQLite checkpoints its WAL in the background worker's chore, not in the commits of commands."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.database import WAL_AUTOCHECKPOINT_PAGES, checkpoint_wal, configure_engine


def test_commits_leave_checkpoints_to_the_chore(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    configure_engine(engine)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == WAL_AUTOCHECKPOINT_PAGES
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)"))
        connection.commit()
        for i in range(300):  # more than SQLite's default of 1000 pages: nothing was checkpointed on commit
            connection.execute(text("INSERT INTO t (body) VALUES (:b)"), {"b": "x" * 8000})
            connection.commit()
    pages, copied = checkpoint_wal(engine)
    assert pages > 1000 and copied == pages
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 300
    engine.dispose()


def test_the_chore_is_registered_on_sqlite_only(app) -> None:  # type: ignore[no-untyped-def]
    chores = app.extensions["kesu.runtime"].chores
    with app.app_context():
        from app.extensions import db
        if db.engine.dialect.name != "sqlite":
            assert "sqlite.checkpoint" not in chores
            assert checkpoint_wal(db.engine) == (0, 0)
            pytest.skip("PostgreSQL has no WAL to checkpoint from the app")
        assert chores["sqlite.checkpoint"].every_seconds == 30
