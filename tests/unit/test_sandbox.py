"""Acceptance tests for the expression evaluator and the script sandbox (workflows.sandbox)."""

from __future__ import annotations

import decimal
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from workflows.sandbox import (
    ExpressionEvaluator,
    ExpressionRefused,
    SandboxError,
    ScriptRefused,
    ScriptResourceExceeded,
    ScriptRunner,
    ScriptTimeout,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NAMES = {
    "amount": 40, "category": "order.out_of_stock", "priority": "high", "items": [1, 2, 3],
    "price": Decimal("19.90"), "customer": {"name": "Ada", "tier": "gold"}, "x": True,
    "opened_on": date(2024, 3, 1), "created_at": datetime(2024, 3, 1, 9, 30, tzinfo=timezone.utc),
}


@pytest.fixture(scope="module")
def evaluator() -> ExpressionEvaluator:
    return ExpressionEvaluator()


@pytest.fixture(scope="module")
def runner() -> Iterator[ScriptRunner]:
    script_runner = ScriptRunner(timeout=1.0)
    yield script_runner
    script_runner.close()


@pytest.fixture
def marker() -> Iterator[Path]:
    """A world-writable path an attack would create (so a dropped-privilege child could too)."""
    path = Path(f"/tmp/kesu-sandbox-{uuid.uuid4().hex}")
    yield path
    path.unlink(missing_ok=True)


# An augmented assignment is not straight-line: this script always goes to a worker.
WORKER_SCRIPT = "after = before\nafter += 1"


def assert_pool_works(runner: ScriptRunner) -> None:
    assert runner.run(WORKER_SCRIPT, {"before": 1}) == {"before": 1, "after": 2}


def worker_pids() -> list[int]:
    """Return the pids of this process's sandbox worker children."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and b"sandbox_worker.py" in cmdline:
            pids.append(int(stat.parent.name))
    return pids


# ---- legitimate expressions ----------------------------------------------------------------

@pytest.mark.parametrize(("expression", "expected"), [
    ('amount < 50 and category == "order.out_of_stock"', True),
    ('priority in ("high", "medium")', True),
    ("len(items) > 2", True),
    ("round(amount * 0.1, 2)", 4.0),
    ("(amount) == (50)", False),
    ("dmninputexpr < 50 and x", True),
    ('"PT1H"', "PT1H"),
    ("price * 2 + Decimal('0.20')", Decimal("40.00")),
    ("(price * Decimal('0.10')).quantize(Decimal('0.01'))", Decimal("1.99")),
    ("customer['tier'] == 'gold' and category.startswith('order.')", True),
    ("[i * 2 for i in items if i > 1]", [4, 6]),
    ("{k: len(v) for k, v in customer.items()}", {"name": 3, "tier": 4}),
    ("f'{customer[\"name\"]} owes {price:.1f}'", "Ada owes 19.9"),
    ("days_between(opened_on, '2024-03-15') > 10", True),
    ("add_days('2024-02-28', 2) == parse_date('2024-03-01')", True),
    ("created_at < parse_datetime('2024-03-01T10:00:00Z')", True),
    ("max(items) if items else 0", 3),
])
def test_legitimate_expressions_evaluate(evaluator: ExpressionEvaluator, expression: str, expected: object) -> None:
    assert evaluator.evaluate(expression, {**NAMES, "dmninputexpr": 10}) == expected


def test_timer_expression_can_be_a_variable(evaluator: ExpressionEvaluator) -> None:
    assert evaluator.evaluate("reminder", {"reminder": "PT4H"}) == "PT4H"


def test_results_do_not_alias_caller_data(evaluator: ExpressionEvaluator) -> None:
    names = {"items": [{"sku": "A"}]}
    result = evaluator.evaluate("items", names)
    result[0]["sku"] = "changed"
    assert names == {"items": [{"sku": "A"}]}


def test_expressions_cannot_mutate_caller_data(evaluator: ExpressionEvaluator) -> None:
    names = {"items": [1], "customer": {"name": "Ada"}}
    for expression in ("items.append(2)", "customer.pop('name')", "customer.update({'x': 1})"):
        with pytest.raises(SandboxError, match="is not allowed on"):
            evaluator.evaluate(expression, names)
    assert names == {"items": [1], "customer": {"name": "Ada"}}


def test_unknown_variable_is_named(evaluator: ExpressionEvaluator) -> None:
    with pytest.raises(SandboxError, match="variable 'amount' is not set"):
        evaluator.evaluate("amount < 50", {})


def test_dict_attribute_access_suggests_brackets(evaluator: ExpressionEvaluator) -> None:
    with pytest.raises(SandboxError, match=r"write \['name'\] to read a key"):
        evaluator.evaluate("customer.name == 'Ada'", NAMES)


def test_runtime_failures_are_sandbox_errors(evaluator: ExpressionEvaluator) -> None:
    with pytest.raises(SandboxError, match="ZeroDivisionError: division by zero"):
        evaluator.evaluate("amount / 0", NAMES)
    with pytest.raises(SandboxError, match=r"write Decimal\('0.1'\)"):
        evaluator.evaluate("price * 0.1", NAMES)


@pytest.mark.parametrize(("expression", "problem"), [
    ("amount <", "syntax error at line 1, column 9"),
    ("amount = 5", "a statement is not allowed here"),
    ("__builtins__", "name '__builtins__' is not allowed in expressions"),
    ("items.__len__()", "attribute '__len__' is not allowed in expressions"),
    ("eval('1')", "function 'eval' is not allowed in expressions"),
    ("(y := 5)", "':=' is not allowed in expressions"),
    ("f'{amount:>{width}}'", "only simple format specs"),
    ("created_at.now()", "attribute 'now' is not allowed in expressions"),
])
def test_check_explains_refusals(evaluator: ExpressionEvaluator, expression: str, problem: str) -> None:
    assert problem in (evaluator.check(expression) or "")
    with pytest.raises(ExpressionRefused, match=problem.replace("(", r"\(").replace("[", r"\[")):
        evaluator.evaluate(expression, NAMES)


def test_check_accepts_valid_expressions(evaluator: ExpressionEvaluator) -> None:
    assert evaluator.check('amount < 50 and category == "order.out_of_stock"') is None


def test_custom_functions_replace_the_defaults() -> None:
    custom = ExpressionEvaluator({"double": lambda value: value * 2})
    assert custom.evaluate("double(amount)", NAMES) == 80
    assert "function 'len' is not allowed" in (custom.check("len(items)") or "")


def test_evaluator_is_thread_safe(evaluator: ExpressionEvaluator) -> None:
    failures: list[str] = []

    def work(offset: int) -> None:
        for i in range(2000):
            names = {"n": i + offset, "values": list(range(i % 5))}
            if evaluator.evaluate("[v + n for v in values]", names) != [v + i + offset for v in range(i % 5)]:
                failures.append(f"thread {offset} call {i}")

    threads = [threading.Thread(target=work, args=(k * 10_000,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


# ---- legitimate scripts --------------------------------------------------------------------

MULTI_LINE_SCRIPT = """
def discount(value, rate):
    return (value * rate).quantize(Decimal('0.01'))

total = Decimal('0')
for line in lines:
    total += line['price'] * line['qty']
refund = discount(total, Decimal('0.10'))
skus = [line['sku'] for line in lines if line['qty'] > 1]
by_sku = {line['sku']: line['qty'] for line in lines}
order['status'] = 'refunded'
order['tags'].append('auto')
del scratch
print('refund computed')
"""


def test_multi_line_script_runs_on_a_copy(runner: ScriptRunner) -> None:
    data = {
        "lines": [{"sku": "A", "price": Decimal("10.00"), "qty": 2}, {"sku": "B", "price": Decimal("5.50"), "qty": 1}],
        "order": {"status": "open", "tags": []}, "scratch": 1,
    }
    result = runner.run(MULTI_LINE_SCRIPT, data)
    assert result["total"] == Decimal("25.50") and result["refund"] == Decimal("2.55")
    assert result["skus"] == ["A"] and result["by_sku"] == {"A": 2, "B": 1}
    assert result["order"] == {"status": "refunded", "tags": ["auto"]}
    assert "scratch" not in result and "discount" not in result and "line" in result
    assert data["order"] == {"status": "open", "tags": []} and data["scratch"] == 1


def test_values_round_trip_exactly(runner: ScriptRunner) -> None:
    data = {
        "money": Decimal("12.30"), "day": date(2024, 2, 29), "uid": uuid.UUID(int=7),
        "utc": datetime(2024, 1, 1, 12, tzinfo=timezone.utc),
        "berlin": datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Berlin")),
        "offset": datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=-5))), "wait": timedelta(hours=3),
        "pair": (1, "a"), "tags": {"x"}, "by_id": {1: "one"}, "tagged": {"__kesu_type__": "decimal"},
        "nested": {"list": [Decimal("1.10"), None, True, 1.5]},
    }
    result = runner.run("copy = [money, day, uid, utc, berlin, offset, wait, pair, tags, by_id, tagged, nested]", data)
    assert [(type(v), v) for v in result["copy"]] == [(type(v), v) for v in data.values()]
    assert str(result["money"]) == "12.30" and result["berlin"].fold == 1
    assert result["berlin"].tzinfo == ZoneInfo("Europe/Berlin")


def test_private_keys_pass_through_untouched(runner: ScriptRunner) -> None:
    state = {"tokens": [1]}
    result = runner.run("x = 1", {"_engine_state": state, "y": 2})
    assert result == {"y": 2, "x": 1, "_engine_state": {"tokens": [1]}}
    assert result["_engine_state"]["tokens"] is not state["tokens"]


def test_script_errors_name_the_line(runner: ScriptRunner) -> None:
    with pytest.raises(SandboxError, match="script failed at line 2: ZeroDivisionError"):
        runner.run("a = 1\nb = a / 0", {})
    with pytest.raises(SandboxError, match="line 1: variable 'missing' is not set"):
        runner.run("a = missing", {})


def test_unstorable_results_are_reported(runner: ScriptRunner) -> None:
    with pytest.raises(SandboxError, match="variable 'funcs': a value of type 'function'"):
        runner.run("def f():\n    return 1\nfuncs = [f]", {})
    with pytest.raises(SandboxError, match="variable 'thing' cannot be passed to a script"):
        runner.run("x = 1", {"thing": object()})


def test_check_reports_compile_errors(runner: ScriptRunner) -> None:
    assert runner.check("total = 1 + 2") is None
    assert "invalid variable name" in (runner.check("_secret = 1") or "")
    assert "SyntaxError" in (runner.check("if x\n  y = 1") or "")


@pytest.mark.parametrize("script", ["y = x * 2", "y = x\ny *= 2"], ids=["in process", "worker"])
def test_scripts_run_concurrently_from_threads(runner: ScriptRunner, script: str) -> None:
    results: dict[int, int] = {}

    def work(k: int) -> None:
        for i in range(20):
            results[k * 100 + i] = runner.run(script, {"x": k * 100 + i})["y"]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {key: key * 2 for key in results} and len(results) == 120


def test_worker_environment_is_minimal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KESU_TEST_SECRET", "do-not-leak")
    before = set(worker_pids())
    script_runner = ScriptRunner(workers=1)
    try:
        assert_pool_works(script_runner)
        (pid,) = set(worker_pids()) - before
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    finally:
        script_runner.close()
    assert b"do-not-leak" not in environ
    assert {entry.split(b"=")[0] for entry in environ.split(b"\0") if entry} <= {b"PATH", b"LANG", b"PYTHONHASHSEED"}


def test_dead_idle_worker_is_replaced_transparently() -> None:
    before = set(worker_pids())
    script_runner = ScriptRunner(workers=2)
    try:
        assert_pool_works(script_runner)
        for pid in set(worker_pids()) - before:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
        assert_pool_works(script_runner)
    finally:
        script_runner.close()


def test_worker_crash_mid_script_is_reported_and_replaced() -> None:
    before = set(worker_pids())
    script_runner = ScriptRunner(timeout=5.0, workers=1)
    try:
        assert_pool_works(script_runner)
        (pid,) = set(worker_pids()) - before
        threading.Timer(0.3, os.kill, (pid, signal.SIGSEGV)).start()
        with pytest.raises(ScriptResourceExceeded, match=r"killed by signal 11 \(Segmentation fault\)"):
            script_runner.run("while True:\n    pass", {})
        assert_pool_works(script_runner)
    finally:
        script_runner.close()


def test_closed_runner_refuses_work() -> None:
    before = set(worker_pids())
    script_runner = ScriptRunner(workers=1)
    assert_pool_works(script_runner)
    started = set(worker_pids()) - before
    script_runner.close()
    with pytest.raises(SandboxError, match="the script runner is closed"):
        script_runner.run(WORKER_SCRIPT, {"before": 1})
    assert len(started) == 1 and not started & set(worker_pids())


# ---- attacks: refused as expressions and as scripts, with no side effect -------------------

ATTACKS = [  # (id, expression, expected message, script, expected message or exception types)
    ("import-system", "__import__('os').system('touch {marker}')", "name '__import__' is not allowed",
     "__import__('os').system('touch {marker}')", '"__import__" is an invalid variable name'),
    ("subclasses", "().__class__.__base__.__subclasses__()", "attribute '__subclasses__' is not allowed",
     "x = ().__class__.__base__.__subclasses__()", 'is an invalid attribute name because it starts with "_"'),
    ("format-globals", "'{0.__class__.__init__.__globals__}'.format(amount)", "attribute 'format' is not allowed",
     "x = '{0.__class__.__init__.__globals__}'.format(amount)", "format*() methods of `str` is not safe"),
    ("format-map", "'{name.__class__}'.format_map(customer)", "attribute 'format_map' is not allowed",
     "x = '{name.__class__}'.format_map(customer)", "format*() methods of `str` is not safe"),
    ("str-format-unbound", "str.format('{0.__class__}', amount)", "attribute 'format' is not allowed",
     "x = str.format('{0.__class__}', amount)", "format*() methods of `str` is not safe"),
    ("open-file", "open('/etc/passwd').read()", "function 'open' is not allowed in expressions",
     "x = open('/etc/passwd').read()", "'open' is not available in scripts"),
    ("environ-import", "__import__('os').environ", "name '__import__' is not allowed",
     "x = __import__('os').environ", '"__import__" is an invalid variable name'),
    ("environ-statement", "os.environ", "variable 'os' is not set",
     "import os\nx = os.environ", "line 1: import statements are not allowed in scripts ('import os')"),
    ("getattr", "getattr(amount, '__class__')", "function 'getattr' is not allowed in expressions",
     "x = getattr(amount, '__class__')", "'getattr' is not available in scripts"),
    ("lambda", "(lambda: __import__('os'))()", "lambda is not allowed in expressions",
     "f = lambda: 0\nx = f.__globals__", '"__globals__" is an invalid attribute name'),
    ("generator-frame", "(i for i in ()).gi_frame.f_back.f_globals", "attribute 'f_globals' is not allowed",
     "g = (i for i in ())\nx = g.gi_frame.f_back.f_globals", '"gi_frame" is a restricted name'),
    ("type-subclasses", "type(1).__subclasses__", "attribute '__subclasses__' is not allowed",
     "x = type(1).__subclasses__()", '"__subclasses__" is an invalid attribute name'),
    ("type-call", "type(1)", "function 'type' is not allowed in expressions",
     "x = type(1)", "'type' is not available in scripts"),
    ("class-escape", "amount.__class__", "attribute '__class__' is not allowed",
     "class A:\n    pass", "class definitions are not allowed in scripts"),
]


@pytest.mark.parametrize(("expression", "message"), [(a[1], a[2]) for a in ATTACKS], ids=[a[0] for a in ATTACKS])
def test_expression_attack_is_refused(evaluator: ExpressionEvaluator, marker: Path, expression: str,
                                      message: str) -> None:
    with pytest.raises(SandboxError) as refusal:
        evaluator.evaluate(expression.replace("{marker}", str(marker)), NAMES)
    assert message in str(refusal.value)
    assert not marker.exists()


@pytest.mark.parametrize(("script", "message"), [(a[3], a[4]) for a in ATTACKS], ids=[a[0] for a in ATTACKS])
def test_script_attack_is_refused(runner: ScriptRunner, marker: Path, script: str, message: str) -> None:
    with pytest.raises(SandboxError) as refusal:
        runner.run(script.replace("{marker}", str(marker)), dict(NAMES))
    assert message in str(refusal.value)
    assert not marker.exists()
    assert_pool_works(runner)


@pytest.mark.parametrize(("expression", "message"), [
    ("9**9**9", "is too large to compute"),
    ("'a'*10**10", "will not evaluate something that long"),
    ("int(Decimal('1e999999999'))", "is out of range"),
    ("'x'.replace('', 'y' * 99999)", "could be too long"),
    ("'%0999999999d' % amount", "'%' string formatting is not allowed"),
    ("str([[0] * 99999] * 99999)", "repeating a list that holds lists or dicts is not allowed"),
    ("[[0] * 99999] * 99999 == [[0] * 99999] * 99999", "repeating a list that holds lists or dicts"),
    ("len([[0] * 99999 for a in items * 5 for b in items * 5])", "builds more than 1,000,000 items or characters"),
    ("len(['a' * 99999 for a in items * 4])", "builds more than 1,000,000 items or characters"),
])
def test_expensive_expressions_are_refused(evaluator: ExpressionEvaluator, expression: str, message: str) -> None:
    assert len(NAMES["items"]) == 3  # the sizes above are chosen for it
    started = time.monotonic()
    with pytest.raises(SandboxError, match=message.replace("(", r"\(")):
        evaluator.evaluate(expression, NAMES)
    assert time.monotonic() - started < 0.5


@pytest.mark.slow
def test_endless_loop_is_stopped_within_three_seconds() -> None:
    script_runner = ScriptRunner()  # the default 2 s limit
    try:
        assert_pool_works(script_runner)
        started = time.monotonic()
        with pytest.raises(ScriptTimeout, match="did not finish within 2 s and was stopped"):
            script_runner.run("while True:\n    pass", {})
        assert time.monotonic() - started < 3.0
        assert_pool_works(script_runner)
    finally:
        script_runner.close()


@pytest.mark.slow
def test_timeout_cannot_be_swallowed(runner: ScriptRunner) -> None:
    script = "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass"
    with pytest.raises(ScriptTimeout):
        runner.run(script, {})
    assert_pool_works(runner)


@pytest.mark.slow
def test_huge_power_script_is_stopped(runner: ScriptRunner) -> None:
    started = time.monotonic()
    with pytest.raises((ScriptTimeout, ScriptResourceExceeded)):
        runner.run("x = 9**9**9", {})
    assert time.monotonic() - started < 3.0
    assert_pool_works(runner)


def test_huge_string_script_hits_the_memory_limit(runner: ScriptRunner) -> None:
    with pytest.raises(ScriptResourceExceeded, match=r"ran out of memory \(limit 256 MB\)"):
        runner.run("x = 'a' * 10**10", {})
    assert_pool_works(runner)


def test_memory_error_caught_by_the_script_leaves_a_working_pool(runner: ScriptRunner) -> None:
    script = "try:\n    x = 'a' * 10**10\nexcept MemoryError:\n    x = 'survived'"
    assert runner.run(script, {}) == {"x": "survived"}
    assert_pool_works(runner)


def test_refused_scripts_never_reach_a_worker(runner: ScriptRunner) -> None:
    with pytest.raises(ScriptRefused, match="import statements are not allowed"):
        runner.run("from os import system\nsystem('id')", {})


def test_sandbox_modules_do_not_import_flask() -> None:
    code = "import sys, workflows.sandbox; print(sorted(m for m in sys.modules if m.split('.')[0] == 'flask'))"
    completed = subprocess.run(  # noqa: S603  (our own interpreter, fixed argv)
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    assert completed.stdout.strip() == "[]"


# ---- straight-line scripts run in process, with the worker's result ------------------------

DATA = {
    "amount": Decimal("125.50"), "qty": 3, "rate": 0.2, "name": "Ada Lovelace", "emotion": "angry",
    "opened_on": date(2024, 3, 1), "created_at": datetime(2024, 3, 1, 9, 30, tzinfo=timezone.utc),
    "berlin": datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Berlin")), "due": "2024-03-15",
    "lines": [{"sku": "A", "price": Decimal("10.00"), "qty": 2}, {"sku": "B", "price": Decimal("5.50"), "qty": 1}],
    "customer": {"name": "Ada", "tier": "gold", "tags": ["vip"]}, "flag": True, "missing": None,
    "pair": (1, "a"), "by_id": {1: "one"}, "wait": timedelta(hours=3), "uid": uuid.UUID(int=7),
    "_engine_state": {"tokens": [1]},
}
STRAIGHT_LINE_SCRIPTS = [
    "angry = emotion == 'angry'",
    "total = amount * qty",
    "vat = (amount * Decimal('0.19')).quantize(Decimal('0.01'))",
    "share = amount / 7",
    "ratio = Decimal(1) / Decimal(7) + Decimal('1e-30')",
    "half = qty / 2\nfloor = qty // 2\nrest = qty % 2\ncube = qty ** 3\nhuge = 2 ** 200",
    "scaled = rate * qty + 0.1\nneg = -amount\nnot_a_number = float('nan') != float('nan')",
    "rounded = round(amount)\nrounded2 = round(rate * 3, 2)\nas_int = int('42') + int(amount)",
    "as_float = float(amount)\ntext = str(amount) + ' EUR'",
    "upper = name.upper()\nparts = name.split(' ')\nfirst = name.split()[0]",
    "initials = ''.join([name[0], name.split()[-1][0]])\nreplaced = name.replace('Ada', 'A.')",
    "greeting = f'Dear {customer[\"name\"]}, you owe {amount:.2f} ({qty} items)'",
    "padded = f'{qty:>5}|{rate:.1%}|{amount:,}|{flag}|{missing}|{opened_on}|{lines}'",
    "days = days_between(opened_on, due)\ndeadline = add_days(opened_on, 14)",
    "later = add_days('2024-03-01T10:00:00+01:00', 2)\nafter = parse_datetime('2024-03-01T10:00:00Z') > created_at",
    "span = parse_date(due) - opened_on\nlonger = wait + timedelta(minutes=30)",
    "weekday = opened_on.weekday()\niso = created_at.isoformat()\nyear = created_at.year",
    "shifted = berlin + timedelta(hours=1)\nzone = berlin.utcoffset()",
    "tier = customer['tier']\ntier_or = customer.get('level', 'none')",
    "first_price = lines[0]['price'] * lines[0]['qty']\ncount = len(lines)",
    "keys = sorted(customer.keys())\nvalues = list(customer.values())\nitems = list(customer.items())",
    "big = amount > 100 and qty >= 3\neither = missing or 'default'\nneither = missing and 1",
    "label = 'high' if amount > 100 else 'low'",
    "nothing = missing is None\nsomething = flag is not True",
    "negated = not flag\nchained = 1 < qty < 5\ncontains = 'vip' in customer['tags']",
    "combo = [qty, rate, name, missing, flag, amount, opened_on, uid, wait]",
    "mapping = {'a': qty, 'b': [1, 2], 'c': {'d': amount}, 4: 'int key', (1, 2): 'tuple key'}",
    "tup = (qty, name)\nfirst_of_pair = pair[0]\nlookup = by_id[1]",
    "sliced = name[::-1][:3]\nmaxed = max(qty, 2, 7)\nsummed = sum([1, 2, 3], 10)",
    "alls = all([flag, qty]) and any([missing, qty])\nsorted_desc = sorted([3, 1, 2], reverse=True)",
    "a = qty * 2\nb = a + 1\nc = f'{a}-{b}'",
    "amount = amount + 1\ntotal = amount * 2",
    "copy = lines\nfirst = copy[0]\nagain = [first, first]",
    "uid_hex = uid.hex\nmerged = {**customer, 'tier': 'platinum'}",
    "text_len = len(str(lines))\nshown = str(pair) + str(by_id)",
    "as_bool = bool(missing)\nas_list = list(pair)\nas_dict = dict(customer)",
    "multi_line = (amount\n              + 1)",
    "empty = ''\nzero = 0\nnone = None",
    "",
    "emotion = 'calm'",
]


def typed(value: object) -> object:
    """value with every type spelled out (1 == 1.0 == True, Decimal('1.0') == Decimal('1.00'))."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [typed(item) for item in value])
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), repr(value.tzinfo), value.fold)
    return (type(value).__name__, repr(value))


