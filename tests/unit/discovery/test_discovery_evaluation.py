"""Ranking metrics on hand-computed cases, and the offline evaluation end to end on a small world."""

from __future__ import annotations

import math

import pytest

from liveloop.discovery.evaluation import (
    RELEVANCE,
    build_engine,
    dcg_at_k,
    evaluate,
    ndcg_at_k,
    recall_at_k,
)
from liveloop.discovery.signals import SignalKind
from liveloop.discovery.simulate import WorldConfig, build_world


def test_dcg_uses_exponential_gain_and_log2_discount() -> None:
    assert dcg_at_k([3, 0, 1], 3) == 7 / 1 + 0 + 1 / 2
    assert dcg_at_k([3, 0, 1], 1) == 7.0
    assert dcg_at_k([], 10) == 0.0


def test_ndcg_on_a_hand_computed_ranking() -> None:
    relevance = {"a": 0, "b": 2, "c": 1, "d": 3}

    got = ndcg_at_k(["a", "b", "c"], relevance, 3)

    ideal = 7 + 3 / math.log2(3) + 1 / 2
    assert got == pytest.approx((3 / math.log2(3) + 1 / 2) / ideal, rel=1e-12)
    assert got == pytest.approx(0.2548, abs=1e-4)


def test_ndcg_is_one_for_the_ideal_order_and_zero_without_hits() -> None:
    relevance = {"x": 1, "y": 4}

    assert ndcg_at_k(["y", "x", "z"], relevance, 10) == 1.0
    assert ndcg_at_k(["z", "w"], relevance, 10) == 0.0
    assert ndcg_at_k(["y"], {}, 10) == 0.0


def test_ndcg_ignores_hits_below_the_cut() -> None:
    relevance = {"hit": 5}

    assert ndcg_at_k(["a", "b", "hit"], relevance, 2) == 0.0
    assert ndcg_at_k(["a", "hit"], relevance, 2) == pytest.approx(1 / math.log2(3))


def test_recall_counts_relevant_items_in_the_top_k() -> None:
    assert recall_at_k(["a", "b", "c", "x"], {"b", "x"}, 3) == 0.5
    assert recall_at_k(["a", "b"], {"a", "b"}, 50) == 1.0
    assert recall_at_k(["a"], set(), 50) == 0.0


def test_relevance_grades_follow_the_strength_of_the_signal() -> None:
    assert (
        RELEVANCE[SignalKind.PURCHASE]
        > RELEVANCE[SignalKind.ADD_TO_CART]
        > RELEVANCE[SignalKind.COMPLETE]
        > RELEVANCE[SignalKind.LIKE]
        > 0
    )
    assert SignalKind.QUICK_SKIP not in RELEVANCE
    assert SignalKind.VIEW not in RELEVANCE


def test_the_feed_beats_popularity_on_a_small_world_without_seeing_the_test_day() -> None:
    world = build_world(WorldConfig(seed=11, viewers=300, videos=1500, days=6))
    training = world.training()
    engine = build_engine(world, until=world.split_at, signals=world.signals)

    result = evaluate(world, engine, max_viewers=200, seed=1)

    assert all(s.at < world.split_at for s in training)
    assert result.viewers == 200
    assert result.ndcg10 > 2 * result.popularity_ndcg10
    assert result.recall50 > result.popularity_recall50
    assert 0 < result.ndcg10 < 1
    # Handing over the whole log changes nothing: the engine stops at the split.
    only_training = build_engine(world, until=world.split_at, signals=training)
    assert evaluate(world, only_training, max_viewers=200, seed=1) == result
