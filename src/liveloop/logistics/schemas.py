"""Request and response bodies of the landed-cost API (`POST /api/v1/logistics/landed-cost`).

Amounts travel as decimal strings in the request's `currency` ("25.00"), never as JSON numbers,
so no float ever touches money. The request model checks only shapes; the landed-cost engine
checks meaning (known HS code, supported destination, rules in force) and names the field.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from liveloop.logistics.rules import Collection, Incoterm

__all__ = [
    "DutyLineOut",
    "ExchangeRateOut",
    "FeeOut",
    "Incoterm",
    "LandedCostAnswer",
    "LandedCostItem",
    "LandedCostRequest",
    "TaxOut",
]


class LandedCostItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hs_code: str = Field(max_length=16, description="6 to 10 digits.", examples=["950300"])
    origin: str = Field(max_length=8, description="Country of origin.", examples=["CN"])
    unit_price: str = Field(max_length=32, description="Decimal string.", examples=["25.00"])
    quantity: int = Field(strict=True, examples=[2])


class LandedCostRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "destination": "GB",
                    "date": "2026-11-22",
                    "currency": "GBP",
                    "items": [
                        {"hs_code": "950300", "origin": "CN", "unit_price": "25.00", "quantity": 2}
                    ],
                    "shipping": "0.00",
                }
            ]
        },
    )

    destination: str = Field(max_length=8, description="Country the parcel goes to.")
    date: dt.date = Field(description="The day the rules are evaluated for.")
    currency: str = Field(max_length=8, description="ISO 4217 code of every amount.")
    items: list[LandedCostItem] = Field(min_length=1, max_length=200)
    shipping: str = Field(
        default="0", max_length=32, description="What the buyer pays for delivery."
    )
    incoterm: Incoterm = Incoterm.DDP


class DutyLineOut(BaseModel):
    hs_code: str
    method: str = Field(description="tariff, flat_rate or per_category.")
    rate: str | None
    amount: str


class TaxOut(BaseModel):
    name: str
    rate: str
    amount: str
    collected_at: Collection


class FeeOut(BaseModel):
    name: str
    amount: str
    collected_at: Collection


class ExchangeRateOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_currency: str = Field(alias="from")
    to: str
    rate: str
    date: dt.date


class LandedCostAnswer(BaseModel):
    destination: str
    currency: str
    incoterm: Incoterm
    goods_value: str
    shipping: str
    regime: str
    duty: str
    duty_collected_at: Collection | None = Field(description="Null when there is no duty.")
    duty_lines: list[DutyLineOut]
    taxes: list[TaxOut]
    fees: list[FeeOut]
    total_duties_and_taxes: str
    price_at_checkout: str = Field(
        description="Goods, delivery, and the charges the buyer pays at checkout (all under DDP)."
    )
    due_on_delivery: str = Field(description="Border charges the buyer pays at the door (DAP).")
    exchange_rate: ExchangeRateOut | None = Field(
        description="The rate used to compare with thresholds in the destination's currency."
    )
    unconfirmed: bool = Field(description="True when a rule used is marked unconfirmed.")
