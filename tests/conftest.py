"""Shared fixtures.

Database tests run once per backend: SQLite always, PostgreSQL too when TEST_DATABASE_URL
is set. Each backend gets its own migrated database (a temporary file, or a fresh schema
on PostgreSQL); each test runs inside a transaction that is rolled back (service commits
only release savepoints). Tests that need real commits across connections or processes
use ``committed_app``, which builds a database of its own.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy.orm import scoped_session, sessionmaker

from app import create_app
from app.clock import FrozenClock
from app.extensions import db
from config import TestingConfig
from tests.support.complaints import ProcessDriver
from tests.support.engine import EngineHarness
from tests.support.staff import add_staff
from workflows.engine import SandboxEnvironment
from workflows.sandbox import ExpressionEvaluator, ScriptRunner

TESTS_DIR = Path(__file__).resolve().parent
PG_URL = os.environ.get("TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


class _Database:
    """A migrated database for one backend: a SQLite file or a PostgreSQL schema."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        if backend == "sqlite":
            self.url = f"sqlite:///{tmp / f'kesu-{uuid.uuid4().hex[:8]}.db'}"
            self.schema = None
        else:
            self.schema = f"kesu_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
            engine = sa.create_engine(PG_URL)
            with engine.begin() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{self.schema}"'))
            engine.dispose()
            sep = "&" if "?" in PG_URL else "?"
            self.url = f"{PG_URL}{sep}options={quote(f'-csearch_path={self.schema}')}"

    def drop(self) -> None:
        if self.schema:
            engine = sa.create_engine(PG_URL)
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{self.schema}" CASCADE'))
            engine.dispose()


def make_app(database: _Database, instance_dir: Path, **overrides: object) -> Flask:
    """Create an app on ``database`` with a frozen clock and run the migrations."""
    overrides = {"SHOP_TIMEZONE": "Asia/Shanghai", **overrides}  # UTC+8 whatever KESU_SHOP_TIMEZONE says
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database.url, CLOCK=FrozenClock(),
                     INSTANCE_DIR=str(instance_dir), **overrides)
    with app.app_context():
        upgrade(revision="heads")
    return app


@pytest.fixture(scope="session")
def sandbox_environment() -> Iterator[SandboxEnvironment]:
    """The real sandbox (restricted evaluator and script workers), shared by the session."""
    runner = ScriptRunner(timeout=2.0, memory_mb=256, workers=1)
    yield SandboxEnvironment(ExpressionEvaluator(), runner)
    runner.close()


@pytest.fixture
def engine(sandbox_environment: SandboxEnvironment) -> EngineHarness:
    """Drive diagrams through Kesu's engine in memory, with a clock the test moves."""
    return EngineHarness(sandbox_environment)


@pytest.fixture(scope="session", params=BACKENDS)
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """A Flask app on a migrated database of one backend (shared by the session)."""
    tmp = tmp_path_factory.mktemp(request.param)
    database = _Database(request.param, tmp)
    application = make_app(database, tmp)
    application.config["TEST_BACKEND"] = request.param
    yield application
    with application.app_context():
        db.engine.dispose()
    database.drop()


@pytest.fixture
def clock(app: Flask) -> FrozenClock:
    """The app's frozen clock, reset to a fixed Monday morning for every test."""
    frozen = app.extensions["kesu.runtime"].clock
    frozen.set(FrozenClock().now())
    return frozen


@pytest.fixture
def db_session(app: Flask, clock: FrozenClock) -> Iterator[scoped_session]:
    """A session inside a transaction that is rolled back after the test."""
    # ids are reused after each rollback, so the id -> version hash cache must not outlive a test
    app.extensions["kesu.runtime"].definition_hashes.clear()
    app.extensions["kesu.runtime"].current_versions = None
    app.extensions["kesu.runtime"].live.clear()
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                                                 expire_on_commit=False))  # as in app.extensions
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app: Flask, db_session: scoped_session):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture
def cli_runner(app: Flask, db_session: scoped_session):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture(params=BACKENDS)
def committed_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """An app on a database of its own where commits are real (concurrency, crash tests)."""
    database = _Database(request.param, tmp_path)
    application = make_app(database, tmp_path)
    application.config["TEST_DATABASE"] = database.url
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
    database.drop()


@pytest.fixture
def driver(app: Flask, db_session: scoped_session, clock: FrozenClock) -> Iterator[ProcessDriver]:
    """The seed processes deployed, with a deterministic classifier."""
    processes = ProcessDriver(app, clock)
    yield processes
    processes.restore()


@pytest.fixture
def make_staff(db_session: scoped_session, clock: FrozenClock):  # type: ignore[no-untyped-def]
    """Create a staff member: ``make_staff(username, roles=None, groups=None)`` (password tests.support.staff.PASSWORD)."""
    def make(username: str, roles: list[str] | None = None, groups: list[str] | None = None):  # type: ignore[no-untyped-def]
        return add_staff(username, roles, groups, now=clock.now())
    return make
