"""The simulated world is reproducible from its seed and obeys the platform's rules."""

from __future__ import annotations

import functools

from liveloop.discovery.ranking import ItemKind
from liveloop.discovery.signals import SignalKind
from liveloop.discovery.simulate import DAY, START, SimWorld, WorldConfig, build_world

SMALL = WorldConfig(seed=3, viewers=120, videos=600, days=4, sessions_per_day=1.5)


@functools.cache
def small_world() -> SimWorld:
    return build_world(SMALL)


def test_the_same_seed_builds_the_same_world() -> None:
    again = build_world(SMALL)

    assert again.fingerprint() == small_world().fingerprint()
    assert again.signals == small_world().signals


def test_another_seed_builds_another_world() -> None:
    other = build_world(WorldConfig(seed=4, viewers=120, videos=600, days=4))

    assert other.fingerprint() != small_world().fingerprint()


def test_world_has_the_configured_size_and_a_time_split() -> None:
    world = small_world()

    assert len(world.viewers) == 120
    assert sum(item.kind is ItemKind.VIDEO for item in world.items) == 600
    assert sum(item.kind is ItemKind.LIVE for item in world.items) == 18
    assert (world.start, world.split_at, world.end) == (START, START + 3 * DAY, START + 4 * DAY)
    training, held_back = world.training(), world.held_back()
    assert training + held_back == world.signals
    assert all(s.at < world.split_at for s in training)
    assert all(s.at >= world.split_at for s in held_back)
    assert [s.at for s in world.signals] == sorted(s.at for s in world.signals)
    assert {s.kind for s in world.signals} == set(SignalKind)


def test_every_interaction_is_one_the_platform_could_have_shown() -> None:
    world = small_world()
    items = {item.id: item for item in world.items}
    markets = {product.id: product.markets for product in world.products}
    viewers = {viewer.id: viewer for viewer in world.viewers}
    removed = dict(world.removals)

    for s in world.signals:
        item, viewer = items[s.item_id], viewers[s.viewer_id]
        assert item.published_at <= s.at
        assert all(viewer.market in markets[p] for p in item.product_ids)
        assert item.creator_id not in viewer.blocked
        assert removed.get(item.id, float("inf")) > s.at - 60
        if s.product_id is not None:
            assert s.product_id in item.product_ids


def test_viewers_engage_more_with_their_hidden_favourite_categories() -> None:
    world = small_world()
    items = {item.id: item for item in world.items}
    liked = favourite = 0
    for s in world.signals:
        if s.kind is SignalKind.PURCHASE:
            liked += 1
            taste = world.tastes[s.viewer_id].categories
            favourite += taste[items[s.item_id].category] > 0.05

    assert liked > 100
    assert favourite / liked > 0.8
