"""Checkout's policy numbers (`data/policy.json`): the stock hold, the per-buyer cap."""

from __future__ import annotations

import json
from datetime import timedelta
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache
def _data() -> dict[str, Any]:
    text = (resources.files("liveloop.checkout") / "data" / "policy.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def hold() -> timedelta:
    return timedelta(minutes=int(_data()["hold_minutes"]))


def payment_grace() -> timedelta:
    return timedelta(minutes=int(_data()["payment_grace_minutes"]))


def max_units_per_variant() -> int:
    return int(_data()["max_units_per_variant"])


def default_unit_weight_g() -> int:
    return int(_data()["default_unit_weight_g"])


def default_side_mm() -> int:
    return int(_data()["default_side_mm"])
