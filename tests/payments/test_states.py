"""The refund transition table: every allowed move, and every refused one with its message."""
from __future__ import annotations

import itertools

import pytest

from app.payments.errors import RefundTransitionError
from app.payments.states import TRANSITIONS, RefundState, can_move, check_transition

ALLOWED = [(a, b) for a, targets in TRANSITIONS.items() for b in targets]
REFUSED = [(a, b) for a, b in itertools.product(RefundState, RefundState) if b not in TRANSITIONS[a]]


@pytest.mark.parametrize(("current", "target"), ALLOWED, ids=lambda s: s.value)
def test_each_allowed_transition(current: RefundState, target: RefundState) -> None:
    assert check_transition(current, target) == target and can_move(current.value, target.value)


@pytest.mark.parametrize(("current", "target"), REFUSED, ids=lambda s: s.value)
def test_each_refused_transition_names_what_is_allowed(current: RefundState, target: RefundState) -> None:
    with pytest.raises(RefundTransitionError, match=f"a refund that is {current.value} cannot become "
                                                    f"{target.value}; from {current.value} it can become") as caught:
        check_transition(current, target)
    assert caught.value.status == 409


def test_the_main_path_only_moves_forward() -> None:
    path = ["requested", "approved", "submitted", "succeeded", "reconciled"]
    for current, target in zip(path, path[1:]):
        check_transition(current, target)
    with pytest.raises(RefundTransitionError, match="from succeeded it can become: reconciled"):
        check_transition("succeeded", "submitted")
    with pytest.raises(RefundTransitionError, match="from reconciled it can become: nothing"):
        check_transition("reconciled", "failed")
