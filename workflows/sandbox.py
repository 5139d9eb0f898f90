"""Sandboxed evaluation of BPMN/DMN expressions (in process) and script tasks (mostly out of process).

Expressions run in simpleeval on a cached, statically checked AST with per-type attribute
allow-lists. Scripts are compiled with RestrictedPython and run in a small pool of fresh,
resource-limited interpreters that speak length-prefixed tagged JSON over pipes
(`workflows.sandbox_worker`); nothing is ever unpickled.

A straight-line script (only `name = expression` lines, each expression one a gateway condition
may be, without comprehensions or sets) runs in process instead, on the expression evaluator:
it is a row of gateway conditions, so it is exactly as safe as they are, and it returns what a
worker would, or goes to a worker (see `_straight_line` and `ScriptRunner.run`).

Both halves live in this module (and the child in `sandbox_worker`) because the integration
contract names only these files; each section below is self-contained.
"""

from __future__ import annotations

import ast
import atexit
import copy
import decimal
import functools
import json
import math
import os
import queue
import re
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import IO, Any, cast
from uuid import UUID

from RestrictedPython.transformer import INSPECT_ATTRIBUTES
from simpleeval import (
    DISALLOW_FUNCTIONS,
    DISALLOW_METHODS,
    EvalWithCompoundTypes,
    FeatureNotAvailable,
    InvalidExpression,
    NameNotDefined,
)

from workflows.sandbox_worker import (
    CLOCK_ATTRIBUTES,
    DATE_HELPERS,
    EXIT_MEMORY,
    HEADER,
    ScriptCompileError,
    UnencodableValue,
    compile_script,
    dumps,
    encode_value,
    loads,
    write_frame,
)

__all__ = ["DEFAULT_FUNCTIONS", "ExpressionEvaluator", "ExpressionRefused", "SandboxError",
           "ScriptRefused", "ScriptResourceExceeded", "ScriptRunner", "ScriptTimeout"]


class SandboxError(Exception):
    """An expression or script was refused or failed inside the sandbox (str() is user-facing)."""


class ExpressionRefused(SandboxError):
    """Code failed the static check before running."""


class ScriptRefused(ExpressionRefused):
    """A script failed the static check (a RestrictedPython compile error or a refused statement)."""


class ScriptTimeout(SandboxError):
    """A script exceeded its wall-clock time limit and its worker was killed."""


class ScriptResourceExceeded(SandboxError):
    """A script hit the memory limit, produced too large a result, or its worker died."""


# ---- expressions: pure default functions and size guards -----------------------------------

MAX_EXPRESSION_LENGTH = 10_000
MAX_INT_BITS = 16_384
MAX_DECIMAL_DIGITS = 4_300  # Python's own int <-> str conversion limit
MAX_STRING_LENGTH = 100_000  # simpleeval's limit for literals and repetition
MAX_BUILT = 1_000_000  # items and characters one evaluation may build with + and * (each within the limit above)
_CONTAINERS = (list, tuple, dict, set, frozenset)


def _check_decimal(value: Decimal) -> Decimal:
    if value.is_finite() and abs(value.adjusted()) > MAX_DECIMAL_DIGITS:
        raise ValueError(f"Decimal {value} is out of range (more than {MAX_DECIMAL_DIGITS} digits)")
    return value


def _decimal(value: Any = 0) -> Decimal:
    """Return Decimal(value), refusing exponents that would expand to huge numbers."""
    return _check_decimal(Decimal(value))


def _int(value: Any = 0, *base: int) -> int:
    """Return int(value), refusing Decimals that would expand to huge integers."""
    return int(_check_decimal(value) if isinstance(value, Decimal) else value, *base)


def _round(number: Any, ndigits: int | None = None) -> Any:
    """Return round(number, ndigits), refusing Decimals that would expand to huge integers."""
    if ndigits is None:
        return round(_check_decimal(number) if isinstance(number, Decimal) else number)
    return round(number, ndigits)


def _sum(values: Any, start: Any = 0) -> Any:
    """Return sum(values, start) for numbers only (summing lists is quadratic)."""
    if not isinstance(start, (int, float, Decimal)):
        raise ValueError("sum() only adds numbers in expressions")
    return sum(values, start)


