"""The one table of allowed order transitions: an order's status, its payment status and its
fulfilment status move only along these edges, each move recorded with actor, time and reason."""

from __future__ import annotations

from enum import StrEnum

from liveloop.orders.models import FulfilmentState, OrderStatus, PaymentState

S, P, F = OrderStatus, PaymentState, FulfilmentState

TRANSITIONS: dict[str, dict[StrEnum, frozenset[StrEnum]]] = {
    "status": {
        S.pending_payment: frozenset({S.paid, S.cancelled}),
        S.paid: frozenset({S.fulfilling, S.cancelled}),
        S.fulfilling: frozenset({S.shipped, S.cancelled}),
        S.shipped: frozenset({S.delivered}),
        S.delivered: frozenset({S.completed}),
        S.completed: frozenset(),
        S.cancelled: frozenset(),
    },
    "payment_status": {
        P.unpaid: frozenset({P.paid, P.voided}),
        P.paid: frozenset({P.partially_refunded, P.refunded}),
        P.partially_refunded: frozenset({P.partially_refunded, P.refunded}),
        P.refunded: frozenset(),
        P.voided: frozenset(),
    },
    "fulfilment_status": {
        F.unfulfilled: frozenset({F.fulfilling, F.cancelled}),
        F.fulfilling: frozenset({F.shipped, F.cancelled}),
        F.shipped: frozenset({F.delivered}),
        F.delivered: frozenset(),
        F.cancelled: frozenset(),
    },
}


def allowed(field: str, current: StrEnum, target: StrEnum) -> bool:
    return target in TRANSITIONS[field][current]