@pytest.fixture(scope="module")
def worker_runner() -> Iterator[ScriptRunner]:
    script_runner = ScriptRunner(timeout=1.0, in_process=False)
    yield script_runner
    script_runner.close()


@pytest.fixture(scope="module")
def in_process_only() -> ScriptRunner:
    """A runner with no worker: what it runs, it ran in process."""
    script_runner = ScriptRunner(workers=1)
    script_runner.close()
    return script_runner


@pytest.mark.parametrize("script", STRAIGHT_LINE_SCRIPTS)
def test_straight_line_script_runs_in_process_with_the_workers_result(
        in_process_only: ScriptRunner, worker_runner: ScriptRunner, script: str) -> None:
    assert typed(in_process_only.run(script, dict(DATA))) == typed(worker_runner.run(script, dict(DATA)))


def test_straight_line_scripts_start_no_worker() -> None:
    before = set(worker_pids())
    script_runner = ScriptRunner(workers=1)
    try:
        assert script_runner.run("angry = emotion == 'angry'", {"emotion": "angry"}) == {
            "emotion": "angry", "angry": True}
        assert set(worker_pids()) == before
    finally:
        script_runner.close()


def test_in_process_can_be_switched_off(in_process_only: ScriptRunner) -> None:
    assert in_process_only.in_process
    script_runner = ScriptRunner(workers=1, in_process=False)
    script_runner.close()
    assert not script_runner.in_process
    with pytest.raises(SandboxError, match="the script runner is closed"):
        script_runner.run("angry = emotion == 'angry'", {"emotion": "angry"})


