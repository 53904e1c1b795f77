"""The order state machine's legal and illegal transitions."""

from __future__ import annotations

import itertools

import pytest

from service.domain.states import (
    ALLOWED_TRANSITIONS,
    CANCELLABLE,
    IllegalTransition,
    OrderStatus,
    check_transition,
    is_terminal,
)

S = OrderStatus
LEGAL = {
    (S.PENDING, S.SUBMITTED),
    (S.PENDING, S.REJECTED),
    (S.PENDING, S.CANCELLED),
    (S.PENDING, S.FAILED),
    (S.SUBMITTED, S.PARTIALLY_FILLED),
    (S.SUBMITTED, S.FILLED),
    (S.SUBMITTED, S.REJECTED),
    (S.SUBMITTED, S.CANCELLED),
    (S.SUBMITTED, S.FAILED),
    (S.PARTIALLY_FILLED, S.PARTIALLY_FILLED),
    (S.PARTIALLY_FILLED, S.FILLED),
    (S.PARTIALLY_FILLED, S.CANCELLED),
}


@pytest.mark.parametrize(("current", "target"), sorted(itertools.product(S, S)))
def test_every_pair(current: OrderStatus, target: OrderStatus) -> None:
    if (current, target) in LEGAL:
        check_transition(current, target)
    else:
        with pytest.raises(IllegalTransition, match=f"{current} cannot move to {target}"):
            check_transition(current, target)


def test_terminal_states_and_cancellable_set() -> None:
    assert {s for s in S if is_terminal(s)} == {S.FILLED, S.REJECTED, S.CANCELLED, S.FAILED}
    assert {s for s in S if S.CANCELLED in ALLOWED_TRANSITIONS[s]} == CANCELLABLE
