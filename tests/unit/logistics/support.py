"""Helpers shared by the logistics unit tests."""

from __future__ import annotations

from typing import Any

from liveloop.logistics.fx import load_rate_table
from liveloop.logistics.landed_cost import landed_cost
from liveloop.logistics.rules import RuleBook
from liveloop.logistics.schemas import LandedCostRequest

RATES = load_rate_table()


def item(hs_code: str, unit_price: str, quantity: int = 1, origin: str = "CN") -> dict[str, Any]:
    return {"hs_code": hs_code, "origin": origin, "unit_price": unit_price, "quantity": quantity}


def request(
    destination: str,
    day: str,
    currency: str,
    items: list[dict[str, Any]],
    shipping: str = "0",
    **extra: Any,
) -> LandedCostRequest:
    return LandedCostRequest.model_validate(
        {
            "destination": destination,
            "date": day,
            "currency": currency,
            "items": items,
            "shipping": shipping,
            **extra,
        }
    )


def ask(
    destination: str,
    day: str,
    currency: str,
    items: list[dict[str, Any]],
    shipping: str = "0",
    *,
    rules: RuleBook | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The landed-cost answer exactly as the API and the CLI render it."""
    answer = landed_cost(
        request(destination, day, currency, items, shipping, **extra), rates=RATES, rules=rules
    )
    return answer.model_dump(mode="json", by_alias=True)


def charges(answer: dict[str, Any]) -> dict[str, Any]:
    """The parts of an answer that thresholds change, for compact exact comparisons."""
    return {
        "regime": answer["regime"],
        "duty": answer["duty"],
        "duty_collected_at": answer["duty_collected_at"],
        "taxes": [(t["name"], t["rate"], t["amount"], t["collected_at"]) for t in answer["taxes"]],
        "total": answer["total_duties_and_taxes"],
    }
