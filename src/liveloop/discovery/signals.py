"""Engagement signals viewers send about feed items, and the editable weights they carry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any


class SignalKind(StrEnum):
    VIEW = "view"
    """Watched part of a video or sat in a live room for a while."""
    COMPLETE = "complete"
    QUICK_SKIP = "quick_skip"
    LIKE = "like"
    SHARE = "share"
    COMMENT = "comment"
    TAG_TAP = "tag_tap"
    """Tapped a product tag under the video or the pinned product in the live room."""
    ADD_TO_CART = "add_to_cart"
    PURCHASE = "purchase"
    NOT_INTERESTED = "not_interested"


@dataclass(frozen=True, slots=True)
class Signal:
    """One viewer action on one item; `at` is UTC POSIX seconds."""

    viewer_id: str
    item_id: str
    kind: SignalKind
    at: float
    product_id: str | None = None
    """The product tapped, carted or bought, when the action concerns one."""


@dataclass(frozen=True, slots=True)
class SignalWeight:
    trending: float
    quality: float
    affinity: float
    views: bool


COMPONENTS = (
    "creator_affinity",
    "category_affinity",
    "hashtag_affinity",
    "followed",
    "trending",
    "quality",
    "freshness",
    "live_now",
    "starting_soon",
)
"""The score components, in the order the feed explains them."""

CANDIDATE_DEPTHS = (
    "live",
    "trending",
    "per_category",
    "per_category_recent",
    "top_categories",
    "per_hashtag",
    "top_hashtags",
    "top_creators",
    "per_creator",
    "top_products",
    "per_product",
    "recent",
    "exploration_pool",
)


@dataclass(frozen=True, slots=True)
class RankingWeights:
    trending_half_life_hours: float
    affinity_half_life_hours: float
    freshness_half_life_hours: float
    affinity_prior: float
    quality_prior_views: float
    quality_prior_rate: float
    quality_half: float
    trending_power: float
    components: dict[str, float]
    candidates: dict[str, int]
    exploration_share: float
    exploration_max_views: float
    new_creator_days: float
    new_product_days: float
    starting_soon_minutes: float
    max_category_run: int
    trending_top_size: int
    category_top_size: int
    recent_size: int


@dataclass(frozen=True, slots=True)
class Weights:
    signals: dict[SignalKind, SignalWeight]
    ranking: RankingWeights


DEFAULT_WEIGHTS_FILE = "signal_weights.json"


def load_weights(path: Path | None = None) -> Weights:
    """Read the weights file (the packaged one unless `path` is given); ValueError if malformed."""
    if path is None:
        text = resources.files("liveloop.discovery").joinpath("data", DEFAULT_WEIGHTS_FILE)
        raw = json.loads(text.read_text(encoding="utf-8"))
    else:
        raw = json.loads(path.read_text(encoding="utf-8"))
    return parse_weights(raw)


def parse_weights(raw: Any) -> Weights:
    if not isinstance(raw, dict):
        raise ValueError("weights must be a JSON object")
    signals_raw = _section(raw, "signals")
    unknown = sorted(set(signals_raw) - {k.value for k in SignalKind})
    if unknown:
        raise ValueError(f"unknown signal kinds in weights: {', '.join(unknown)}")
    signals: dict[SignalKind, SignalWeight] = {}
    for kind in SignalKind:
        entry = signals_raw.get(kind.value)
        if not isinstance(entry, dict):
            raise ValueError(f"weights lack signal {kind.value!r}")
        weight = SignalWeight(
            trending=_number(entry, "trending", kind.value),
            quality=_number(entry, "quality", kind.value),
            affinity=_number(entry, "affinity", kind.value),
            views=bool(entry.get("views", False)),
        )
        # Trending scores must only grow, which keeps the incremental top lists exact.
        if weight.trending < 0:
            raise ValueError(f"signal {kind.value!r}: trending weight must not be negative")
        signals[kind] = weight

    ranking_raw = _section(raw, "ranking")
    components = _section(ranking_raw, "components")
    candidates = _section(ranking_raw, "candidates")
    for name in COMPONENTS:
        if name not in components:
            raise ValueError(f"weights lack score component {name!r}")
    for name in CANDIDATE_DEPTHS:
        if not isinstance(candidates.get(name), int) or candidates[name] < 0:
            raise ValueError(f"candidate depth {name!r} must be a non-negative integer")
    ranking = RankingWeights(
        trending_half_life_hours=_positive(ranking_raw, "trending_half_life_hours"),
        affinity_half_life_hours=_positive(ranking_raw, "affinity_half_life_hours"),
        freshness_half_life_hours=_positive(ranking_raw, "freshness_half_life_hours"),
        affinity_prior=_positive(ranking_raw, "affinity_prior"),
        quality_prior_views=_positive(ranking_raw, "quality_prior_views"),
        quality_prior_rate=_number(ranking_raw, "quality_prior_rate", "ranking"),
        quality_half=_positive(ranking_raw, "quality_half"),
        trending_power=_positive(ranking_raw, "trending_power"),
        components={name: _number(components, name, "components") for name in COMPONENTS},
        candidates={name: int(candidates[name]) for name in CANDIDATE_DEPTHS},
        exploration_share=_number(ranking_raw, "exploration_share", "ranking"),
        exploration_max_views=_positive(ranking_raw, "exploration_max_views"),
        new_creator_days=_positive(ranking_raw, "new_creator_days"),
        new_product_days=_positive(ranking_raw, "new_product_days"),
        starting_soon_minutes=_positive(ranking_raw, "starting_soon_minutes"),
        max_category_run=int(_positive(ranking_raw, "max_category_run")),
        trending_top_size=int(_positive(ranking_raw, "trending_top_size")),
        category_top_size=int(_positive(ranking_raw, "category_top_size")),
        recent_size=int(_positive(ranking_raw, "recent_size")),
    )
    if not 0.0 <= ranking.exploration_share < 1.0:
        raise ValueError("exploration_share must be in [0, 1)")
    return Weights(signals=signals, ranking=ranking)


def _section(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name)
    if not isinstance(value, dict):
        raise ValueError(f"weights lack the {name!r} object")
    return value


def _number(raw: dict[str, Any], name: str, where: str) -> float:
    value = raw.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{where}: {name!r} must be a number")
    return float(value)


def _positive(raw: dict[str, Any], name: str) -> float:
    value = _number(raw, name, "ranking")
    if value <= 0:
        raise ValueError(f"ranking: {name!r} must be positive")
    return value