DEFAULT_FUNCTIONS: Mapping[str, Callable[..., Any]] = MappingProxyType({
    "len": len, "min": min, "max": max, "abs": abs, "round": _round, "int": _int, "float": float,
    "str": str, "bool": bool, "sum": _sum, "any": any, "all": all, "sorted": sorted, "list": list,
    "dict": dict, "Decimal": _decimal, **DATE_HELPERS,
})


def _power(base: Any, exponent: Any) -> Any:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1 \
            and exponent * abs(base).bit_length() > MAX_INT_BITS:
        raise FeatureNotAvailable(f"{base} ** {exponent} is too large to compute")
    return base**exponent


def _multiply(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
        raise FeatureNotAvailable("the product is too large to compute")
    for side in (left, right):  # [[0] * 99999] * 99999 is cheap to build but 10**10 items to print or compare
        if isinstance(side, (list, tuple)) and any(isinstance(item, _CONTAINERS) for item in side):
            raise FeatureNotAvailable("repeating a list that holds lists or dicts is not allowed in expressions")
    return _BASE_OPERATORS[ast.Mult](left, right)  # simpleeval's repetition limit


def _modulo(left: Any, right: Any) -> Any:
    if isinstance(left, (str, bytes)):
        raise FeatureNotAvailable("'%' string formatting is not allowed in expressions; use an f-string")
    return left % right


def _join(separator: str, items: Any) -> str:
    parts = list(items)
    if sum(map(len, parts)) + len(separator) * len(parts) > MAX_STRING_LENGTH:
        raise FeatureNotAvailable("the joined string would be too long")
    return separator.join(parts)


def _replace(text: str, old: str, new: str, count: int = -1) -> str:
    if len(new) > len(old) and (len(text) + 1) * len(new) > MAX_STRING_LENGTH:
        raise FeatureNotAvailable("the replaced string could be too long")
    return text.replace(old, new, count)


_BASE_OPERATORS = EvalWithCompoundTypes().operators
_OPERATORS = {**_BASE_OPERATORS, ast.Pow: _power, ast.Mult: _multiply, ast.Mod: _modulo}
_GUARDED_METHODS: dict[tuple[type, str], Callable[..., Any]] = {(str, "join"): _join, (str, "replace"): _replace}
_SET_READS = "copy difference intersection isdisjoint issubset issuperset symmetric_difference union"
_DATE_READS = "year month day weekday isoweekday isoformat isocalendar toordinal replace strftime"
_TIME_READS = "hour minute second microsecond tzinfo utcoffset fold"
# Read-only methods only: an expression must never change the task data it reads.
_ALLOWED_ATTRIBUTES: dict[type, frozenset[str]] = {kind: frozenset(names.split()) for kind, names in {
    str: "capitalize casefold count endswith find index isalnum isalpha isascii isdecimal isdigit "
         "islower isnumeric isspace istitle isupper join lower lstrip partition removeprefix "
         "removesuffix replace rfind rindex rpartition rsplit rstrip split splitlines startswith "
         "strip swapcase title upper",
    dict: "copy get items keys values", list: "copy count index", tuple: "count index",
    set: _SET_READS, frozenset: _SET_READS, int: "bit_length denominator numerator imag real",
    bool: "real", float: "as_integer_ratio imag is_integer real",
    Decimal: "adjusted copy_abs copy_negate is_finite is_infinite is_nan is_signed is_zero "
             "normalize quantize to_integral_value",
    date: _DATE_READS, datetime: f"{_DATE_READS} {_TIME_READS} date time timestamp",
    clock_time: f"{_TIME_READS} isoformat", timedelta: "days seconds microseconds total_seconds",
    UUID: "hex version",
}.items()}
_IMMUTABLE = frozenset({str, int, float, bool, type(None), Decimal, date, datetime, clock_time,
                        timedelta, UUID, bytes, complex})


class _SimpleEval(EvalWithCompoundTypes):  # type: ignore[misc]  # simpleeval ships no types
    """simpleeval with per-type attribute allow-lists, size guards and a shallow item check."""

    _built = 0

    def eval(self, expr: str, previously_parsed: Any = None) -> Any:
        self._built = 0
        return super().eval(expr, previously_parsed)

    def _eval_binop(self, node: ast.BinOp) -> Any:
        # Each + or * stays under simpleeval's length limit, but a comprehension can repeat one
        # 10,000 times: what one evaluation builds in all is counted against MAX_BUILT.
        result = super()._eval_binop(node)
        if isinstance(result, (str, bytes, list, tuple)):
            self._built += len(result)
            if self._built > MAX_BUILT:
                raise FeatureNotAvailable(f"the expression builds more than {MAX_BUILT:,} items or characters")
        return result

    def _check_disallowed_items(self, item: Any) -> None:
        # Shallow on purpose: an item taken out of a container passes through _eval again,
        # while simpleeval's deep walk costs ~1 ms per reference to a 10,000-item list.
        if type(item) in _IMMUTABLE:
            return
        if isinstance(item, ModuleType) or (callable(item) and item in DISALLOW_FUNCTIONS):
            raise FeatureNotAvailable(f"a value of type '{type(item).__name__}' is not allowed")

    def _eval_attribute(self, node: ast.Attribute) -> Any:
        value = self._eval(node.value)
        if node.attr not in _ALLOWED_ATTRIBUTES.get(type(value), ()):
            hint = f"; write ['{node.attr}'] to read a key" if isinstance(value, dict) else ""
            raise FeatureNotAvailable(f"attribute '{node.attr}' is not allowed on {type(value).__name__} values{hint}")
        guarded = _GUARDED_METHODS.get((type(value), node.attr))
        return functools.partial(guarded, value) if guarded else getattr(value, node.attr)

    def _eval_formattedvalue(self, node: ast.FormattedValue) -> Any:
        value = self._eval(node.value)
        if node.format_spec is None:
            return value
        if isinstance(value, Decimal):
            _check_decimal(value)  # format(Decimal('1e999999'), 'f') writes a million digits
        return format(value, self._eval(node.format_spec))


# ---- expressions: static check (cached per expression text) --------------------------------

_ALLOWED_NODES = frozenset({
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.Store, ast.Attribute, ast.Subscript, ast.Slice,
    ast.Call, ast.keyword, ast.BoolOp, ast.And, ast.Or, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp,
    ast.List, ast.Tuple, ast.Dict, ast.Set, ast.ListComp, ast.GeneratorExp, ast.DictComp,
    ast.comprehension, ast.JoinedStr, ast.FormattedValue, *_BASE_OPERATORS,
})
_REFUSED_NODES = {
    ast.Lambda: "lambda is not allowed in expressions", ast.NamedExpr: "':=' is not allowed in expressions",
    ast.Starred: "'*' unpacking is not allowed in expressions",
    ast.SetComp: "set comprehensions are not supported; write set([...]) instead",
}
_REFUSED_ATTRIBUTES = frozenset(DISALLOW_METHODS) | INSPECT_ATTRIBUTES | CLOCK_ATTRIBUTES | {"mro"}
_FORMAT_SPEC = re.compile(r"(.?[<>=^])?[-+ ]?#?0?\d{0,3}[,_]?(\.\d{1,2})?[bcdeEfFgGnosxX%]?\Z")


def _name_problem(node: ast.Name, called: set[str]) -> str | None:
    return f"name '{node.id}' is not allowed in expressions" if node.id.startswith("__") else None


def _attribute_problem(node: ast.Attribute, called: set[str]) -> str | None:
    if node.attr.startswith("_") or node.attr in _REFUSED_ATTRIBUTES:
        return f"attribute '{node.attr}' is not allowed in expressions"
    return None if isinstance(node.ctx, ast.Load) else "assignment is not allowed in expressions"


def _call_problem(node: ast.Call, called: set[str]) -> str | None:
    if isinstance(node.func, ast.Name):
        called.add(node.func.id)
    elif not isinstance(node.func, (ast.Attribute, ast.Lambda)):  # the Lambda node itself is refused
        return "only named functions and methods can be called in expressions"
    if any(keyword.arg is None for keyword in node.keywords):
        return "'**' arguments are not allowed in expressions"
    return None


def _format_problem(node: ast.FormattedValue, called: set[str]) -> str | None:
    parts = node.format_spec.values if isinstance(node.format_spec, ast.JoinedStr) else []
    if node.format_spec is None or (len(parts) == 1 and isinstance(parts[0], ast.Constant)
                                    and _FORMAT_SPEC.match(str(parts[0].value))):
        return None
    return "only simple format specs like '.2f' or '>10' are allowed in f-strings"


_NODE_CHECKS: dict[type, Callable[[Any, set[str]], str | None]] = {
    ast.Name: _name_problem, ast.Attribute: _attribute_problem, ast.Call: _call_problem,
    ast.FormattedValue: _format_problem,
    ast.Subscript: lambda node, _: None if isinstance(node.ctx, ast.Load) else "assignment is not allowed",
}


@dataclass(frozen=True)
class _ParsedExpression:
    node: ast.expr
    called: frozenset[str]


def _syntax_problem(expression: str, error: SyntaxError) -> str:
    try:
        ast.parse(expression.strip(), mode="exec")
    except SyntaxError:
        column = error.offset or len(expression.strip()) + 1
        return f"syntax error at line {error.lineno}, column {column}: {error.msg}"
    return "a statement is not allowed here; write an expression such as amount < 50"


@functools.lru_cache(maxsize=2048)
def _parse_expression(expression: str) -> _ParsedExpression | str:
    """Return the checked AST of expression, or why it is refused."""
    if len(expression) > MAX_EXPRESSION_LENGTH:
        return f"expression is longer than {MAX_EXPRESSION_LENGTH} characters"
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        return _syntax_problem(expression, exc)
    except (ValueError, RecursionError, MemoryError) as exc:
        return f"expression cannot be parsed: {exc}"
    called: set[str] = set()
    for node in ast.walk(tree):
        kind = type(node)
        if kind not in _ALLOWED_NODES:
            return _REFUSED_NODES.get(kind, f"{kind.__name__} is not allowed in expressions")
        check = _NODE_CHECKS.get(kind)
        if check and (problem := check(node, called)):
            return problem
    return _ParsedExpression(tree.body, frozenset(called))


class ExpressionEvaluator:
    """Evaluate side-effect-free expressions on task data (thread-safe, parsed once per text)."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        """Use `functions` (default DEFAULT_FUNCTIONS) as the only names that can be called."""
        self._functions = dict(DEFAULT_FUNCTIONS if functions is None else functions)
        try:
            self._function_names = frozenset(self._new_simpleeval().functions)
        except FeatureNotAvailable as exc:
            raise SandboxError(f"a function given to the evaluator is not allowed: {exc}") from None
        self._local = threading.local()

    def check(self, expression: str) -> str | None:
        """Return why expression would be refused, or None if it passes the static check."""
        parsed = _parse_expression(expression)
        if isinstance(parsed, str):
            return parsed
        if unknown := parsed.called - self._function_names:
            available = ", ".join(sorted(self._function_names))
            return f"function '{min(unknown)}' is not allowed in expressions (available: {available})"
        return None

    def evaluate(self, expression: str, names: Mapping[str, Any]) -> Any:
        """Return the value of expression with names as its variables."""
        parsed = _parse_expression(expression)
        if isinstance(parsed, str) or not parsed.called <= self._function_names:
            raise ExpressionRefused(self.check(expression))
        # simpleeval instances hold per-call state: one per thread, popped so re-entry builds its own.
        evaluator = self._local.__dict__.pop("evaluator", None) or self._new_simpleeval()
        evaluator.names = names
        try:
            return _detached(evaluator.eval(expression, parsed.node))
        except NameNotDefined as exc:
            raise SandboxError(f"variable '{exc.name}' is not set") from None
        except InvalidExpression as exc:
            raise SandboxError(f"{exc} (in expression {expression!r})") from None
        except Exception as exc:
            raise SandboxError(_failure_message(expression, exc)) from exc
        finally:
            evaluator.names = {}
            self._local.evaluator = evaluator

    def _new_simpleeval(self) -> _SimpleEval:
        return _SimpleEval(operators=_OPERATORS, functions=dict(self._functions), names={})


def _detached(result: Any) -> Any:
    if type(result) in _IMMUTABLE:
        return result
    try:
        return copy.deepcopy(result)  # the caller may mutate what it gets: never hand out task data
    except TypeError:
        raise FeatureNotAvailable(f"a result of type '{type(result).__name__}' cannot be used; "
                                  "wrap it in list(...)") from None


def _failure_message(expression: str, error: Exception) -> str:
    if isinstance(error, RecursionError):
        return f"expression {expression!r} is nested too deeply"
    message = f"expression {expression!r} failed: {type(error).__name__}: {error}"
    if isinstance(error, TypeError) and "Decimal" in str(error) and "float" in str(error):
        message += " (write Decimal('0.1') instead of 0.1 when computing with Decimal amounts)"
    return message


# ---- scripts: a pool of restricted worker processes ----------------------------------------

_WORKER_PATH = Path(__file__).with_name("sandbox_worker.py")
# Nothing of the parent's environment; a fixed hash seed keeps set/dict order deterministic.
_CHILD_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"}
_STARTUP_TIMEOUT = 30.0
_MAX_REPLY_BYTES = 64 * 2**20
_EMPTY_SLOT, _CLOSED = "empty slot", "closed"  # pool queue markers besides idle workers


class _WorkerGone(Exception):
    """The worker process closed its pipe (it died or was killed)."""

    def __init__(self, *, before_request: bool) -> None:
        super().__init__("the sandbox worker is gone")
        self.before_request = before_request


class _Worker:
    """One pre-started sandbox interpreter and its pipes (used by one thread at a time)."""

    def __init__(self, argv: list[str]) -> None:
        self._process = subprocess.Popen(  # noqa: S603  (fixed argv, no shell)
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=dict(_CHILD_ENV), cwd="/", bufsize=0, start_new_session=True)
        self._stdin = cast(IO[bytes], self._process.stdin)  # both are pipes: never None
        self._stdout = cast(IO[bytes], self._process.stdout)
        self._poll = select.poll()
        self._poll.register(self._stdout, select.POLLIN)
        self._is_ready = False

    def exchange(self, request: bytes, timeout: float) -> dict[str, Any]:
        """Send one request frame and return the decoded reply within timeout seconds."""
        if not self._is_ready:
            self._await_ready()
        try:
            write_frame(self._stdin.fileno(), request)
        except (OSError, ValueError):  # a broken pipe, or pipes closed by ScriptRunner.close()
            raise _WorkerGone(before_request=True) from None
        return _decode_reply(self._receive(time.monotonic() + timeout))

    def stop(self, grace: float = 0.0) -> int:
        """Wait up to grace seconds for the process to exit, kill it, close its pipes."""
        try:
            self._process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._stdin.close()
        self._stdout.close()
        return self._process.returncode

    def _await_ready(self) -> None:
        try:
            hello = _decode_reply(self._receive(time.monotonic() + _STARTUP_TIMEOUT))
        except TimeoutError:
            hello = {"fatal": f"no answer within {_STARTUP_TIMEOUT:g} s"}
        except _WorkerGone:
            raise _WorkerGone(before_request=True) from None
        if "ready" not in hello:
            raise SandboxError(f"the script worker failed to start: {hello.get('fatal')}")
        self._is_ready = True

    def _receive(self, deadline: float) -> bytes:
        (size,) = HEADER.unpack(self._read(HEADER.size, deadline))
        if size > _MAX_REPLY_BYTES:
            raise ScriptResourceExceeded(f"the script's result is larger than {_MAX_REPLY_BYTES >> 20} MB")
        return self._read(size, deadline)

    def _read(self, size: int, deadline: float) -> bytes:
        buffer = bytearray()
        while len(buffer) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._poll.poll(remaining * 1000):
                raise TimeoutError
            try:
                chunk = os.read(self._stdout.fileno(), size - len(buffer))
            except (OSError, ValueError):
                chunk = b""
            if not chunk:
                raise _WorkerGone(before_request=False)
            buffer += chunk
        return bytes(buffer)


@functools.lru_cache(maxsize=512)
def _check_script(script: str) -> str | None:
    try:
        compile_script(script)
    except ScriptCompileError as exc:
        return str(exc)
    return None


def _is_visible(name: Any) -> bool:
    """Return whether a script sees the data key name ('_'-prefixed keys are the engine's)."""
    return isinstance(name, str) and not name.startswith("_")


def _encode_request(script: str, data: Mapping[Any, Any]) -> bytes:
    visible = {}
    for name, value in data.items():
        if _is_visible(name):
            try:
                visible[name] = encode_value(value)
            except (UnencodableValue, RecursionError) as exc:
                raise SandboxError(f"variable '{name}' cannot be passed to a script: {exc}") from None
    return json.dumps({"script": script, "data": visible}, separators=(",", ":")).encode()


def _decode_reply(raw: bytes) -> dict[str, Any]:
    """Return a reply frame as a dict; the child is not trusted to send a well-formed one."""
    try:
        reply = loads(raw)
    except (ValueError, KeyError, TypeError, RecursionError):
        reply = None
    if not isinstance(reply, dict):
        raise SandboxError("the script worker sent an unreadable reply")
    return reply


def _result_of(reply: dict[str, Any]) -> dict[str, Any]:
    if isinstance(reply.get("ok"), dict):
        return reply["ok"]  # type: ignore[no-any-return]
    message = str(reply.get("message", "the script worker sent an unreadable reply"))
    if reply.get("error") == "refused":
        raise ScriptRefused(message)
    where = f" at line {reply['line']}" if isinstance(reply.get("line"), int) else ""
    raise SandboxError(f"script failed{where}: {message}")


# ---- scripts: straight-line scripts in process ----------------------------------------------
#
# A script whose every statement is `name = expression`, each expression one the gateway
# evaluator accepts, runs here on the same simpleeval as gateway conditions, saving the worker
# round trip. It must return exactly what the worker would: anything the worker could see
# differently is left to the worker (see _straight_line), and any error, refused or oversized
# value makes run() send the script to the worker, which reports errors in its own words.

_SCRIPT_FUNCTIONS = frozenset(DEFAULT_FUNCTIONS)
# simpleeval also knows these as functions; as plain values they are not task data.
_FUNCTION_NAMES = _SCRIPT_FUNCTIONS | {"list", "tuple", "dict", "set"}
# Their results depend on the process's locale or local time zone, which the worker does not share.
_HOST_DEPENDENT_ATTRIBUTES = frozenset({"strftime", "timestamp"})
# Wrappers whose keywords differ from the builtins the worker calls (int(value=...), '-'.join(items=...)).
_WRAPPER_KEYWORDS = frozenset({"value", "values"})
_WRAPPED_METHODS = frozenset(name for _, name in _GUARDED_METHODS)
# What a run may walk in total (a node is 1, long strings and integers count by size): it bounds
# the memory and time of values built by repetition (`[[0] * 99999] * 99999`), which the
# worker's limits would stop.
MAX_SCRIPT_WEIGHT = 1_000_000
# The worker's arithmetic: a fresh interpreter's default decimal context.
_WORKER_DECIMAL_CONTEXT = decimal.Context(
    prec=28, rounding=decimal.ROUND_HALF_EVEN, Emin=-999999, Emax=999999, capitals=1, clamp=0,
    flags=[], traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])


@dataclass(frozen=True)
class _StraightLine:
    steps: tuple[tuple[str, str, ast.expr], ...]  # (assigned name, expression text, its checked AST)
    called: frozenset[str]


def _is_singleton(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and (node.value is None or node.value is True or node.value is False)


def _worker_only(expression: ast.expr) -> bool:
    """Return whether expression may behave differently here than in the worker."""
    called_names: set[int] = set()
    for node in ast.walk(expression):  # breadth first: a call comes before the name it calls
        if isinstance(node, (ast.comprehension, ast.Set)):
            return True  # loops, and set order (the worker hashes with a fixed seed, this process does not)
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name):
                called_names.add(id(node.func))
            wrapped = isinstance(node.func, ast.Attribute) and node.func.attr in _WRAPPED_METHODS
            if any(wrapped or keyword.arg in _WRAPPER_KEYWORDS for keyword in node.keywords):
                return True
        elif isinstance(node, ast.Name):
            if node.id.startswith("_") or (node.id in _FUNCTION_NAMES and id(node) not in called_names):
                return True
        elif isinstance(node, ast.Attribute) and node.attr in _HOST_DEPENDENT_ATTRIBUTES:
            return True
        elif isinstance(node, ast.FormattedValue):
            parts = node.format_spec.values if isinstance(node.format_spec, ast.JoinedStr) else []
            if node.conversion != -1 or any(str(getattr(part, "value", "")).endswith("n") for part in parts):
                return True  # simpleeval ignores !r/!s/!a; the 'n' format reads the locale
        elif isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            for index, operator in enumerate(node.ops):
                if isinstance(operator, (ast.Is, ast.IsNot)) and not (
                        _is_singleton(operands[index]) or _is_singleton(operands[index + 1])):
                    return True  # identity of copied values differs between the processes
    return False


@functools.lru_cache(maxsize=512)
def _straight_line(script: str) -> _StraightLine | None:
    """Return the steps of a script made only of `name = expression` lines, or None."""
    try:
        tree = ast.parse(script)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    steps, called, assigned = [], set(), set()
    for statement in tree.body:
        if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)):
            return None
        target = statement.targets[0].id
        segment = ast.get_source_segment(script, statement.value)
        if target.startswith("_") or segment is None:
            return None
        text = f"({segment})"  # a value continued over several lines parses only in its brackets
        parsed = _parse_expression(text)
        if isinstance(parsed, str) or not parsed.called <= _SCRIPT_FUNCTIONS or _worker_only(parsed.node):
            return None
        steps.append((target, text, parsed.node))
        called |= parsed.called
        assigned.add(target)
    if called & assigned:
        return None  # in the worker an assigned variable shadows the builtin of the same name
    return _StraightLine(tuple(steps), frozenset(called))


