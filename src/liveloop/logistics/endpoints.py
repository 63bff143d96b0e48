"""Logistics' HTTP routes: thin; the work is in the pure domain modules."""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter

from liveloop.accounts.auth import Anyone
from liveloop.logistics.fx import RateTable, load_rate_table
from liveloop.logistics.landed_cost import landed_cost
from liveloop.logistics.schemas import LandedCostAnswer, LandedCostRequest

router = APIRouter(prefix="/api/v1/logistics", tags=["logistics"])


@lru_cache
def _offline_rates() -> RateTable:
    return load_rate_table()


@router.post("/landed-cost", response_model=LandedCostAnswer)
async def compute_landed_cost(body: LandedCostRequest, _: Anyone) -> LandedCostAnswer:
    """Duties and taxes for a consignment: which regime applies, and where each is collected
    (at checkout by the platform, or at the border). Amounts are decimal strings in `currency`."""
    return landed_cost(body, rates=_offline_rates())
