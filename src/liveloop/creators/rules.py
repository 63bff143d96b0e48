"""The affiliate programme's platform terms (`data/affiliate_rules.json`), by effective date."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

DATA = resources.files("liveloop.creators") / "data"


@dataclass(frozen=True, slots=True)
class AffiliateRules:
    effective_from: datetime
    effective_to: datetime | None
    attribution_window: timedelta
    commission_hold: timedelta
    min_rate: Decimal
    max_rate: Decimal


def _parse(entry: dict[str, Any]) -> AffiliateRules:
    end = entry.get("effective_to")
    return AffiliateRules(
        effective_from=datetime.fromisoformat(entry["effective_from"]),
        effective_to=datetime.fromisoformat(end) if end else None,
        attribution_window=timedelta(days=int(entry["attribution_window_days"])),
        commission_hold=timedelta(days=int(entry["commission_hold_days"])),
        min_rate=Decimal(entry["min_commission_rate"]),
        max_rate=Decimal(entry["max_commission_rate"]),
    )


@lru_cache
def versions() -> tuple[AffiliateRules, ...]:
    data = json.loads((DATA / "affiliate_rules.json").read_text(encoding="utf-8"))
    return tuple(sorted((_parse(v) for v in data["versions"]), key=lambda r: r.effective_from))


def rules_at(at: datetime) -> AffiliateRules:
    """The terms in force at `at` (the earliest version before any was in force)."""
    found = versions()[0]
    for rules in versions():
        if rules.effective_from <= at and (rules.effective_to is None or at < rules.effective_to):
            found = rules
    return found
