"""The signal weights file: packaged, complete, and refused when malformed."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from liveloop.discovery.signals import COMPONENTS, SignalKind, load_weights, parse_weights


def packaged() -> dict[str, Any]:
    text = resources.files("liveloop.discovery").joinpath("data", "signal_weights.json")
    raw: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return raw


def test_packaged_weights_cover_every_signal_and_component() -> None:
    weights = load_weights()

    assert set(weights.signals) == set(SignalKind)
    assert tuple(weights.ranking.components) == COMPONENTS
    assert weights.signals[SignalKind.PURCHASE].affinity == 3.0
    assert weights.signals[SignalKind.NOT_INTERESTED].affinity == -4.0
    assert weights.signals[SignalKind.QUICK_SKIP].views is True
    assert weights.signals[SignalKind.LIKE].views is False
    assert weights.ranking.max_category_run == 2
    assert weights.ranking.exploration_share == 0.12


def test_purchases_weigh_more_than_carts_than_likes() -> None:
    signals = load_weights().signals

    for field in ("trending", "quality", "affinity"):
        purchase = getattr(signals[SignalKind.PURCHASE], field)
        cart = getattr(signals[SignalKind.ADD_TO_CART], field)
        like = getattr(signals[SignalKind.LIKE], field)
        assert purchase > cart > like > 0
    assert signals[SignalKind.QUICK_SKIP].affinity < 0
    assert signals[SignalKind.NOT_INTERESTED].affinity < signals[SignalKind.QUICK_SKIP].affinity


def test_weights_load_from_an_edited_file(tmp_path: Path) -> None:
    raw = packaged()
    raw["signals"]["like"]["affinity"] = 2.5
    raw["ranking"]["components"]["freshness"] = 0.0
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(raw), encoding="utf-8")

    weights = load_weights(path)

    assert weights.signals[SignalKind.LIKE].affinity == 2.5
    assert weights.ranking.components["freshness"] == 0.0


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda r: r["signals"].pop("purchase"), "lack signal 'purchase'"),
        (lambda r: r["signals"].update(wink={}), "unknown signal kinds in weights: wink"),
        (lambda r: r["signals"]["like"].update(trending=-1), "must not be negative"),
        (lambda r: r["signals"]["like"].update(affinity="high"), "'affinity' must be a number"),
        (lambda r: r["ranking"]["components"].pop("trending"), "component 'trending'"),
        (lambda r: r["ranking"]["candidates"].update(recent=-5), "depth 'recent'"),
        (lambda r: r["ranking"].update(trending_half_life_hours=0), "must be positive"),
        (lambda r: r["ranking"].update(exploration_share=1.0), "exploration_share"),
        (lambda r: r.pop("ranking"), "lack the 'ranking' object"),
    ],
)
def test_malformed_weights_are_refused_with_the_reason(edit: Any, message: str) -> None:
    raw = copy.deepcopy(packaged())
    edit(raw)

    with pytest.raises(ValueError, match=message):
        parse_weights(raw)


def test_weights_must_be_an_object() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        parse_weights([1, 2])
