"""The For You feed engine: in-memory engagement state, candidates and transparent scoring."""

from __future__ import annotations

import heapq
import itertools
import math
import random
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from liveloop.discovery.errors import (
    CursorExpired,
    InvalidCursor,
    InvalidPageSize,
    UnknownItem,
    UnknownMarket,
    UnknownViewer,
)
from liveloop.discovery.signals import COMPONENTS, Signal, SignalKind, Weights, load_weights
from liveloop.kit.signing import BadSignature, Signer

HOUR = 3600.0
DAY = 24 * HOUR
MAX_PAGE_SIZE = 100
FOLLOWED_CREATORS_CONSIDERED = 30
# Forward-decayed sums grow as 2**(elapsed / half-life); past this exponent we rebase them.
_REBASE_EXPONENT = 50.0


class ItemKind(StrEnum):
    VIDEO = "video"
    LIVE = "live"


class Source(StrEnum):
    """Why an item became a candidate; the first source that finds it names it."""

    LIVE = "live"
    FOLLOWED = "followed"
    SIMILAR_CREATOR = "similar_creator"
    SIMILAR_PRODUCT = "similar_product"
    SIMILAR_HASHTAG = "similar_hashtag"
    SIMILAR_CATEGORY = "similar_category"
    TRENDING = "trending"
    RECENT = "recent"
    EXPLORATION = "exploration"


@dataclass(frozen=True, slots=True)
class Product:
    """A product as the feed needs it: where it can be bought, and since when it is listed."""

    id: str
    markets: frozenset[str]
    listed_at: float


@dataclass(frozen=True, slots=True)
class Item:
    """A shoppable video or a live room; times are UTC POSIX seconds.

    A live room is live from `live_start` (or `published_at`) until `live_end`; an ended room
    leaves the feed (its replay comes back as a video item).
    """

    id: str
    creator_id: str
    category: str
    published_at: float
    kind: ItemKind = ItemKind.VIDEO
    product_ids: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    live_start: float | None = None
    live_end: float | None = None