def test_in_process_scripts_see_the_data_as_the_worker_does(in_process_only: ScriptRunner,
                                                             worker_runner: ScriptRunner) -> None:
    data = {"ordered": OrderedDict(a=1), "amount": Decimal("125.50")}
    script = "text = str(ordered)\nshare = amount / 7"
    with decimal.localcontext(prec=5):  # this thread's context is not the worker's
        assert typed(in_process_only.run(script, data)) == typed(worker_runner.run(script, data))


def test_in_process_results_never_alias_the_input(in_process_only: ScriptRunner) -> None:
    data = {"lines": [{"sku": "A"}], "customer": {"tags": ["vip"]}}
    result = in_process_only.run("copy = lines\nfirst = copy[0]\ntags = customer['tags']\nboth = [tags, tags]", data)
    result["lines"][0]["sku"] = "changed"
    result["copy"][0]["sku"] = "changed"
    result["first"]["sku"] = "changed"
    result["tags"].append("changed")
    result["customer"]["tags"].append("changed")
    result["both"][0].append("changed")
    assert data == {"lines": [{"sku": "A"}], "customer": {"tags": ["vip"]}}
    assert result["both"] == [["vip", "changed"], ["vip"]]  # as the worker's copy: two lists


WORKER_ONLY = [  # (id, script, extra data): not straight-line, or refused while running in process
    ("loop", "total = 0\nfor line in lines:\n    total += line['qty']", {}),
    ("def", "def double(v):\n    return v * 2\nx = double(qty)", {}),
    ("comprehension", "skus = [line['sku'] for line in lines]", {}),
    ("generator", "n = sum(line['qty'] for line in lines)", {}),
    ("tuple target", "a, b = pair", {}),
    ("two targets", "a = b = qty", {}),
    ("augmented", "qty += 1", {}),
    ("subscript target", "customer['tier'] = 'silver'", {}),
    ("bare expression", "len(lines)", {}),
    ("set literal", "tags = sorted({name, emotion})", {}),
    ("set call", "tags = sorted(set([name, emotion]))", {}),
    ("function value", "f = len", {}),
    ("function argument", "longest = max(['a', 'bbb'], key=len)", {}),
    ("assigned name shadows a builtin", "len = 3\nn = len(lines)", {}),
    ("data shadows a builtin", "n = len(lines)", {"len": 5}),
    ("repr conversion", "text = f'{name!r}'", {}),
    ("locale format", "text = f'{qty:n}'", {}),
    ("strftime", "month = opened_on.strftime('%B')", {}),
    ("keyword the wrapper knows", "n = int(value='5')", {}),
    ("keyword on join", "s = '-'.join(items=['a'])", {}),
    ("keyword on replace", "s = name.replace(old='Ada', new='A.')", {}),
    ("identity", "same = lines is lines", {}),
    ("set in data", "n = sorted(tags)", {"tags": {"x", "y"}}),
    ("set from keys", "keys = list(customer.keys() | {'x': 1}.keys())", {}),
    ("large value", "n = len(str([[0] * 99999] * 20))", {}),
    ("refused by the evaluator", "n = len('x'.replace('', 'y' * 99999))", {}),
    ("error", "a = 1\nb = a / 0", {}),
    ("missing variable", "a = nowhere", {}),
    ("unstorable result", "d = customer.items()", {}),
    ("too large for JSON", "n = 2 ** 8000 * 2 ** 8000", {}),
]


