"""A payment's status only moves forward, whatever order the news arrives in; its amounts are
sums over its events."""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import given

from liveloop.payments.lifecycle import (
    RANK,
    TERMINAL,
    Amounts,
    EventAmount,
    advance,
    amounts,
)
from liveloop.payments.models import PaymentEventKind as K
from liveloop.payments.models import PaymentStatus as S

# The histories a provider can report for one payment, in the order they happen.
HISTORIES = [
    [S.requires_confirmation, S.succeeded],
    [S.requires_confirmation, S.failed],
    [S.requires_confirmation, S.requires_action, S.succeeded],
    [S.requires_confirmation, S.requires_action, S.failed],
    [S.requires_confirmation, S.requires_action, S.authorized, S.succeeded],
    [S.requires_confirmation, S.requires_action, S.authorized, S.canceled],
    [S.requires_confirmation, S.processing, S.succeeded],
    [S.requires_confirmation, S.processing, S.authorized, S.canceled],
    [S.requires_confirmation, S.requires_action, S.canceled],
    [S.requires_confirmation, S.canceled],
]


@given(history=st.sampled_from(HISTORIES), data=st.data())
def test_news_in_any_order_and_repeated_ends_at_the_last_real_status(
    history: list[S], data: st.DataObject
) -> None:
    news = data.draw(st.lists(st.sampled_from(history), min_size=0, max_size=12))
    news = data.draw(st.permutations([*news, history[-1]]))
    status = S.requires_confirmation
    for proposed in news:
        moved = advance(status, proposed)
        assert RANK[moved] >= RANK[status]
        status = moved
    assert status == history[-1]


@pytest.mark.parametrize("final", sorted(TERMINAL))
def test_a_final_status_is_never_left(final: S) -> None:
    assert [advance(final, s) for s in S] == [final] * len(S)


def test_amounts_count_charges_refunds_and_refunds_still_pending() -> None:
    events = [
        EventAmount(K.action_required, 2500),
        EventAmount(K.charge, 2500),
        EventAmount(K.refund, 500, "re_1"),
        EventAmount(K.refund_pending, 700, "re_2"),
        EventAmount(K.refund_pending, 300, "re_3"),
        EventAmount(K.refund_failure, 300, "re_3"),
        EventAmount(K.refund_pending, 200, "re_4"),
        EventAmount(K.refund, 200, "re_4"),
    ]
    totals = amounts(events)
    assert totals == Amounts(captured=2500, refunded=700, refund_pending=700)
    assert totals.refundable == 1100
    assert amounts([]) == Amounts(0, 0, 0)
