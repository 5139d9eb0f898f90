"""The service-task operator registry: operator name -> handler(call) -> dict.

Handlers live in ``app/services`` and are registered at app start, so the engine knows
names, not Flask. A handler raises ``ServiceError`` for failures it understands; any
other exception is wrapped into one by the engine.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterator


class ServiceError(Exception):
    """A service call failed. ``code`` is matched by BPMN error boundary events."""

    def __init__(self, message: str, *, code: str = "service_error", retryable: bool = False,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retryable = retryable
        self.details = details or {}


@dataclass(frozen=True)
class ServiceCall:
    """What a handler receives: its parameters and where the call comes from."""

    operator: str
    params: dict[str, Any]
    instance_id: int | None
    task_id: str
    idempotency_key: str
    now: datetime


Handler = Callable[[ServiceCall], dict[str, Any]]


@dataclass(frozen=True)
class Operator:
    """A registered operator; asynchronous ones run as jobs outside the instance's transaction."""

    name: str
    handler: Handler
    asynchronous: bool = False
    parameters: tuple[str, ...] = ()
    description: str = ""
    retries: int = 3


@dataclass
class OperatorRegistry:
    """Operators by name."""

    _operators: dict[str, Operator] = field(default_factory=dict)

    def register(self, name: str, handler: Handler, *, asynchronous: bool = False,
                 parameters: tuple[str, ...] = (), description: str = "", retries: int = 3) -> Operator:
        """Register (or replace) the handler for an operator name."""
        operator = Operator(name, handler, asynchronous, tuple(parameters), description, retries)
        self._operators[name] = operator
        return operator

    def get(self, name: str) -> Operator:
        try:
            return self._operators[name]
        except KeyError:
            known = ", ".join(sorted(self._operators)) or "none"
            raise ServiceError(f"unknown service operator '{name}' (registered: {known})",
                               code="unknown_operator") from None

    def __contains__(self, name: object) -> bool:
        return name in self._operators

    def __iter__(self) -> Iterator[Operator]:
        return iter(sorted(self._operators.values(), key=lambda op: op.name))