@pytest.mark.parametrize(("script", "extra"), [(c[1], c[2]) for c in WORKER_ONLY], ids=[c[0] for c in WORKER_ONLY])
def test_other_scripts_go_to_the_worker_unchanged(in_process_only: ScriptRunner, runner: ScriptRunner,
                                                  worker_runner: ScriptRunner, script: str, extra: dict) -> None:
    data = {**DATA, **extra}
    with pytest.raises(SandboxError, match="the script runner is closed"):
        in_process_only.run(script, dict(data))

    def outcome(script_runner: ScriptRunner) -> object:
        try:
            return typed(script_runner.run(script, dict(data)))
        except SandboxError as exc:
            return type(exc), str(exc)

    assert outcome(runner) == outcome(worker_runner)


ONE_LINE_ATTACKS = [a[3] for a in ATTACKS if "\n" not in a[3] and a[3].startswith("x = ")] + [
    "x = __import__('os').system('touch {marker}')", "x = open('/etc/passwd')",
    "x = __import__('os').environ", "x = 'a' * 10**10", "x = int(Decimal('1e999999999'))",
    "x = created_at.now()", "x = amount.__class__", "x = f'{amount.__class__}'",
]


@pytest.mark.parametrize("script", ONE_LINE_ATTACKS)
def test_one_line_attack_fails_as_in_the_worker(runner: ScriptRunner, worker_runner: ScriptRunner,
                                                marker: Path, script: str) -> None:
    script = script.replace("{marker}", str(marker))
    with pytest.raises(SandboxError) as in_process:
        runner.run(script, dict(NAMES))
    with pytest.raises(SandboxError) as worker:
        worker_runner.run(script, dict(NAMES))
    if isinstance(worker.value, (ScriptTimeout, ScriptResourceExceeded)):  # which limit comes first may vary
        assert isinstance(in_process.value, (ScriptTimeout, ScriptResourceExceeded))
    else:
        assert (type(in_process.value), str(in_process.value)) == (type(worker.value), str(worker.value))
    assert not marker.exists()
    assert_pool_works(runner)


def test_the_setting_reaches_the_runtime(tmp_path: Path) -> None:
    from app import create_app
    from config import TestingConfig

    for setting in (True, False):
        app = create_app(TestingConfig, INSTANCE_DIR=str(tmp_path), SCRIPTS_IN_PROCESS=setting)
        assert app.extensions["kesu.runtime"].environment.script_runner.in_process is setting