class _WorkerNeeded(Exception):
    """The in-process run cannot promise the worker's result."""


_RUN = threading.local()  # .weight_left: what the current thread's in-process run may still walk


def _spend(value: Any) -> None:
    """Charge the walk of value to the run's weight, refusing sets anywhere inside it."""
    left, stack = _RUN.weight_left, [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        left -= 1
        if kind is str:
            left -= len(item) >> 3
        elif kind is int:
            left -= item.bit_length() >> 6
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind is dict:
            stack.extend(item.keys())
            stack.extend(item.values())
        elif kind is Decimal:
            left -= len(item.as_tuple().digits) >> 3
        elif isinstance(item, (set, frozenset)):
            raise _WorkerNeeded("set iteration order differs from the worker's")
        if left < 0:
            raise _WorkerNeeded("the script's values are too large to compute in process")
    _RUN.weight_left = left


class _ScriptSimpleEval(_SimpleEval):
    """The gateway evaluator, also weighing every value it produces (see _spend)."""

    def _check_disallowed_items(self, item: Any) -> None:
        super()._check_disallowed_items(item)
        _spend(item)


def _script_evaluator() -> _ScriptSimpleEval:
    evaluator = getattr(_RUN, "evaluator", None)
    if evaluator is None:
        evaluator = _RUN.evaluator = _ScriptSimpleEval(operators=_OPERATORS, functions=dict(DEFAULT_FUNCTIONS),
                                                       names={})
    return cast(_ScriptSimpleEval, evaluator)


def _run_straight_line(plan: _StraightLine, visible: dict[str, Any]) -> dict[str, Any]:
    """Return what the worker would return for plan on visible, or raise (any exception)."""
    # The worker's starting point exactly: the data through the pipe codec (also a fresh copy).
    names = loads(dumps(visible))
    evaluator = _script_evaluator()
    evaluator.names, _RUN.weight_left = names, MAX_SCRIPT_WEIGHT
    assigned = {}
    try:
        with decimal.localcontext(_WORKER_DECIMAL_CONTEXT):
            for target, text, node in plan.steps:
                names[target] = assigned[target] = evaluator.eval(text, node)
    finally:
        evaluator.names = {}
    # As the worker's reply: stored values only, each a fresh copy (an assigned value may be a
    # value of the data itself, or hold one value twice).
    names.update(loads(dumps(assigned)))
    return cast(dict[str, Any], names)


class ScriptRunner:
    """Run script-task source in a pool of restricted worker processes (thread-safe).

    With in_process (the default), straight-line scripts run in this process instead, with
    the same result (see _straight_line); in_process=False sends every script to a worker.
    """

    def __init__(self, *, timeout: float = 2.0, memory_mb: int = 256, workers: int = 2,
                 in_process: bool = True) -> None:
        """Configure the pool; the workers start on first use."""
        if timeout <= 0 or memory_mb < 64 or workers < 1:
            raise ValueError("timeout must be > 0, memory_mb >= 64 and workers >= 1")
        self._timeout, self._memory_mb, self._size = timeout, memory_mb, workers
        self._in_process = in_process
        cpu_backstop = str(math.ceil(timeout) + 1)  # RLIMIT_CPU seconds per call, if the parent is gone
        self._argv = [sys.executable, "-P", "-s", str(_WORKER_PATH), str(memory_mb), cpu_backstop]
        self._idle: queue.SimpleQueue[_Worker | str] = queue.SimpleQueue()  # or a slot marker
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._state = "new"  # -> "running" -> "closed"

    @property
    def in_process(self) -> bool:
        """Whether straight-line scripts run in this process rather than in a worker."""
        return self._in_process

    def check(self, script: str) -> str | None:
        """Return why script would be refused at compile time, or None."""
        return _check_script(script)

    def run(self, script: str, data: dict[str, Any]) -> dict[str, Any]:
        """Run script on a copy of data and return the complete new data."""
        if problem := self.check(script):
            raise ScriptRefused(problem)
        result = self._run_in_process(script, data) if self._in_process else None
        if result is None:
            result = _result_of(self._exchange(_encode_request(script, data)))
        # Scripts cannot name '_'-prefixed variables, so those stay here, untouched but copied.
        private = {k: v for k, v in data.items() if not _is_visible(k)}
        return {**result, **copy.deepcopy(private)}

    @staticmethod
    def _run_in_process(script: str, data: dict[str, Any]) -> dict[str, Any] | None:
        """Return the worker's result of a straight-line script computed here, or None."""
        plan = _straight_line(script)
        if plan is None:
            return None
        visible = {name: value for name, value in data.items() if _is_visible(name)}
        if not plan.called.isdisjoint(visible):
            return None  # in the worker a variable shadows the builtin of the same name
        try:
            return _run_straight_line(plan, visible)
        except Exception:  # noqa: BLE001  (the worker runs it again and reports the error)
            return None

    def close(self) -> None:
        """Stop all worker processes; later calls to run() raise SandboxError."""
        with self._lock:
            self._state, workers = "closed", list(self._workers)
            self._workers.clear()
        for worker in workers:
            worker.stop()
        self._idle.put(_CLOSED)
        atexit.unregister(self.close)

    def _exchange(self, request: bytes) -> dict[str, Any]:
        for attempt in range(self._size + 1):
            worker = self._borrow()
            try:
                reply = worker.exchange(request, self._timeout)
            except _WorkerGone as exc:
                code = self._retire(worker, grace=1.0)
                if self._state == "closed":
                    raise SandboxError("the script runner is closed") from None
                if exc.before_request and attempt < self._size:
                    continue  # an idle worker had died, so the script never started: use another
                raise ScriptResourceExceeded(f"the script was stopped: {self._exit_reason(code)}") from None
            except TimeoutError:
                self._retire(worker)
                raise ScriptTimeout(f"the script did not finish within {self._timeout:g} s and was stopped") from None
            except BaseException:
                self._retire(worker)
                raise
            self._idle.put(worker)
            return reply
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _exit_reason(self, code: int) -> str:
        if code == EXIT_MEMORY:
            return f"it ran out of memory (limit {self._memory_mb} MB)"
        if code < 0:
            return f"its worker process was killed by signal {-code} ({signal.strsignal(-code)})"
        return f"its worker process exited with code {code}"

    def _borrow(self) -> _Worker:
        if self._state != "running":
            self._start()
        item = self._idle.get()
        if isinstance(item, _Worker):
            return item
        if item == _CLOSED:
            self._idle.put(_CLOSED)  # wake the next waiter as well
            raise SandboxError("the script runner is closed")
        try:
            return self._spawn()
        except SandboxError:
            self._idle.put(_EMPTY_SLOT)
            raise

    def _start(self) -> None:
        with self._lock:
            if self._state == "closed":
                raise SandboxError("the script runner is closed")
            if self._state == "running":
                return
            self._state = "running"
        atexit.register(self.close)
        for _ in range(self._size):
            self._refill()

    def _spawn(self) -> _Worker:
        try:
            worker = _Worker(self._argv)
        except OSError as exc:
            raise SandboxError(f"could not start a script worker: {exc}") from None
        with self._lock:
            if self._state == "running":
                self._workers.add(worker)
                return worker
        worker.stop()
        raise SandboxError("the script runner is closed")

    def _refill(self) -> None:
        """Start a worker for a free pool slot now, or leave the slot for the next borrower."""
        try:
            self._idle.put(self._spawn())
        except SandboxError:
            self._idle.put(_EMPTY_SLOT)

    def _retire(self, worker: _Worker, grace: float = 0.0) -> int:
        code = worker.stop(grace)
        with self._lock:
            self._workers.discard(worker)
        if self._state == "running":
            self._refill()
        return code
