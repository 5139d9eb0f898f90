"""Child side of the script sandbox: data codec, restricted compile policy and the worker loop.

The parent (`workflows.sandbox`) starts this file as a script in a fresh interpreter. It imports
only the standard library and RestrictedPython, so it never pulls in the `workflows` package or
the app. The codec and the compile policy live here so that the parent uses exactly the same code.
"""

from __future__ import annotations

import ast
import builtins
import functools
import json
import math
import operator
import os
import resource
import struct
import sys
import types
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from RestrictedPython.compile import compile_restricted_exec
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
    raise_,
    safe_builtins,
    safer_getattr,
)
from RestrictedPython.PrintCollector import PrintCollector

TYPE_TAG = "__kesu_type__"
HEADER = struct.Struct(">I")
EXIT_MEMORY = 86
SCRIPT_FILENAME = "<script>"
NOBODY_ID = 65534
# Attributes that read the host clock: scripts and expressions must stay deterministic.
CLOCK_ATTRIBUTES = frozenset({"now", "today", "utcnow", "fromtimestamp", "utcfromtimestamp"})


class UnencodableValue(ValueError):
    """A value cannot be carried across the sandbox pipe."""


class ScriptCompileError(ValueError):
    """A script was refused by the static check or RestrictedPython."""


# ---- date helpers (pure: they parse, they never read a clock) ------------------------------


def parse_date(value: str | date) -> date:
    """Return the date of an ISO string, date or datetime."""
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else date.fromisoformat(value)


def parse_datetime(value: str | datetime) -> datetime:
    """Return the timezone-aware datetime of an ISO string or datetime."""
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"datetime {value!s} has no timezone; add 'Z' or an offset like +01:00")
    return parsed


def days_between(start: str | date, end: str | date) -> int:
    """Return the number of calendar days from start to end."""
    return (parse_date(end) - parse_date(start)).days


def add_days(value: str | date, days: int) -> date:
    """Return the date (or datetime) `days` days after value."""
    if isinstance(value, str):
        value = parse_datetime(value) if "T" in value else parse_date(value)
    return value + timedelta(days=days)


DATE_HELPERS: dict[str, Callable[..., Any]] = {
    "parse_date": parse_date, "parse_datetime": parse_datetime, "days_between": days_between,
    "add_days": add_days, "timedelta": timedelta,
}

# ---- codec: JSON with tagged types ---------------------------------------------------------

_PLAIN_TYPES = frozenset({str, int, float, bool, type(None)})
# Subclasses (OrderedDict, IntEnum, StrEnum...) travel as their base type.
_BASE_TYPES: tuple[tuple[type, Callable[[Any], Any]], ...] = (
    (dict, dict), (list, list), (str, str.__str__), (int, int), (float, float))


def _encode_datetime(value: datetime) -> dict[str, Any]:
    tagged: dict[str, Any] = {TYPE_TAG: "datetime", "v": value.isoformat()}
    if isinstance(value.tzinfo, ZoneInfo):
        tagged["tz"] = value.tzinfo.key
    if value.fold:
        tagged["fold"] = 1
    return tagged


_ENCODERS: dict[type, Callable[[Any], Any]] = {
    Decimal: lambda v: {TYPE_TAG: "decimal", "v": str(v)},
    datetime: _encode_datetime,
    date: lambda v: {TYPE_TAG: "date", "v": v.isoformat()},
    time: lambda v: {TYPE_TAG: "time", "v": v.isoformat()},
    timedelta: lambda v: {TYPE_TAG: "timedelta", "v": [v.days, v.seconds, v.microseconds]},
    uuid.UUID: lambda v: {TYPE_TAG: "uuid", "v": str(v)},
    tuple: lambda v: {TYPE_TAG: "tuple", "v": [encode_value(x) for x in v]},
    set: lambda v: {TYPE_TAG: "set", "v": [encode_value(x) for x in v]},
    frozenset: lambda v: {TYPE_TAG: "frozenset", "v": [encode_value(x) for x in v]},
}


def encode_value(value: Any) -> Any:
    """Return a JSON-ready form of value, tagging types JSON cannot hold."""
    kind = type(value)
    if kind in _PLAIN_TYPES:
        return value
    if kind is list:
        return [encode_value(item) for item in value]
    if kind is dict:
        return _encode_dict(value)
    encoder = _ENCODERS.get(kind)
    if encoder is not None:
        return encoder(value)
    for base, convert in _BASE_TYPES:
        if isinstance(value, base):
            return encode_value(convert(value))
    raise UnencodableValue(f"a value of type '{kind.__name__}' cannot be stored in task data")


