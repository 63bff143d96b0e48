"""Offline evaluation of the feed on a simulated log: NDCG and recall against popularity."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from liveloop.discovery.ranking import FeedEngine
from liveloop.discovery.signals import Signal, SignalKind, Weights
from liveloop.discovery.simulate import SimWorld

RELEVANCE: dict[SignalKind, int] = {
    SignalKind.PURCHASE: 5,
    SignalKind.ADD_TO_CART: 4,
    SignalKind.COMPLETE: 3,
    SignalKind.SHARE: 2,
    SignalKind.TAG_TAP: 2,
    SignalKind.COMMENT: 1,
    SignalKind.LIKE: 1,
}
"""Graded relevance of a held-back item: the strongest positive signal the viewer sent about it."""


def dcg_at_k(gains: Sequence[int], k: int) -> float:
    """Discounted cumulative gain with exponential gain `2**rel - 1` and a log2 discount."""
    return sum(((2**rel - 1) / math.log2(rank + 2) for rank, rel in enumerate(gains[:k])), 0.0)


def ndcg_at_k(ranked: Sequence[str], relevance: Mapping[str, int], k: int) -> float:
    """DCG of the top `k` of `ranked` over the best possible DCG; 0.0 when nothing is relevant."""
    ideal = dcg_at_k(sorted((r for r in relevance.values() if r > 0), reverse=True), k)
    if ideal == 0:
        return 0.0
    return dcg_at_k([relevance.get(item_id, 0) for item_id in ranked], k) / ideal


def recall_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the relevant items found in the top `k`; 0.0 when nothing is relevant."""
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & set(relevant)) / len(relevant)


class Replay:
    """Plays a simulated world into an engine in time order, as the live platform would."""

    def __init__(self, world: SimWorld, engine: FeedEngine) -> None:
        self.world = world
        self.engine = engine
        self._products = sorted(world.products, key=lambda p: (p.listed_at, p.id))
        self._next_product = 0
        self._next_item = 0
        self._next_removal = 0
        for viewer in world.viewers:
            engine.add_viewer(viewer)

    def advance(self, until: float) -> None:
        """Publish the products, items and moderation removals that happened by `until`."""
        products, items, removals = self._products, self.world.items, self.world.removals
        while (
            self._next_product < len(products) and products[self._next_product].listed_at <= until
        ):
            self.engine.add_product(products[self._next_product])
            self._next_product += 1
        while self._next_item < len(items) and items[self._next_item].published_at <= until:
            self.engine.add_item(items[self._next_item])
            self._next_item += 1
        while self._next_removal < len(removals) and removals[self._next_removal][1] <= until:
            self.engine.remove_item(removals[self._next_removal][0])
            self._next_removal += 1

    def record(self, signal: Signal) -> None:
        self.advance(signal.at)
        self.engine.record(signal)


def build_engine(
    world: SimWorld,
    *,
    until: float,
    signals: Sequence[Signal],
    cursor_secret: str = "offline-evaluation",
    weights: Weights | None = None,
    seed: int = 0,
) -> FeedEngine:
    """An engine that knows the world as it stood at `until`, trained by replaying `signals`."""
    return replay_until(
        world, until=until, signals=signals, cursor_secret=cursor_secret, weights=weights, seed=seed
    ).engine


def replay_until(
    world: SimWorld,
    *,
    until: float,
    signals: Sequence[Signal],
    cursor_secret: str = "offline-evaluation",
    weights: Weights | None = None,
    seed: int = 0,
) -> Replay:
    engine = FeedEngine(
        world.markets,
        cursor_secret=cursor_secret,
        weights=weights,
        clock=lambda: until,
        seed=seed,
    )
    replay = Replay(world, engine)
    for signal in signals:
        if signal.at >= until:
            break
        replay.record(signal)
    replay.advance(until)
    return replay


