"""Benchmark the sandbox: median cost of a typical condition and of a small script, in process and in a worker.

The script is straight-line, so by default it runs in process on the gateway evaluator; the
worker round trip is timed with ``ScriptRunner(in_process=False)`` in the same run.
Run from the project root: `.venv/bin/python bench/sandbox.py`. The last line is JSON:
{"expr_us": <median µs per condition>, "script_ms": <median ms per script, worker>,
 "script_in_process_ms": <median ms per script, in process>}.
"""

from __future__ import annotations

import _paths  # noqa: F401  (first: fixes sys.path for bench scripts)

import json
import statistics
import time
from decimal import Decimal


from workflows.sandbox import ExpressionEvaluator, ScriptRunner

CONDITION = 'amount < 50 and category == "order.out_of_stock" and priority in ("high", "medium") ' \
            "and len(items) > 2 and not is_vip"
NAMES = {"amount": Decimal("42.50"), "category": "order.out_of_stock", "priority": "high",
         "items": [1, 2, 3], "is_vip": False}
SCRIPT = "refund = (amount * Decimal('0.10')).quantize(Decimal('0.01'))\napproved = refund < 10"
EXPRESSION_CALLS = 20_000
SCRIPT_CALLS = 2_000


def median_expression_us() -> float:
    """Return the median µs of one evaluation of CONDITION."""
    evaluator = ExpressionEvaluator()
    assert evaluator.evaluate(CONDITION, NAMES) is True
    samples = []
    for _ in range(EXPRESSION_CALLS):
        started = time.perf_counter_ns()
        evaluator.evaluate(CONDITION, NAMES)
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1_000


def median_script_ms(*, in_process: bool) -> float:
    """Return the median ms of one SCRIPT run: in process, or a round trip through a warm worker pool."""
    runner = ScriptRunner(in_process=in_process)
    try:
        data = {"amount": Decimal("42.50"), "customer": {"id": 7, "tier": "gold"}}
        for _ in range(20):  # start and warm every worker
            assert runner.run(SCRIPT, data)["refund"] == Decimal("4.25")
        samples = []
        for _ in range(SCRIPT_CALLS):
            started = time.perf_counter_ns()
            runner.run(SCRIPT, data)
            samples.append(time.perf_counter_ns() - started)
    finally:
        runner.close()
    return statistics.median(samples) / 1_000_000


def main() -> None:
    """Print the medians, the JSON summary last."""
    expr_us = median_expression_us()
    script_ms = median_script_ms(in_process=False)
    in_process_ms = median_script_ms(in_process=True)
    print(f"condition with 5 names: {expr_us:.2f} µs median over {EXPRESSION_CALLS} calls")
    print(f"small script, worker round trip: {script_ms:.3f} ms median over {SCRIPT_CALLS} calls")
    print(f"small script, in process: {in_process_ms:.3f} ms median over {SCRIPT_CALLS} calls")
    print(json.dumps({"expr_us": round(expr_us, 2), "script_ms": round(script_ms, 3),
                      "script_in_process_ms": round(in_process_ms, 3)}))


if __name__ == "__main__":
    main()