def _encode_dict(value: dict[Any, Any]) -> Any:
    if TYPE_TAG not in value and all(type(key) is str for key in value):
        return {key: encode_value(item) for key, item in value.items()}
    return {TYPE_TAG: "dict", "v": [[encode_value(k), encode_value(v)] for k, v in value.items()]}


def _decode_datetime(tagged: dict[str, Any]) -> datetime:
    value = datetime.fromisoformat(tagged["v"])
    if "tz" in tagged:
        value = value.replace(tzinfo=ZoneInfo(tagged["tz"]))
    return value.replace(fold=tagged.get("fold", 0))


_DECODERS: dict[str, Callable[[Any], Any]] = {
    "decimal": lambda t: Decimal(t["v"]),
    "datetime": _decode_datetime,
    "date": lambda t: date.fromisoformat(t["v"]),
    "time": lambda t: time.fromisoformat(t["v"]),
    "timedelta": lambda t: timedelta(*t["v"]),
    "uuid": lambda t: uuid.UUID(t["v"]),
    "tuple": lambda t: tuple(t["v"]),
    "set": lambda t: set(t["v"]),
    "frozenset": lambda t: frozenset(t["v"]),
    "dict": lambda t: {key: item for key, item in t["v"]},
}


def _decode_object(obj: dict[str, Any]) -> Any:
    tag = obj.get(TYPE_TAG)
    return obj if tag is None else _DECODERS[tag](obj)


_ENCODER = json.JSONEncoder(separators=(",", ":"))  # built once: json.dumps/loads with options build one a call
_DECODER = json.JSONDecoder(object_hook=_decode_object)


def dumps(value: Any) -> bytes:
    """Return the tagged JSON bytes of value."""
    return _ENCODER.encode(encode_value(value)).encode()


def loads(raw: bytes) -> Any:
    """Return the value of tagged JSON bytes (UTF-8, as dumps writes them)."""
    return _DECODER.decode(raw.decode())


# ---- restricted compile policy -------------------------------------------------------------

_REFUSED_STATEMENTS: dict[type, str] = {
    ast.Import: "import statements are not allowed in scripts",
    ast.ImportFrom: "import statements are not allowed in scripts",
    ast.ClassDef: "class definitions are not allowed in scripts",
}


def _refuse_statements(script: str) -> None:
    try:
        tree = ast.parse(script, SCRIPT_FILENAME)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return  # RestrictedPython reports the same problem with its own message
    for node in ast.walk(tree):
        reason = _REFUSED_STATEMENTS.get(type(node))
        if reason is not None and isinstance(node, ast.stmt):
            code = (ast.get_source_segment(script, node) or "").splitlines()[0]
            raise ScriptCompileError(f"line {node.lineno}: {reason} ({code!r})")


@functools.lru_cache(maxsize=512)
def compile_script(script: str) -> types.CodeType:
    """Return the RestrictedPython code of script or raise ScriptCompileError."""
    _refuse_statements(script)
    result = compile_restricted_exec(script, filename=SCRIPT_FILENAME)
    if result.errors or result.code is None:
        raise ScriptCompileError("; ".join(result.errors) or "script could not be compiled")
    return result.code


def _guarded_getattr(obj: Any, name: str) -> Any:
    if name in CLOCK_ATTRIBUTES and isinstance(obj, date):
        raise AttributeError(f"'{name}' reads the clock and is not allowed in scripts")
    if name == "mro":
        raise AttributeError("'mro' is not allowed in scripts")
    return safer_getattr(obj, name, raise_)  # type: ignore[no-untyped-call]

_INPLACE_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
}


def _inplace(op: str, target: Any, value: Any) -> Any:
    return _INPLACE_OPERATORS[op](target, value)


