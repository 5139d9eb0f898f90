"""The hashed text of events: the fast path must write exactly what the json module writes."""
from __future__ import annotations

import json
import math
import random
import struct
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from workflows.persistence import _json_canonical, canonical_json, to_jsonable


def _reference(value: Any) -> str:
    """The definition of the hashed text (as written since the first chain)."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=to_jsonable)
    except TypeError:
        return json.dumps(to_jsonable(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


TRICKY = [
    {"text": "收到的苹果全是烂的 \"quoted\" \\ back\nline\ttab\x00\x1f\x7f\u2028\u2029 😀", "b": 1, "a": 2},
    {"floats": [0.0, -0.0, 1e-4, 9.99e-5, 1e-5, 2.5e-7, 36.5, 0.1, 1e15, 9999999999999998.0, 1e16, 1e22, 5e-324,
                1.7976931348623157e308]},
    {"nan": math.nan}, {"inf": [math.inf, -math.inf]},
    {"ints": [0, -1, 2 ** 63 - 1, -(2 ** 63), 2 ** 63, 2 ** 64, -(2 ** 70), 10 ** 30]},
    {"bools": [True, False, None]}, {1: "int key", "1": "str key"}, {2: "b", 1: "a"}, {True: "bool key"},
    {"decimal": Decimal("25.80"), "date": date(2026, 1, 2), "at": datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone.utc)},
    {"set": {3, 1, 2}, "tuple": (1, "a", None), "nested": {"z": {"y": [{"x": 1.5}]}}},
    {"surrogate": "\ud800"}, {"keys": {"é": 1, "e": 2, "z": 3, "中": 4, "😀": 5, "": 6}},
    "plain string", 42, 1.5, None, [],
]


@pytest.mark.parametrize("value", TRICKY, ids=range(len(TRICKY)))
def test_tricky_values_hash_as_they_always_did(value: Any) -> None:
    assert canonical_json(value) == _reference(value) == _json_canonical(value)


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 3 else 6)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.choice([rng.randint(-1000, 1000), rng.getrandbits(70) - (1 << 69), rng.getrandbits(63)])
    if kind == 2:
        return struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0]
    if kind == 3:
        return rng.uniform(-1, 1) * 10 ** rng.randint(-8, 18)
    if kind == 4:
        return round(rng.uniform(0, 10000), rng.randint(0, 4))
    if kind == 5:
        return "".join(chr(rng.choice([rng.randint(0, 0x7f), rng.randint(0x80, 0x2fff), rng.randint(0x4e00, 0x9fff),
                                       rng.randint(0x1f600, 0x1f64f)])) for _ in range(rng.randint(0, 12)))
    if kind == 6:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {_random_value(rng, 3) if rng.random() < 0.05 and kind == 7 else str(_random_value(rng, 3)):
            _random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def test_random_payloads_hash_as_they_always_did() -> None:
    rng = random.Random(20260105)
    for _ in range(3000):
        value = {"payload": _random_value(rng)}
        assert canonical_json(value) == _reference(value)
