"""SQLite's durability level is an explicit setting: FULL (every commit synced) unless NORMAL is chosen."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from app import create_app
from app.database import configure_engine
from config import Config, DevelopmentConfig, TestingConfig

SYNCHRONOUS = {1: "NORMAL", 2: "FULL", 3: "EXTRA"}  # what PRAGMA synchronous reads back


def _level(engine) -> str:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return SYNCHRONOUS[connection.exec_driver_sql("PRAGMA synchronous").scalar()]


def test_the_durable_level_is_the_default(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'durable.db'}")
    configure_engine(engine)
    assert _level(engine) == "FULL"
    engine.dispose()


@pytest.mark.parametrize("level", ["FULL", "EXTRA", "NORMAL"])
def test_each_accepted_level_reaches_the_connection(tmp_path: Path, level: str) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'level.db'}")
    configure_engine(engine, synchronous=level)
    assert _level(engine) == level
    engine.dispose()


@pytest.mark.parametrize("level", ["OFF", "normal; DROP TABLE t", ""])
def test_other_levels_are_refused_with_the_choices(tmp_path: Path, level: str) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'refused.db'}")
    with pytest.raises(ValueError, match="KESU_SQLITE_SYNCHRONOUS.*FULL, EXTRA, NORMAL"):
        configure_engine(engine, synchronous=level)
    engine.dispose()


def test_the_app_config_sets_the_level(tmp_path: Path) -> None:
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'app.db'}",
                     INSTANCE_DIR=str(tmp_path), SQLITE_SYNCHRONOUS="FULL")
    with app.app_context():
        from app.extensions import db
        assert _level(db.engine) == "FULL"
        db.engine.dispose()
    app.extensions["kesu.runtime"].environment.script_runner.close()


def test_the_served_app_defaults_to_full() -> None:
    # `make run` (DevelopmentConfig) and production take Config's default unless the variable is set.
    assert DevelopmentConfig.SQLITE_SYNCHRONOUS == Config.SQLITE_SYNCHRONOUS
    if "KESU_SQLITE_SYNCHRONOUS" not in os.environ:
        assert Config.SQLITE_SYNCHRONOUS == "FULL"
