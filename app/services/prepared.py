"""The command path's hot statements run on the DBAPI cursor with their compiled text.

Reads: `fetch_one` for a SELECT of plain columns (the current-version check of every start).

Every command runs the same few Core statements (instance UPDATE, event and projection
INSERTs). Through ``Session.execute`` each one spends several times longer in SQLAlchemy's
per-execution Python (session dispatch, execution context, parameter processing, result
set-up) than in the database, although the statement is built once and compiled once.
Here a statement is compiled once per dialect and set of parameter names, and each
execution only converts the parameters with the statement's own bind processors (the same
conversions SQLAlchemy applies: UTC datetimes, types) and hands them to the cursor of the
session's connection, inside the session's transaction.

What stays the same: the transaction (the session's connection, begun as usual: BEGIN
IMMEDIATE on SQLite), and errors: a DBAPI error is wrapped exactly as SQLAlchemy wraps it
(``IntegrityError`` and the rest), so `run_command`'s retry sees what it saw before. A
statement that needs anything SQLAlchemy would add at execution time (a column default or
onupdate value not given, an expanding IN list) is not prepared and goes through
``Session.execute`` as before. Statement events (``before_cursor_execute``) do not see
prepared executions.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from sqlalchemy import exc
from sqlalchemy.sql import Select
from sqlalchemy.sql.dml import UpdateBase

from app.extensions import db


@dataclass(frozen=True)
class _Prepared:
    sql: str
    names: tuple[str, ...]  # bind names in the order the driver takes them (qmark), else by name
    positional: bool
    fixed: dict[str, Any]  # values the statement carries itself (e.g. status = 'open')
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]


_UNPREPARABLE = _Prepared("", (), False, {}, ())
_CACHE: dict[tuple[int, str, tuple[str, ...]], _Prepared] = {}
_LOCK = threading.Lock()


def _prepare(statement: UpdateBase | Select, dialect: Any, keys: tuple[str, ...]) -> _Prepared:
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    if isinstance(statement, Select) and any(  # rows are handed back as the driver returns them
            column.type._cached_result_processor(dialect, None) is not None for column in statement.selected_columns):
        return _UNPREPARABLE
    if compiled.insert_prefetch or compiled.update_prefetch or compiled.literal_execute_params \
            or compiled.post_compile_params:
        return _UNPREPARABLE  # SQLAlchemy would compute defaults or rewrite the text at execution
    values = compiled.construct_params(_check=False)
    names = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup else tuple(values)
    fixed = {name: value for name, value in values.items() if name not in keys}
    if any(name not in keys and name not in fixed for name in names) or any(v is None for v in fixed.values()):
        return _UNPREPARABLE
    processors = tuple((name, fn) for name, fn in compiled._bind_processors.items() if name in names)
    return _Prepared(compiled.string, names, bool(compiled.positional), fixed, processors)


def _prepared(statement: UpdateBase | Select, dialect: Any, keys: tuple[str, ...]) -> _Prepared:
    cache_key = (id(statement), dialect.name, keys)
    found = _CACHE.get(cache_key)
    if found is None:
        found = _prepare(statement, dialect, keys)
        with _LOCK:
            _CACHE[cache_key] = found
    return found


def _driver_params(prepared: _Prepared, params: dict[str, Any]) -> Any:
    if prepared.fixed:
        params = {**prepared.fixed, **params}
    if prepared.processors:
        params = dict(params)
        for name, process in prepared.processors:
            params[name] = process(params[name])
    if prepared.positional:
        return tuple(params[name] for name in prepared.names)
    return params


def execute(statement: UpdateBase, params: dict[str, Any] | Sequence[dict[str, Any]]) -> tuple[int, list[Any]]:
    """Run a module-level Core INSERT/UPDATE/DELETE; return (rowcount, rows it RETURNed).

    ``params`` is one dict, or a list of dicts with the same keys (run as executemany). The
    statement object must live as long as the process (they are cached by identity).
    """
    many = not isinstance(params, dict)
    rows = list(params) if many else [params]
    if not rows:
        return 0, []
    connection = db.session.connection()
    prepared = _prepared(statement, connection.dialect, tuple(sorted(rows[0])))
    if prepared is _UNPREPARABLE or (many and statement._returning):
        result = db.session.execute(statement, params)
        return result.rowcount, (result.all() if statement._returning else [])
    return _run(connection, prepared, rows, many=many, returning=bool(statement._returning))


def fetch_one(statement: Select, params: dict[str, Any] | None = None) -> tuple[Any, ...] | None:
    """Run a module-level Core SELECT of plain columns (no result conversion); return its first row.

    The row is a plain tuple. A statement whose columns need converting (dates on SQLite, JSON)
    goes through ``Session.execute`` and is returned as a tuple all the same.
    """
    params = params or {}
    connection = db.session.connection()
    prepared = _prepared(statement, connection.dialect, tuple(sorted(params)))
    if prepared is _UNPREPARABLE:
        row = db.session.execute(statement, params).first()
        return tuple(row) if row is not None else None
    _, rows = _run(connection, prepared, [params], many=False, returning=True, first_only=True)
    return rows[0] if rows else None


def _run(connection: Any, prepared: _Prepared, rows: list[dict[str, Any]], *, many: bool, returning: bool,
         first_only: bool = False) -> tuple[int, list[Any]]:
    """Hand a prepared statement to the cursor of the session's connection, wrapping driver errors."""
    dialect = connection.dialect
    cursor = connection.connection.cursor()
    driver_params: Any = None
    try:
        if many:
            driver_params = [_driver_params(prepared, row) for row in rows]
            cursor.executemany(prepared.sql, driver_params)
        else:
            driver_params = _driver_params(prepared, rows[0])
            cursor.execute(prepared.sql, driver_params)
        if not returning:
            return cursor.rowcount, []
        if first_only:
            row = cursor.fetchone()
            return cursor.rowcount, [tuple(row)] if row is not None else []
        return cursor.rowcount, cursor.fetchall()
    except dialect.loaded_dbapi.Error as error:
        raise exc.DBAPIError.instance(prepared.sql, driver_params, error, dialect.loaded_dbapi.Error,
                                      dialect=dialect) from error
    finally:
        cursor.close()
