"""Fault injection: rates (seeded) and queued one-off faults for the next money-moving requests."""
from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field

KINDS = ("lost", "error500", "slow")


@dataclass
class Faults:
    """What goes wrong, and how often.

    ``lost``: money moves, then the connection is dropped without an answer;
    ``error500``: a 500 before anything happens; ``slow``: the answer waits ``slow_seconds``;
    ``duplicate``: a notification is sent twice; ``out_of_order``: a stale "processing"
    notification follows the final one.
    """

    lost: float = 0.0
    error500: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 2.0
    duplicate: float = 0.0
    out_of_order: float = 0.0
    seed: int = 7
    queued: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()

    def configure(self, **settings: object) -> None:
        """Change rates (and queue one-off faults with ``queue=[kind, ...]``)."""
        with self._lock:
            for name, value in settings.items():
                if name == "queue":
                    self.queued.extend(str(kind) for kind in value)  # type: ignore[union-attr]
                elif name in ("lost", "error500", "slow", "slow_seconds", "duplicate", "out_of_order"):
                    setattr(self, name, float(value))  # type: ignore[arg-type]
                elif name == "seed":
                    self._random = random.Random(int(value))  # type: ignore[call-overload]
                else:
                    raise ValueError(f"unknown fault setting '{name}'")

    def for_request(self) -> str | None:
        """Pick the fault (if any) for one money-moving request."""
        with self._lock:
            kind = self.queued.pop(0) if self.queued else self._roll()
            if kind:
                self.injected[kind] += 1
            return kind

    def _roll(self) -> str | None:
        roll = self._random.random()
        for kind in KINDS:
            rate = getattr(self, kind)
            if roll < rate:
                return kind
            roll -= rate
        return None

    def chance(self, name: str) -> bool:
        with self._lock:
            hit = self._random.random() < getattr(self, name)
            self.injected[name] += hit
            return hit
