"""The refund state machine: one transition table, only forward moves, typed refusals.

    requested -> approved -> submitted -> succeeded | failed | unknown -> reconciled

``unknown`` means a send got no clear answer: a query decides (never a second blind send).
``paid_manually`` is finance's record that a failed refund was paid outside the gateway.
"""
from __future__ import annotations

import enum

from app.payments.errors import RefundTransitionError


class RefundState(str, enum.Enum):
    REQUESTED = "requested"
    APPROVED = "approved"
    SUBMITTED = "submitted"
    UNKNOWN = "unknown"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PAID_MANUALLY = "paid_manually"
    RECONCILED = "reconciled"


S = RefundState
TRANSITIONS: dict[RefundState, frozenset[RefundState]] = {
    S.REQUESTED: frozenset({S.APPROVED, S.FAILED}),
    S.APPROVED: frozenset({S.SUBMITTED, S.UNKNOWN, S.SUCCEEDED, S.FAILED}),
    S.SUBMITTED: frozenset({S.UNKNOWN, S.SUCCEEDED, S.FAILED}),
    S.UNKNOWN: frozenset({S.SUBMITTED, S.SUCCEEDED, S.FAILED}),
    S.SUCCEEDED: frozenset({S.RECONCILED}),
    S.FAILED: frozenset({S.PAID_MANUALLY}),
    S.PAID_MANUALLY: frozenset(),
    S.RECONCILED: frozenset(),
}
FINAL = frozenset({S.SUCCEEDED, S.FAILED, S.PAID_MANUALLY, S.RECONCILED})
PAID = frozenset({S.SUCCEEDED, S.PAID_MANUALLY, S.RECONCILED})
IN_FLIGHT = frozenset({S.SUBMITTED, S.UNKNOWN})


def can_move(current: RefundState | str, target: RefundState | str) -> bool:
    """Return whether the table allows ``current -> target``."""
    return RefundState(target) in TRANSITIONS[RefundState(current)]


def check_transition(current: RefundState | str, target: RefundState | str) -> RefundState:
    """Return ``target`` if the table allows the move, else raise RefundTransitionError."""
    current, target = RefundState(current), RefundState(target)
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "nothing (final)"
        raise RefundTransitionError(
            f"a refund that is {current.value} cannot become {target.value}; from {current.value} it "
            f"can become: {allowed}", current=current.value, target=target.value)
    return target