@dataclass(frozen=True, slots=True)
class Viewer:
    id: str
    market: str
    follows: frozenset[str] = frozenset()
    blocked: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One served item with the reason it is there: its source and each weighted component."""

    item_id: str
    kind: ItemKind
    creator_id: str
    category: str
    source: Source
    score: float
    contributions: Mapping[str, float]
    live: str | None = None
    """`live_now` or `starting_soon` for live rooms, else None."""


@dataclass(frozen=True, slots=True)
class FeedPage:
    viewer_id: str
    market: str
    page: int
    entries: tuple[FeedEntry, ...]
    next_cursor: str | None

    @property
    def item_ids(self) -> list[str]:
        return [entry.item_id for entry in self.entries]


class _TopK:
    """The `cap` highest scores among keys whose scores only grow, kept up to date per offer."""

    __slots__ = ("_heap", "_ranked", "cap", "members")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.members: dict[str, float] = {}
        # A min-heap with stale entries; an entry is live when it matches `members`.
        self._heap: list[tuple[float, str]] = []
        self._ranked: list[str] | None = None

    def offer(self, key: str, score: float) -> None:
        members = self.members
        heap = self._heap
        if key not in members and len(members) >= self.cap:
            while heap and members.get(heap[0][1]) != heap[0][0]:
                heapq.heappop(heap)
            if not heap or score <= heap[0][0]:
                return
            del members[heapq.heappop(heap)[1]]
        members[key] = score
        heapq.heappush(heap, (score, key))
        self._ranked = None
        if len(heap) > 4 * self.cap:
            self._heap = [(s, k) for k, s in members.items()]
            heapq.heapify(self._heap)

    def ranked(self) -> list[str]:
        if self._ranked is None:
            members = self.members
            self._ranked = sorted(members, key=lambda k: (-members[k], k))
        return self._ranked

    def top_score(self) -> float:
        ranked = self.ranked()
        return self.members[ranked[0]] if ranked else 0.0

    def rescale(self, factor: float) -> None:
        self.members = {k: s * factor for k, s in self.members.items()}
        self._heap = [(s, k) for k, s in self.members.items()]
        heapq.heapify(self._heap)
        self._ranked = None


class _ItemState:
    __slots__ = ("item", "markets", "new_until", "quality_sum", "removed", "views")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.markets: frozenset[str] = frozenset()
        self.new_until = 0.0
        self.views = 0
        self.quality_sum = 0.0
        self.removed = False


class _ViewerState:
    __slots__ = (
        "blocked",
        "category_aff",
        "creator_aff",
        "follows",
        "hashtag_aff",
        "hidden",
        "market",
        "product_aff",
        "seen",
    )

    def __init__(self, viewer: Viewer) -> None:
        self.market = viewer.market
        self.follows = set(viewer.follows)
        self.blocked = set(viewer.blocked)
        # Forward-decayed affinities: comparable with each other at any time without decaying.
        self.creator_aff: dict[str, float] = {}
        self.category_aff: dict[str, float] = {}
        self.hashtag_aff: dict[str, float] = {}
        self.product_aff: dict[str, float] = {}
        self.seen: set[str] = set()
        self.hidden: set[str] = set()


@dataclass(slots=True)
class _Session:
    id: str
    number: int
    viewer_id: str
    market: str
    created: float
    pages: list[tuple[FeedEntry, ...]] = field(default_factory=list)
    has_more: list[bool] = field(default_factory=list)
    served: set[str] = field(default_factory=set)
    tail: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _ScoreContext:
    now: float
    market: str
    follows: set[str]
    creator_aff: dict[str, float]
    category_aff: dict[str, float]
    hashtag_aff: dict[str, float]
    inv_creator: float
    inv_category: float
    inv_hashtag: float
    trend: dict[str, float]
    inv_trend_top: float


class FeedEngine:
    """Keeps every feed input in memory, updated per signal, and ranks a page on request.

    Not thread-safe: call it from one thread (an asyncio service calls it between awaits).
    """

    def __init__(
        self,
        markets: Iterable[str],
        *,
        cursor_secret: str,
        weights: Weights | None = None,
        clock: Callable[[], float] = time.time,
        seed: int = 0,
        max_sessions: int = 100_000,
        session_ttl_seconds: float = 6 * HOUR,
    ) -> None:
        self._markets = frozenset(markets)
        if not self._markets:
            raise ValueError("the feed needs at least one market")
        self._weights = weights or load_weights()
        self._ranking = self._weights.ranking
        self._signal_weights = self._weights.signals
        self._clock = clock
        self._seed = seed
        self._signer = Signer(cursor_secret, salt="liveloop.discovery.feed-cursor")
        r = self._ranking
        self._k_trend = math.log(2) / (r.trending_half_life_hours * HOUR)
        self._k_aff = math.log(2) / (r.affinity_half_life_hours * HOUR)
        self._k_fresh = math.log(2) / (r.freshness_half_life_hours * HOUR)
        self._soon = r.starting_soon_minutes * 60.0
        self._component_weights = tuple(r.components[name] for name in COMPONENTS)
        self._epoch: float | None = None

        self._products: dict[str, Product] = {}
        self._product_items: dict[str, list[str]] = {}
        self._items: dict[str, _ItemState] = {}
        self._creator_items: dict[str, list[str]] = {}
        self._creator_first: dict[str, float] = {}
        self._viewers: dict[str, _ViewerState] = {}

        self._trend: dict[str, dict[str, float]] = {m: {} for m in self._markets}
        self._trend_top = {m: _TopK(r.trending_top_size) for m in self._markets}
        self._category_top: dict[tuple[str, str], _TopK] = {}
        self._hashtag_top: dict[tuple[str, str], _TopK] = {}
        self._recent: dict[str, deque[str]] = {
            m: deque(maxlen=r.recent_size) for m in self._markets
        }
        self._fresh: dict[str, deque[str]] = {m: deque(maxlen=r.recent_size) for m in self._markets}
        self._category_recent: dict[str, deque[str]] = {}
        # Dicts rather than sets so iteration order, and so the feed, is reproducible.
        self._live: dict[str, dict[str, None]] = {m: {} for m in self._markets}

        self._sessions: OrderedDict[str, _Session] = OrderedDict()
        self._session_numbers = itertools.count(1)
        self._instance = secrets.token_hex(4)
        self._max_sessions = max_sessions
        self._session_ttl = session_ttl_seconds

    # -- catalogue -------------------------------------------------------------------------

    @property
    def markets(self) -> frozenset[str]:
        return self._markets

    def add_product(self, product: Product) -> None:
        """Add a product or change where it can be bought; items that tag it follow at once."""
        self._products[product.id] = product
        for item_id in self._product_items.get(product.id, ()):
            state = self._items[item_id]
            self._list_in(state, self._index_markets(state))

    def add_item(self, item: Item) -> None:
        """Add an item, or update it (products, live end) keeping its engagement history."""
        state = self._items.get(item.id)
        if state is not None:
            old = state.item
            if (old.creator_id, old.category, old.hashtags) != (
                item.creator_id,
                item.category,
                item.hashtags,
            ):
                raise ValueError(f"item {item.id!r}: creator, category and hashtags are fixed")
            for product_id in old.product_ids:
                self._product_items[product_id].remove(item.id)
            state.item = item
        else:
            state = _ItemState(item)
            self._items[item.id] = state
            self._creator_items.setdefault(item.creator_id, []).append(item.id)
            first = self._creator_first.get(item.creator_id)
            if first is None or item.published_at < first:
                self._creator_first[item.creator_id] = item.published_at
            recent = self._category_recent.get(item.category)
            if recent is None:
                recent = deque(maxlen=self._ranking.category_top_size)
                self._category_recent[item.category] = recent
            recent.append(item.id)
        for product_id in item.product_ids:
            self._product_items.setdefault(product_id, []).append(item.id)
        r = self._ranking
        newest_listing = max(
            (self._products[p].listed_at for p in item.product_ids if p in self._products),
            default=-math.inf,
        )
        state.new_until = max(
            self._creator_first[item.creator_id] + r.new_creator_days * DAY,
            newest_listing + r.new_product_days * DAY,
        )
        self._list_in(state, self._index_markets(state))

    def _index_markets(self, state: _ItemState) -> frozenset[str]:
        """Recompute where the item is buyable; returns the markets it has just entered."""
        markets = self._markets
        for product_id in state.item.product_ids:
            product = self._products.get(product_id)
            # A product we do not know yet cannot be shown as buyable anywhere.
            markets = markets & product.markets if product is not None else frozenset()
        gained = markets - state.markets
        state.markets = markets
        return gained

    def _list_in(self, state: _ItemState, markets: Iterable[str]) -> None:
        # Lists an item in the per-market recency lists of markets it entered; an item that
        # leaves a market stays listed there and is filtered out when read.
        item = state.item
        for market in sorted(markets):
            self._recent[market].append(item.id)
            if state.new_until > item.published_at:
                self._fresh[market].append(item.id)
            if item.kind is ItemKind.LIVE:
                self._live[market][item.id] = None

    def remove_item(self, item_id: str) -> None:
        """Moderation took the item down: it never appears again, even on a replayed page."""
        self._item_state(item_id).removed = True

    def restore_item(self, item_id: str) -> None:
        self._item_state(item_id).removed = False

    # -- viewers ---------------------------------------------------------------------------

    def add_viewer(self, viewer: Viewer) -> None:
        """Add a viewer, or replace their market, follows and blocks keeping their history."""
        if viewer.market not in self._markets:
            raise UnknownMarket(f"Market {viewer.market!r} is not served by the feed.")
        state = self._viewers.get(viewer.id)
        if state is None:
            self._viewers[viewer.id] = _ViewerState(viewer)
        else:
            state.market = viewer.market
            state.follows = set(viewer.follows)
            state.blocked = set(viewer.blocked)

    def follow(self, viewer_id: str, creator_id: str) -> None:
        self._viewer_state(viewer_id).follows.add(creator_id)

    def unfollow(self, viewer_id: str, creator_id: str) -> None:
        self._viewer_state(viewer_id).follows.discard(creator_id)

    def block(self, viewer_id: str, creator_id: str) -> None:
        state = self._viewer_state(viewer_id)
        state.blocked.add(creator_id)
        state.follows.discard(creator_id)

    def unblock(self, viewer_id: str, creator_id: str) -> None:
        self._viewer_state(viewer_id).blocked.discard(creator_id)

    # -- signals ---------------------------------------------------------------------------

    def record(self, signal: Signal) -> None:
        """Fold one signal into the state; the very next feed call reflects it."""
        viewer = self._viewer_state(signal.viewer_id)
        state = self._item_state(signal.item_id)
        weight = self._signal_weights[signal.kind]
        item = state.item
        at = signal.at
        if self._epoch is None:
            self._epoch = at
        elif (at - self._epoch) * self._k_trend > _REBASE_EXPONENT * math.log(2):
            self._rebase(at)
        elapsed = at - self._epoch

        if weight.views:
            state.views += 1
        state.quality_sum += weight.quality

        market = viewer.market
        if weight.trending > 0 and market in state.markets:
            scores = self._trend[market]
            score = scores.get(item.id, 0.0) + weight.trending * math.exp(elapsed * self._k_trend)
            scores[item.id] = score
            self._trend_top[market].offer(item.id, score)
            self._top_for(self._category_top, market, item.category).offer(item.id, score)
            for tag in item.hashtags:
                self._top_for(self._hashtag_top, market, tag).offer(item.id, score)

        if weight.affinity:
            amount = weight.affinity * math.exp(elapsed * self._k_aff)
            _add(viewer.creator_aff, item.creator_id, amount)
            _add(viewer.category_aff, item.category, amount)
            for tag in item.hashtags:
                _add(viewer.hashtag_aff, tag, amount)
            if signal.product_id is not None:
                _add(viewer.product_aff, signal.product_id, amount)

        viewer.seen.add(item.id)
        if signal.kind is SignalKind.NOT_INTERESTED:
            viewer.hidden.add(item.id)

    def _top_for(self, tops: dict[tuple[str, str], _TopK], market: str, key: str) -> _TopK:
        top = tops.get((market, key))
        if top is None:
            top = tops[(market, key)] = _TopK(self._ranking.category_top_size)
        return top

    def _rebase(self, at: float) -> None:
        assert self._epoch is not None
        elapsed = at - self._epoch
        trend_factor = math.exp(-elapsed * self._k_trend)
        aff_factor = math.exp(-elapsed * self._k_aff)
        for market, scores in self._trend.items():
            self._trend[market] = {k: s * trend_factor for k, s in scores.items()}
        for top in itertools.chain(
            self._trend_top.values(), self._category_top.values(), self._hashtag_top.values()
        ):
            top.rescale(trend_factor)
        for viewer in self._viewers.values():
            for affinity in (
                viewer.creator_aff,
                viewer.category_aff,
                viewer.hashtag_aff,
                viewer.product_aff,
            ):
                for key in affinity:
                    affinity[key] *= aff_factor
        self._epoch = at

    # -- reading ---------------------------------------------------------------------------

    def is_visible(self, item_id: str, market: str, *, at: float) -> bool:
        """Whether any viewer in `market` may be shown the item at `at` (before personal rules)."""
        state = self._items.get(item_id)
        return state is not None and self._visible(state, market, at, set())

    def trending(self, market: str, limit: int, *, at: float | None = None) -> list[str]:
        """The market's visible items by decayed engagement, highest first."""
        self._check_market(market)
        now = self._clock() if at is None else at
        out: list[str] = []
        for item_id in self._trend_top[market].ranked():
            if len(out) >= limit:
                break
            if self._visible(self._items[item_id], market, now, set()):
                out.append(item_id)
        return out

    def feed(
        self,
        viewer_id: str,
        market: str,
        *,
        page_size: int = 20,
        cursor: str | None = None,
        now: float | None = None,
    ) -> FeedPage:
        """One page of the viewer's For You feed in `market`; pass `next_cursor` for the next.

        Later pages are ranked afresh from the current state (so signals sent while scrolling
        count at once) but never repeat an item of the same feed session.
        """
        self._check_market(market)
        viewer = self._viewer_state(viewer_id)
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidPageSize(f"page_size must be between 1 and {MAX_PAGE_SIZE}.")
        now = self._clock() if now is None else now
        if cursor is None:
            session = self._new_session(viewer_id, market, now)
            page_no = 0
        else:
            session, page_no = self._resume(cursor, viewer_id, market, now)
            if page_no < len(session.pages):
                return self._replay(session, viewer, page_no, now)
        entries = self._rank_page(viewer, market, session, page_size, now)
        session.pages.append(entries)
        session.has_more.append(len(entries) == page_size)
        for entry in entries:
            session.served.add(entry.item_id)
            session.tail.append((entry.creator_id, entry.category))
        del session.tail[: -max(2, self._ranking.max_category_run)]
        return FeedPage(viewer_id, market, page_no, entries, self._cursor_after(session, page_no))

    # -- sessions and cursors --------------------------------------------------------------

    def _new_session(self, viewer_id: str, market: str, now: float) -> _Session:
        number = next(self._session_numbers)
        session = _Session(f"{self._instance}-{number}", number, viewer_id, market, now)
        self._sessions[session.id] = session
        while len(self._sessions) > self._max_sessions:
            self._sessions.popitem(last=False)
        return session

    def _cursor_after(self, session: _Session, page_no: int) -> str | None:
        if not session.has_more[page_no]:
            return None
        payload = {"s": session.id, "v": session.viewer_id, "m": session.market, "p": page_no + 1}
        return self._signer.dumps(payload)

    def _resume(self, cursor: str, viewer_id: str, market: str, now: float) -> tuple[_Session, int]:
        try:
            payload = self._signer.loads(cursor)
        except BadSignature:
            raise InvalidCursor(
                "The page cursor was altered or is not one this feed issued."
            ) from None
        if (
            not isinstance(payload, dict)
            or set(payload) != {"s", "v", "m", "p"}
            or not isinstance(payload["s"], str)
            or not isinstance(payload["p"], int)
            or payload["p"] < 1
        ):
            raise InvalidCursor("The page cursor is malformed.")
        if payload["v"] != viewer_id or payload["m"] != market:
            raise InvalidCursor("The page cursor belongs to another viewer's or market's feed.")
        session = self._sessions.get(payload["s"])
        if session is None or now - session.created > self._session_ttl:
            self._sessions.pop(payload["s"], None)
            raise CursorExpired("This feed session has expired; load the first page again.")
        page_no: int = payload["p"]
        if page_no > len(session.pages):
            raise InvalidCursor("The page cursor points past the pages served so far.")
        self._sessions.move_to_end(session.id)
        return session, page_no

    def _replay(
        self, session: _Session, viewer: _ViewerState, page_no: int, now: float
    ) -> FeedPage:
        # A retried request gets the same page, minus whatever became unshowable meanwhile.
        entries = tuple(
            entry
            for entry in session.pages[page_no]
            if entry.item_id not in viewer.hidden
            and self._visible(self._items[entry.item_id], session.market, now, viewer.blocked)
        )
        return FeedPage(
            session.viewer_id,
            session.market,
            page_no,
            entries,
            self._cursor_after(session, page_no),
        )

    # -- ranking ---------------------------------------------------------------------------

    def _rank_page(
        self,
        viewer: _ViewerState,
        market: str,
        session: _Session,
        page_size: int,
        now: float,
    ) -> tuple[FeedEntry, ...]:
        ctx = self._context(viewer, market, now)
        candidates = self._candidates(viewer, market, session, now)
        items = self._items
        score = self._score
        components = self._components
        scored = [(-score(components(items[i], ctx)), i) for i in candidates]
        scored.sort()

        n_explore = round(page_size * self._ranking.exploration_share)
        explore = self._exploration(viewer, market, session, now, ctx, n_explore)
        main = [item_id for _, item_id in scored if item_id not in explore]

        order = self._diversify(main, explore, session.tail, page_size, n_explore)
        entries = []
        for item_id in order:
            state = items[item_id]
            parts = components(state, ctx)
            source = Source.EXPLORATION if item_id in explore else candidates[item_id]
            entries.append(
                FeedEntry(
                    item_id=item_id,
                    kind=state.item.kind,
                    creator_id=state.item.creator_id,
                    category=state.item.category,
                    source=source,
                    score=score(parts),
                    contributions={
                        name: w * p
                        for name, w, p in zip(
                            COMPONENTS, self._component_weights, parts, strict=True
                        )
                    },
                    live=_live_status(state.item, now, self._soon),
                )
            )
        return tuple(entries)

    def _context(self, viewer: _ViewerState, market: str, now: float) -> _ScoreContext:
        prior = self._ranking.affinity_prior
        if self._epoch is not None:
            prior *= math.exp((now - self._epoch) * self._k_aff)
        top = self._trend_top[market].top_score()
        return _ScoreContext(
            now=now,
            market=market,
            follows=viewer.follows,
            creator_aff=viewer.creator_aff,
            category_aff=viewer.category_aff,
            hashtag_aff=viewer.hashtag_aff,
            inv_creator=1.0 / (_max_positive(viewer.creator_aff) + prior),
            inv_category=1.0 / (_max_positive(viewer.category_aff) + prior),
            inv_hashtag=1.0 / (_max_positive(viewer.hashtag_aff) + prior),
            trend=self._trend[market],
            inv_trend_top=1.0 / top if top > 0 else 0.0,
        )

    def _score(self, parts: tuple[float, ...]) -> float:
        """The weighted sum of the components: the whole of the feed's score."""
        w1, w2, w3, w4, w5, w6, w7, w8, w9 = self._component_weights
        p1, p2, p3, p4, p5, p6, p7, p8, p9 = parts
        return (
            w1 * p1 + w2 * p2 + w3 * p3 + w4 * p4 + w5 * p5 + w6 * p6 + w7 * p7 + w8 * p8 + w9 * p9
        )

    def _components(self, state: _ItemState, ctx: _ScoreContext) -> tuple[float, ...]:
        """The item's normalised score components, in `COMPONENTS` order."""
        item = state.item
        r = self._ranking
        creator = _clamp(ctx.creator_aff.get(item.creator_id, 0.0) * ctx.inv_creator)
        category = _clamp(ctx.category_aff.get(item.category, 0.0) * ctx.inv_category)
        hashtag = 0.0
        tag_aff = ctx.hashtag_aff
        for tag in item.hashtags:
            value = tag_aff.get(tag, 0.0)
            if value > hashtag:
                hashtag = value
        hashtag = _clamp(hashtag * ctx.inv_hashtag)
        followed = 1.0 if item.creator_id in ctx.follows else 0.0
        trend = ctx.trend.get(item.id, 0.0) * ctx.inv_trend_top
        trending = trend**r.trending_power if trend > 0 else 0.0
        rate = (state.quality_sum + r.quality_prior_rate * r.quality_prior_views) / (
            state.views + r.quality_prior_views
        )
        quality = rate / (abs(rate) + r.quality_half)
        age = ctx.now - item.published_at
        freshness = math.exp(-age * self._k_fresh) if age > 0 else 1.0
        live = _live_status(item, ctx.now, self._soon) if item.kind is ItemKind.LIVE else None
        return (
            creator,
            category,
            hashtag,
            followed,
            trending,
            quality,
            freshness,
            1.0 if live == "live_now" else 0.0,
            1.0 if live == "starting_soon" else 0.0,
        )

    def _candidates(
        self, viewer: _ViewerState, market: str, session: _Session, now: float
    ) -> dict[str, Source]:
        depth = self._ranking.candidates
        extra = len(session.served)
        found: dict[str, Source] = {}
        items = self._items
        seen, hidden, served = viewer.seen, viewer.hidden, session.served
        blocked = viewer.blocked
        visible = self._visible

        def admit(ids: Iterable[str], source: Source, limit: int) -> None:
            added = 0
            for item_id in ids:
                if added >= limit:
                    return
                if item_id in found or item_id in seen or item_id in hidden or item_id in served:
                    continue
                if visible(items[item_id], market, now, blocked):
                    found[item_id] = source
                    added += 1

        live = self._live[market]
        ended = [i for i in live if _live_over(items[i].item, now)]
        for item_id in ended:
            del live[item_id]
        trend = self._trend[market]
        # Busy evenings can have thousands of rooms on air: take the most engaging ones.
        on_air = heapq.nlargest(depth["live"], live, key=lambda i: (trend.get(i, 0.0), i))
        admit(on_air, Source.LIVE, depth["live"])

        followed = heapq.nsmallest(
            FOLLOWED_CREATORS_CONSIDERED,
            viewer.follows,
            key=lambda c: (-viewer.creator_aff.get(c, 0.0), c),
        )
        for creator_id in followed:
            admit(
                reversed(self._creator_items.get(creator_id, ())),
                Source.FOLLOWED,
                depth["per_creator"],
            )
        for creator_id in _top_positive(viewer.creator_aff, depth["top_creators"]):
            admit(
                reversed(self._creator_items.get(creator_id, ())),
                Source.SIMILAR_CREATOR,
                depth["per_creator"],
            )
        for product_id in _top_positive(viewer.product_aff, depth["top_products"]):
            admit(
                reversed(self._product_items.get(product_id, ())),
                Source.SIMILAR_PRODUCT,
                depth["per_product"],
            )
        for tag in _top_positive(viewer.hashtag_aff, depth["top_hashtags"]):
            top = self._hashtag_top.get((market, tag))
            if top is not None:
                admit(top.ranked(), Source.SIMILAR_HASHTAG, depth["per_hashtag"] + extra // 4)
        for category in _top_positive(viewer.category_aff, depth["top_categories"]):
            top = self._category_top.get((market, category))
            if top is not None:
                admit(top.ranked(), Source.SIMILAR_CATEGORY, depth["per_category"] + extra // 2)
            admit(
                reversed(self._category_recent.get(category, ())),
                Source.SIMILAR_CATEGORY,
                depth["per_category_recent"] + extra // 4,
            )
        admit(self._trend_top[market].ranked(), Source.TRENDING, depth["trending"] + extra)
        admit(reversed(self._recent[market]), Source.RECENT, depth["recent"] + extra)
        return found

    def _exploration(
        self,
        viewer: _ViewerState,
        market: str,
        session: _Session,
        now: float,
        ctx: _ScoreContext,
        wanted: int,
    ) -> list[str]:
        """New creators' and new products' items that few have seen: a share of every page."""
        if wanted <= 0:
            return []
        r = self._ranking
        pool: list[str] = []
        pooled: set[str] = set()
        items = self._items
        for item_id in reversed(self._fresh[market]):
            if len(pool) >= r.candidates["exploration_pool"]:
                break
            state = items[item_id]
            if (
                item_id in pooled
                or state.new_until <= now
                or state.views >= r.exploration_max_views
                or item_id in viewer.seen
                or item_id in viewer.hidden
                or item_id in session.served
                or not self._visible(state, market, now, viewer.blocked)
            ):
                continue
            pool.append(item_id)
            pooled.add(item_id)
        if not pool:
            return []
        # Seeded per session and page, so a page is reproducible yet each session explores anew.
        rng = random.Random(
            f"{self._seed}:{session.viewer_id}:{session.number}:{len(session.pages)}"
        )
        sample = rng.sample(pool, min(len(pool), 4 * wanted))
        # Within the random draw, prefer what fits the viewer's taste (targeted exploration).
        sample.sort(key=lambda i: (-self._score(self._components(items[i], ctx)), i))
        return sample[:wanted]

    def _diversify(
        self,
        main: list[str],
        explore: list[str],
        tail: list[tuple[str, str]],
        page_size: int,
        n_explore: int,
    ) -> list[str]:
        """Fill the page best-first under the diversity rule, exploration at spaced slots."""
        items = self._items
        run = self._ranking.max_category_run
        recent = list(tail)
        slots = {(k + 1) * page_size // (n_explore + 1) for k in range(n_explore)}
        queue = list(explore)
        due = 0
        out: list[str] = []

        def take(pool: list[str]) -> str | None:
            for index, item_id in enumerate(pool):
                item = items[item_id].item
                if _fits(recent, item.creator_id, item.category, run):
                    return pool.pop(index)
            return None

        while len(out) < page_size:
            if len(out) in slots:
                due += 1
            pick = take(queue) if queue and (due > 0 or not main) else None
            if pick is None:
                pick = take(main)
                if pick is None and queue:
                    pick = take(queue)
            if pick is not None and pick in explore:
                due = max(0, due - 1)
            if pick is None:
                break
            out.append(pick)
            item = items[pick].item
            recent.append((item.creator_id, item.category))
        return out

    # -- checks ----------------------------------------------------------------------------

    def _visible(self, state: _ItemState, market: str, now: float, blocked: set[str]) -> bool:
        item = state.item
        if state.removed or market not in state.markets or item.published_at > now:
            return False
        if item.creator_id in blocked:
            return False
        return item.kind is not ItemKind.LIVE or _live_status(item, now, self._soon) is not None

    def _check_market(self, market: str) -> None:
        if market not in self._markets:
            raise UnknownMarket(f"Market {market!r} is not served by the feed.")

    def _viewer_state(self, viewer_id: str) -> _ViewerState:
        state = self._viewers.get(viewer_id)
        if state is None:
            raise UnknownViewer(f"No viewer {viewer_id!r} is known to the feed.")
        return state

    def _item_state(self, item_id: str) -> _ItemState:
        state = self._items.get(item_id)
        if state is None:
            raise UnknownItem(f"No item {item_id!r} is known to the feed.")
        return state


def _live_over(item: Item, now: float) -> bool:
    return item.live_end is not None and now >= item.live_end


def _live_status(item: Item, now: float, soon: float) -> str | None:
    if item.kind is not ItemKind.LIVE or _live_over(item, now):
        return None
    start = item.published_at if item.live_start is None else item.live_start
    if now >= start:
        return "live_now"
    if start - now <= soon:
        return "starting_soon"
    return None


def _fits(recent: list[tuple[str, str]], creator_id: str, category: str, run: int) -> bool:
    if recent and recent[-1][0] == creator_id:
        return False
    return not (len(recent) >= run and all(c == category for _, c in recent[-run:]))


def _top_positive(affinity: dict[str, float], n: int) -> Iterator[str]:
    best = heapq.nlargest(n, affinity.items(), key=lambda kv: (kv[1], kv[0]))
    return (key for key, value in best if value > 0)


def _max_positive(affinity: dict[str, float]) -> float:
    return max(0.0, max(affinity.values(), default=0.0))


def _add(affinity: dict[str, float], key: str, amount: float) -> None:
    affinity[key] = affinity.get(key, 0.0) + amount


def _clamp(value: float) -> float:
    return -1.0 if value < -1.0 else 1.0 if value > 1.0 else value
