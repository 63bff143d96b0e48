"""A reproducible simulated live-shopping world and its interaction log, for testing the feed.

Viewers have hidden tastes (categories, hashtags within them, favourite creators) that only
this module knows; they react to what a simple platform shows them (trending, their own
browsing, followed creators, recent uploads), and their reactions are the engagement log.
Everything is drawn from one seeded RNG, so a config always yields the same world.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from liveloop.discovery.ranking import Item, ItemKind, Product, Viewer
from liveloop.discovery.signals import Signal, SignalKind

HOUR = 3600.0
DAY = 24 * HOUR
START = 1_780_272_000.0
"""2026-06-01T00:00:00Z: the first moment of the simulated log."""

MARKET_SHARES: dict[str, float] = {
    "US": 0.28,
    "GB": 0.16,
    "DE": 0.14,
    "SG": 0.10,
    "MY": 0.16,
    "ID": 0.16,
}

# Where the simulated platform finds what it shows a viewer; the shares sum to one.
_EXPOSURE = (("hot", 0.30), ("taste", 0.30), ("followed", 0.10), ("recent", 0.30))


@dataclass(frozen=True, slots=True)
class WorldConfig:
    seed: int = 42
    viewers: int = 2_000
    videos: int = 10_000
    live_rooms: int | None = None
    """Live rooms on top of the videos; by default 3% of the videos."""
    creators: int | None = None
    """By default one creator per 20 videos."""
    markets: tuple[str, ...] = tuple(MARKET_SHARES)
    categories: int = 20
    hashtags_per_category: int = 5
    history_days: int = 21
    """Days of uploads before the log starts."""
    days: int = 14
    test_days: float = 1.0
    """The final stretch of the log held back as the test set."""
    sessions_per_day: float = 2.0
    items_per_session: int = 8


@dataclass(frozen=True, slots=True)
class HiddenTaste:
    """What a simulated viewer really likes; the feed never sees it."""

    categories: dict[str, float]
    hashtags: dict[str, str]
    """The preferred hashtag within each category."""
    creators: dict[str, float]


@dataclass(slots=True)
class SimWorld:
    config: WorldConfig
    markets: tuple[str, ...]
    products: list[Product]
    items: list[Item]
    """In order of publication."""
    viewers: list[Viewer]
    signals: list[Signal]
    """In time order."""
    removals: list[tuple[str, float]]
    """(item id, when moderation removed it)."""
    start: float
    split_at: float
    end: float
    tastes: dict[str, HiddenTaste] = field(repr=False)
    item_quality: dict[str, float] = field(repr=False)

    def training(self) -> list[Signal]:
        return self.signals[: bisect.bisect_left(self.signals, self.split_at, key=_at)]

    def held_back(self) -> list[Signal]:
        return self.signals[bisect.bisect_left(self.signals, self.split_at, key=_at) :]

    def fingerprint(self) -> str:
        """A digest of the whole world, to check that a seed reproduces it exactly."""
        digest = hashlib.sha256()
        for product in self.products:
            digest.update(f"{product.id}|{sorted(product.markets)}|{product.listed_at}\n".encode())
        for item in self.items:
            digest.update(f"{item}\n".encode())
        for viewer in self.viewers:
            digest.update(
                f"{viewer.id}|{viewer.market}|{sorted(viewer.follows)}|"
                f"{sorted(viewer.blocked)}\n".encode()
            )
        for s in self.signals:
            digest.update(f"{s.viewer_id}|{s.item_id}|{s.kind}|{s.at!r}|{s.product_id}\n".encode())
        for item_id, at in self.removals:
            digest.update(f"{item_id}|{at!r}\n".encode())
        return digest.hexdigest()


def _at(signal: Signal) -> float:
    return signal.at


@dataclass(slots=True)
class _Creator:
    id: str
    market: str
    categories: list[str]
    quality: float
    started_at: float
    ships_to: list[str]
    products: list[Product] = field(default_factory=list)
    product_categories: list[str] = field(default_factory=list)
    activity: float = 1.0
    items: list[int] = field(default_factory=list)
    item_times: list[float] = field(default_factory=list)


def build_world(config: WorldConfig) -> SimWorld:
    """Draw the whole world and its interaction log from `config.seed`."""
    rng = random.Random(config.seed)
    markets = config.markets
    start = START
    end = start + config.days * DAY
    categories = [f"cat{c:02d}" for c in range(config.categories)]
    # A few categories (fashion, beauty) dominate, as on real platforms.
    category_weights = [1.0 / (1 + c) ** 0.7 for c in range(config.categories)]
    hashtags = {
        cat: [f"{cat}-tag{t}" for t in range(config.hashtags_per_category)] for cat in categories
    }
    market_weights = [MARKET_SHARES.get(m, 0.1) for m in markets]

    creators = _creators(config, rng, categories, category_weights, markets, market_weights, end)
    products = [p for creator in creators for p in creator.products]
    items, quality = _items(config, rng, creators, hashtags, end)
    removals = sorted(
        (
            (item.id, item.published_at + rng.uniform(HOUR, 3 * DAY))
            for item in items
            if rng.random() < 0.003
        ),
        key=lambda r: (r[1], r[0]),
    )
    viewers, tastes = _viewers(
        config, rng, creators, categories, category_weights, hashtags, markets, market_weights
    )
    signals = _interactions(
        config, rng, creators, products, items, quality, viewers, tastes, removals, markets
    )
    return SimWorld(
        config=config,
        markets=markets,
        products=products,
        items=items,
        viewers=viewers,
        signals=signals,
        removals=removals,
        start=start,
        split_at=end - config.test_days * DAY,
        end=end,
        tastes=tastes,
        item_quality=quality,
    )


def _creators(
    config: WorldConfig,
    rng: random.Random,
    categories: list[str],
    category_weights: list[float],
    markets: Sequence[str],
    market_weights: list[float],
    end: float,
) -> list[_Creator]:
    count = config.creators or max(1, config.videos // 20)
    history = config.history_days * DAY
    creators = []
    for n in range(count):
        home = rng.choices(markets, market_weights)[0]
        primary = rng.choices(categories, category_weights)[0]
        own = [primary]
        if rng.random() < 0.3:
            second = rng.choice(categories)
            if second != primary:
                own.append(second)
        # Most creators predate the log; one in six joins during it (the "new creators").
        if rng.random() < 5 / 6:
            started = START - history + rng.random() * history * 0.8
        else:
            started = START + rng.random() * (end - START) * 0.9
        ships_to = [m for m in markets if m == home or rng.random() < 0.6]
        creator = _Creator(
            id=f"c{n:05d}",
            market=home,
            categories=own,
            quality=_clip(rng.betavariate(2.5, 2.5)),
            started_at=started,
            ships_to=ships_to,
            activity=rng.paretovariate(1.8),
        )
        for p in range(rng.randint(3, 8)):
            listed = started if p == 0 else started + rng.random() * (end - started)
            # Each product may miss a market the creator ships to (licensing, size, battery).
            sold_in = frozenset(m for m in ships_to if m == home or rng.random() > 0.1)
            creator.products.append(Product(f"p{n:05d}-{p}", sold_in, listed))
            creator.product_categories.append(rng.choice(own))
        creator.products.sort(key=lambda product: (product.listed_at, product.id))
        creators.append(creator)
    return creators


def _items(
    config: WorldConfig,
    rng: random.Random,
    creators: list[_Creator],
    hashtags: dict[str, list[str]],
    end: float,
) -> tuple[list[Item], dict[str, float]]:
    live_rooms = config.live_rooms if config.live_rooms is not None else round(config.videos * 0.03)
    activity = [c.activity for c in creators]
    drafts: list[tuple[float, _Creator, ItemKind]] = []
    for n in range(config.videos + live_rooms):
        creator = rng.choices(creators, activity)[0]
        kind = ItemKind.LIVE if n >= config.videos else ItemKind.VIDEO
        published = creator.started_at + rng.random() * (end - creator.started_at)
        drafts.append((published, creator, kind))
    drafts.sort(key=lambda d: (d[0], d[1].id))
    items: list[Item] = []
    quality: dict[str, float] = {}
    for index, (published, creator, kind) in enumerate(drafts):
        category = rng.choice(creator.categories)
        listed = [
            product
            for product, cat in zip(creator.products, creator.product_categories, strict=True)
            if product.listed_at <= published and cat == category
        ] or [creator.products[0]]
        chosen = rng.sample(listed, min(len(listed), rng.choice((1, 1, 2))))
        tags = rng.sample(hashtags[category], rng.choice((1, 2)))
        item_id = f"{'l' if kind is ItemKind.LIVE else 'v'}{index:06d}"
        live_start = live_end = None
        if kind is ItemKind.LIVE:
            live_start = published + rng.uniform(0, HOUR)
            live_end = live_start + rng.uniform(HOUR, 3 * HOUR)
        items.append(
            Item(
                id=item_id,
                creator_id=creator.id,
                category=category,
                published_at=published,
                kind=kind,
                product_ids=tuple(sorted(p.id for p in chosen)),
                hashtags=tuple(sorted(tags)),
                live_start=live_start,
                live_end=live_end,
            )
        )
        quality[item_id] = _clip(creator.quality + rng.gauss(0, 0.15))
        creator.items.append(index)
        creator.item_times.append(published)
    return items, quality


def _viewers(
    config: WorldConfig,
    rng: random.Random,
    creators: list[_Creator],
    categories: list[str],
    category_weights: list[float],
    hashtags: dict[str, list[str]],
    markets: Sequence[str],
    market_weights: list[float],
) -> tuple[list[Viewer], dict[str, HiddenTaste]]:
    by_category: dict[str, list[_Creator]] = {c: [] for c in categories}
    for creator in creators:
        for category in creator.categories:
            by_category[category].append(creator)
    viewers = []
    tastes = {}
    for n in range(config.viewers):
        viewer_id = f"u{n:05d}"
        market = rng.choices(markets, market_weights)[0]
        favourites: list[str] = []
        while len(favourites) < rng.choice((2, 2, 3)):
            category = rng.choices(categories, category_weights)[0]
            if category not in favourites:
                favourites.append(category)
        taste = {c: 0.05 for c in categories}
        for rank, category in enumerate(favourites):
            taste[category] = 1.0 / (1 + 0.35 * rank)
        preferred = {c: rng.choice(hashtags[c]) for c in categories}
        pool = [
            c for category in favourites for c in by_category[category] if market in c.ships_to
        ] or creators
        loved = {}
        for creator in rng.sample(pool, min(len(pool), rng.randint(3, 8))):
            loved[creator.id] = rng.uniform(0.5, 1.0)
        follows = {c for c in loved if rng.random() < 0.5}
        if rng.random() < 0.2:
            follows.add(rng.choice(creators).id)
        blocked = set()
        if rng.random() < 0.05:
            blocked.add(rng.choice(creators).id)
        viewers.append(Viewer(viewer_id, market, frozenset(follows - blocked), frozenset(blocked)))
        tastes[viewer_id] = HiddenTaste(taste, preferred, loved)
    return viewers, tastes


def _interactions(
    config: WorldConfig,
    rng: random.Random,
    creators: list[_Creator],
    products: list[Product],
    items: list[Item],
    quality: dict[str, float],
    viewers: list[Viewer],
    tastes: dict[str, HiddenTaste],
    removals: list[tuple[str, float]],
    markets: Sequence[str],
) -> list[Signal]:
    product_markets = {p.id: p.markets for p in products}
    sold_in: list[frozenset[str]] = []
    for item in items:
        where = frozenset(markets)
        for product_id in item.product_ids:
            where &= product_markets[product_id]
        sold_in.append(where)
    times = [item.published_at for item in items]
    by_market: dict[str, list[int]] = {m: [] for m in markets}
    by_market_category: dict[tuple[str, str], list[int]] = {}
    for index, item in enumerate(items):
        for market in sold_in[index]:
            by_market[market].append(index)
            by_market_category.setdefault((market, item.category), []).append(index)
    market_times = {m: [times[i] for i in ids] for m, ids in by_market.items()}
    category_times = {k: [times[i] for i in ids] for k, ids in by_market_category.items()}
    removed_at = dict(removals)
    creator_by_id = {c.id: c for c in creators}
    hot: dict[str, deque[int]] = {m: deque(maxlen=3000) for m in markets}
    seen: dict[str, set[int]] = {v.id: set() for v in viewers}
    activity = {v.id: rng.lognormvariate(0, 0.6) for v in viewers}
    exposure_names = [name for name, _ in _EXPOSURE]
    exposure_weights = [share for _, share in _EXPOSURE]

    def recency_pick(ids: list[int], pub: list[float], now: float) -> int | None:
        hi = bisect.bisect_right(pub, now)
        if hi == 0:
            return None
        # Recent uploads are shown far more than old ones: about four days' worth dominate.
        span = max(1.0, now - pub[0])
        mean = max(3.0, hi * 4 * DAY / span)
        back = int(rng.expovariate(1.0 / mean))
        return ids[hi - 1 - back] if back < hi else ids[rng.randrange(hi)]

    signals: list[Signal] = []
    for day in range(config.days):
        day_start = START + day * DAY
        todays: list[Signal] = []
        for viewer in viewers:
            taste = tastes[viewer.id]
            market = viewer.market
            taste_categories = list(taste.categories)
            taste_weights = list(taste.categories.values())
            follows = sorted(viewer.follows)
            viewer_seen = seen[viewer.id]
            for _ in range(_poisson(rng, config.sessions_per_day * activity[viewer.id])):
                now = day_start + rng.random() * DAY
                for _ in range(config.items_per_session):
                    now += rng.uniform(5, 60)
                    source = rng.choices(exposure_names, exposure_weights)[0]
                    pick: int | None = None
                    if source == "hot" and hot[market]:
                        pick = hot[market][rng.randrange(len(hot[market]))]
                    elif source == "taste":
                        category = rng.choices(taste_categories, taste_weights)[0]
                        key = (market, category)
                        if key in by_market_category:
                            pick = recency_pick(by_market_category[key], category_times[key], now)
                    elif source == "followed" and follows:
                        creator = creator_by_id[rng.choice(follows)]
                        hi = bisect.bisect_right(creator.item_times, now)
                        if hi:
                            pick = creator.items[hi - 1 - min(hi - 1, int(rng.expovariate(0.5)))]
                    if pick is None:
                        pick = recency_pick(by_market[market], market_times[market], now)
                    if pick is None or pick in viewer_seen:
                        continue
                    item = items[pick]
                    if (
                        item.published_at > now
                        or market not in sold_in[pick]
                        or item.creator_id in viewer.blocked
                        or removed_at.get(item.id, math.inf) <= now
                        or (
                            item.kind is ItemKind.LIVE
                            and not (item.live_start or 0.0) <= now < (item.live_end or 0.0)
                        )
                    ):
                        continue
                    viewer_seen.add(pick)
                    positive = _react(rng, viewer.id, item, quality[item.id], taste, now, todays)
                    if positive:
                        hot[market].append(pick)
        todays.sort(key=lambda s: (s.at, s.viewer_id, s.item_id))
        signals.extend(todays)
    return signals


def _react(
    rng: random.Random,
    viewer_id: str,
    item: Item,
    quality: float,
    taste: HiddenTaste,
    now: float,
    out: list[Signal],
) -> bool:
    """Append the viewer's reaction to one exposure; True if any of it was positive."""
    utility = (
        2.2 * taste.categories[item.category]
        + 1.2 * taste.creators.get(item.creator_id, 0.0)
        + (0.7 if taste.hashtags[item.category] in item.hashtags else 0.0)
        + 1.5 * (quality - 0.5)
        + rng.gauss(0.0, 0.6)
        - 1.4
    )
    if rng.random() < _sigmoid(-2.0 * utility):
        out.append(Signal(viewer_id, item.id, SignalKind.QUICK_SKIP, now + 1.0))
        if utility < -1.0 and rng.random() < 0.08:
            out.append(Signal(viewer_id, item.id, SignalKind.NOT_INTERESTED, now + 2.0))
        return False
    completed = rng.random() < _sigmoid(1.5 * utility + 0.3)
    kind = SignalKind.COMPLETE if completed else SignalKind.VIEW
    out.append(Signal(viewer_id, item.id, kind, now + 15.0))
    positive = completed
    for extra, offset in (
        (SignalKind.LIKE, -1.5),
        (SignalKind.COMMENT, -3.0),
        (SignalKind.SHARE, -3.5),
    ):
        if rng.random() < _sigmoid(1.5 * utility + offset):
            out.append(Signal(viewer_id, item.id, extra, now + 16.0))
            positive = True
    if item.product_ids and rng.random() < _sigmoid(1.5 * utility - 2.0):
        product_id = rng.choice(item.product_ids)
        out.append(Signal(viewer_id, item.id, SignalKind.TAG_TAP, now + 17.0, product_id))
        positive = True
        if rng.random() < _sigmoid(1.2 * utility - 1.0):
            out.append(Signal(viewer_id, item.id, SignalKind.ADD_TO_CART, now + 20.0, product_id))
            if rng.random() < _sigmoid(utility - 1.0):
                out.append(Signal(viewer_id, item.id, SignalKind.PURCHASE, now + 40.0, product_id))
    return positive


def _poisson(rng: random.Random, mean: float) -> int:
    limit = math.exp(-mean)
    count = 0
    product = rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _clip(x: float) -> float:
    return min(1.0, max(0.0, x))