@dataclass(frozen=True, slots=True)
class Evaluation:
    viewers: int
    relevant_per_viewer: float
    ndcg10: float
    recall50: float
    popularity_ndcg10: float
    popularity_recall50: float


def evaluate(
    world: SimWorld,
    engine: FeedEngine,
    *,
    max_viewers: int = 1_000,
    seed: int = 0,
    page_size: int = 25,
    popularity_window_days: float = 2.0,
) -> Evaluation:
    """Score the feed and a per-market popularity ranking on the held-back log.

    Both rankings skip what the viewer already interacted with in training and what the
    viewer could not be shown at the split (not yet published, not buyable in the market,
    removed, a blocked creator's, a live room that had ended).
    """
    split = world.split_at
    window_start = split - popularity_window_days * 86_400
    training = world.training()
    viewers = {v.id: v for v in world.viewers}
    creator_of = {item.id: item.creator_id for item in world.items}
    touched: dict[str, set[str]] = {}
    popularity: dict[str, Counter[str]] = {m: Counter() for m in world.markets}
    for signal in training:
        touched.setdefault(signal.viewer_id, set()).add(signal.item_id)
        if signal.kind in RELEVANCE and signal.at >= window_start:
            popularity[viewers[signal.viewer_id].market][signal.item_id] += 1

    relevance: dict[str, dict[str, int]] = {}
    for signal in world.held_back():
        grade = RELEVANCE.get(signal.kind, 0)
        viewer = viewers[signal.viewer_id]
        if grade == 0 or signal.item_id in touched.get(viewer.id, ()):
            continue
        if creator_of[signal.item_id] in viewer.blocked or not engine.is_visible(
            signal.item_id, viewer.market, at=split
        ):
            continue
        grades = relevance.setdefault(viewer.id, {})
        grades[signal.item_id] = max(grade, grades.get(signal.item_id, 0))

    popular = {
        market: [
            item_id
            for item_id, _ in counts.most_common()
            if engine.is_visible(item_id, market, at=split)
        ]
        for market, counts in popularity.items()
    }
    chosen = sorted(relevance)
    random.Random(seed).shuffle(chosen)
    chosen = chosen[:max_viewers]

    sums = dict.fromkeys(("ndcg", "recall", "pop_ndcg", "pop_recall", "relevant"), 0.0)
    for viewer_id in chosen:
        viewer = viewers[viewer_id]
        grades = relevance[viewer_id]
        feed = _feed_items(engine, viewer_id, viewer.market, split, page_size, 50)
        seen = touched.get(viewer_id, set())
        baseline = list(
            itertools.islice(
                (
                    item_id
                    for item_id in popular[viewer.market]
                    if item_id not in seen and creator_of[item_id] not in viewer.blocked
                ),
                50,
            )
        )
        sums["ndcg"] += ndcg_at_k(feed, grades, 10)
        sums["recall"] += recall_at_k(feed, list(grades), 50)
        sums["pop_ndcg"] += ndcg_at_k(baseline, grades, 10)
        sums["pop_recall"] += recall_at_k(baseline, list(grades), 50)
        sums["relevant"] += len(grades)
    n = max(1, len(chosen))
    return Evaluation(
        viewers=len(chosen),
        relevant_per_viewer=sums["relevant"] / n,
        ndcg10=sums["ndcg"] / n,
        recall50=sums["recall"] / n,
        popularity_ndcg10=sums["pop_ndcg"] / n,
        popularity_recall50=sums["pop_recall"] / n,
    )


def _feed_items(
    engine: FeedEngine, viewer_id: str, market: str, now: float, page_size: int, want: int
) -> list[str]:
    out: list[str] = []
    cursor: str | None = None
    while len(out) < want:
        page = engine.feed(viewer_id, market, page_size=page_size, cursor=cursor, now=now)
        out.extend(page.item_ids)
        cursor = page.next_cursor
        if cursor is None:
            break
    return out[:want]