def _apply(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return function(*args, **kwargs)


_EXTRA_BUILTINS = (sorted, min, max, sum, any, all, enumerate, zip, range, len, dict, list, set,
                   frozenset, tuple, reversed, map, filter, round, abs, isinstance, str, int, float)
SCRIPT_BUILTINS: dict[str, Any] = {
    **{k: v for k, v in safe_builtins.items() if k not in ("__build_class__", "setattr", "delattr")},
    **{f.__name__: f for f in _EXTRA_BUILTINS}, **DATE_HELPERS, "Decimal": Decimal,
}
SCRIPT_GLOBALS: dict[str, Any] = {
    "__builtins__": SCRIPT_BUILTINS, "__name__": "script", "_getattr_": _guarded_getattr,
    "_getitem_": operator.getitem, "_getiter_": iter, "_write_": full_write_guard,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence, "_unpack_sequence_": guarded_unpack_sequence,
    "_inplacevar_": _inplace, "_print_": PrintCollector, "_apply_": _apply,
}


def _is_data(value: Any) -> bool:
    return not (callable(value) or isinstance(value, types.ModuleType))


def run_script(script: str, data: dict[str, Any]) -> dict[str, Any]:
    """Run script on data in the restricted namespace and return the resulting variables."""
    namespace = {**data, **SCRIPT_GLOBALS}
    exec(compile_script(script), namespace)  # noqa: S102  (a RestrictedPython code object)
    return {k: v for k, v in namespace.items() if not k.startswith("_") and _is_data(v)}


# ---- worker loop ---------------------------------------------------------------------------


def _read_exact(fd: int, size: int) -> bytes | None:
    buffer = bytearray()
    while len(buffer) < size:
        chunk = os.read(fd, size - len(buffer))
        if not chunk:
            return None
        buffer += chunk
    return bytes(buffer)


def _read_frame(fd: int) -> bytes | None:
    header = _read_exact(fd, HEADER.size)
    return None if header is None else _read_exact(fd, HEADER.unpack(header)[0])


def write_frame(fd: int, body: bytes) -> None:
    """Write one length-prefixed frame to fd."""
    view = memoryview(HEADER.pack(len(body)) + body)
    while view:
        view = view[os.write(fd, view):]


def _error_line(exc: BaseException) -> int | None:
    line = None
    traceback = exc.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == SCRIPT_FILENAME:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def _describe(exc: BaseException) -> str:
    if isinstance(exc, NameError) and exc.name:
        if exc.name in vars(builtins):
            return f"'{exc.name}' is not available in scripts"
        return f"variable '{exc.name}' is not set"
    return f"{type(exc).__name__}: {exc}"[:1000]


def _encode_variables(variables: dict[str, Any]) -> dict[str, Any]:
    encoded = {}
    for name, value in variables.items():
        try:
            encoded[name] = encode_value(value)
        except UnencodableValue as exc:
            raise UnencodableValue(f"variable '{name}': {exc}") from None
    return encoded


def _limit_cpu(budget_seconds: int) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = math.ceil(usage.ru_utime + usage.ru_stime)
    resource.setrlimit(resource.RLIMIT_CPU, (used + budget_seconds, resource.RLIM_INFINITY))


def handle_request(raw: bytes, cpu_budget: int) -> bytes:
    """Run one request frame and return the reply frame body."""
    request = loads(raw)
    _limit_cpu(cpu_budget)
    try:
        variables = _encode_variables(run_script(request["script"], request["data"]))
        return json.dumps({"ok": variables}, separators=(",", ":")).encode()
    except MemoryError:
        os._exit(EXIT_MEMORY)  # the heap may be inconsistent: let the parent start a fresh worker
    except ScriptCompileError as exc:
        return dumps({"error": "refused", "message": str(exc)})
    except BaseException as exc:  # noqa: BLE001  (a script may raise anything, even SystemExit)
        return dumps({"error": "failed", "message": _describe(exc), "line": _error_line(exc)})


def _apply_limits(memory_mb: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20, memory_mb * 2**20))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))


def _drop_privileges() -> None:
    if os.geteuid() != 0:
        return
    try:
        os.setgroups([])
        os.setgid(NOBODY_ID)
        os.setuid(NOBODY_ID)
    except OSError:
        pass  # defence in depth only: e.g. a user namespace without a 'nobody' mapping


def main(argv: list[str]) -> None:
    """Serve script requests on stdin/stdout until the parent closes stdin."""
    memory_mb, cpu_budget = int(argv[1]), int(argv[2])
    reply_fd = os.dup(1)
    os.dup2(2, 1)  # stray writes to stdout must never corrupt the reply channel
    try:
        run_script("warm_up = sorted([2, 1])", {})
        _apply_limits(memory_mb)
        _drop_privileges()
    except BaseException as exc:
        write_frame(reply_fd, dumps({"fatal": repr(exc)}))
        raise SystemExit(1) from exc
    write_frame(reply_fd, dumps({"ready": os.getpid()}))
    while (raw := _read_frame(0)) is not None:
        write_frame(reply_fd, handle_request(raw, cpu_budget))


if __name__ == "__main__":
    main(sys.argv)
