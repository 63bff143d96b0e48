"""The feed engine's rules: filters, diversity, pagination, cursors, freshness of signals."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liveloop.discovery.errors import (
    CursorExpired,
    InvalidCursor,
    InvalidPageSize,
    UnknownItem,
    UnknownMarket,
    UnknownViewer,
)
from liveloop.discovery.ranking import (
    FeedEngine,
    FeedEntry,
    Item,
    ItemKind,
    Product,
    Source,
    Viewer,
    _TopK,
)
from liveloop.discovery.signals import Signal, SignalKind, Weights, load_weights

NOW = 1_790_000_000.0
HOUR = 3600.0
DAY = 24 * HOUR
WORLD = frozenset({"GB", "US", "DE"})


def weights(*, exploration_share: float) -> Weights:
    base = load_weights()
    ranking = dataclasses.replace(base.ranking, exploration_share=exploration_share)
    return dataclasses.replace(base, ranking=ranking)


NO_EXPLORATION = weights(exploration_share=0.0)


def engine(
    w: Weights | None = NO_EXPLORATION,
    *,
    max_sessions: int = 100_000,
    session_ttl_seconds: float = 6 * HOUR,
) -> FeedEngine:
    return FeedEngine(
        ["GB", "US", "DE"],
        cursor_secret="test-secret",
        weights=w,
        clock=lambda: NOW,
        max_sessions=max_sessions,
        session_ttl_seconds=session_ttl_seconds,
    )


def add(
    e: FeedEngine,
    item_id: str,
    *,
    creator: str | None = None,
    category: str | None = None,
    age_hours: float = 1.0,
    markets: Iterable[str] = WORLD,
    kind: ItemKind = ItemKind.VIDEO,
    live_start: float | None = None,
    live_end: float | None = None,
    hashtags: tuple[str, ...] = (),
) -> Item:
    product = Product(f"p-{item_id}", frozenset(markets), NOW - 60 * DAY)
    e.add_product(product)
    item = Item(
        id=item_id,
        creator_id=creator or f"c-{item_id}",
        category=category or f"cat-{item_id}",
        published_at=NOW - age_hours * HOUR,
        kind=kind,
        product_ids=(product.id,),
        hashtags=hashtags,
        live_start=live_start,
        live_end=live_end,
    )
    e.add_item(item)
    return item


def signal(viewer: str, item: str, kind: SignalKind, at: float = NOW - 60) -> Signal:
    return Signal(viewer, item, kind, at)


def engage(e: FeedEngine, viewer: str, item: str, times: int = 1) -> None:
    for n in range(times):
        e.record(signal(viewer, item, SignalKind.COMPLETE, NOW - 600 + n))
        e.record(signal(viewer, item, SignalKind.PURCHASE, NOW - 600 + n))


def all_pages(e: FeedEngine, viewer: str, market: str, page_size: int) -> list[list[FeedEntry]]:
    pages = []
    cursor = None
    for _ in range(1_000):
        page = e.feed(viewer, market, page_size=page_size, cursor=cursor)
        pages.append(list(page.entries))
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError("the feed never ended")


# -- filters -------------------------------------------------------------------------------


def test_only_items_whose_products_are_buyable_in_the_market_appear() -> None:
    e = engine()
    e.add_viewer(Viewer("gb", "GB"))
    e.add_viewer(Viewer("us", "US"))
    add(e, "everywhere")
    add(e, "us-only", markets={"US"})

    assert [x.item_id for x in e.feed("gb", "GB").entries] == ["everywhere"]
    assert sorted(e.feed("us", "US").item_ids) == ["everywhere", "us-only"]


def test_item_with_one_unbuyable_product_among_several_is_left_out() -> None:
    e = engine()
    e.add_viewer(Viewer("gb", "GB"))
    e.add_product(Product("bag", frozenset({"GB", "US"}), NOW - DAY))
    e.add_product(Product("lithium-torch", frozenset({"US"}), NOW - DAY))
    e.add_item(Item("haul", "c1", "bags", NOW - HOUR, product_ids=("bag", "lithium-torch")))

    assert e.feed("gb", "GB").entries == ()


def test_item_tagging_an_unknown_product_never_appears() -> None:
    e = engine()
    e.add_viewer(Viewer("gb", "GB"))
    e.add_item(Item("mystery", "c1", "bags", NOW - HOUR, product_ids=("not-loaded-yet",)))

    assert e.feed("gb", "GB").entries == ()
    assert not e.is_visible("mystery", "GB", at=NOW)


def test_a_product_leaving_a_market_takes_its_items_out_at_once() -> None:
    e = engine()
    e.add_viewer(Viewer("gb", "GB"))
    add(e, "scarf")
    assert e.feed("gb", "GB").item_ids == ["scarf"]

    e.add_product(Product("p-scarf", frozenset({"US"}), NOW - 60 * DAY))

    assert e.feed("gb", "GB").item_ids == []


def test_a_product_entering_a_market_brings_its_items_and_live_rooms_in() -> None:
    e = engine()
    e.add_viewer(Viewer("gb", "GB"))
    add(e, "scarf", markets={"US"})
    add(e, "scarf-live", markets={"US"}, kind=ItemKind.LIVE, live_start=NOW - 60)
    assert e.feed("gb", "GB").item_ids == []

    e.add_product(Product("p-scarf", frozenset({"US", "GB"}), NOW - 60 * DAY))
    e.add_product(Product("p-scarf-live", frozenset({"US", "GB"}), NOW - 60 * DAY))

    page = e.feed("gb", "GB")
    assert page.item_ids == ["scarf-live", "scarf"]
    assert page.entries[0].source is Source.LIVE


def test_blocked_creator_never_appears_even_when_trending() -> None:
    e = engine()
    e.add_viewer(Viewer("fan", "GB"))
    e.add_viewer(Viewer("me", "GB", blocked=frozenset({"loud"})))
    add(e, "hit", creator="loud")
    add(e, "quiet")
    engage(e, "fan", "hit", times=5)

    assert e.feed("me", "GB").item_ids == ["quiet"]
    e.unblock("me", "loud")
    assert e.feed("me", "GB").item_ids == ["hit", "quiet"]
    e.block("me", "loud")
    assert e.feed("me", "GB").item_ids == ["quiet"]


def test_removed_item_disappears_even_from_a_page_served_before() -> None:
    e = engine()
    e.add_viewer(Viewer("me", "GB"))
    for n in range(4):
        add(e, f"v{n}", age_hours=n + 1)
    first = e.feed("me", "GB", page_size=2)
    assert first.item_ids == ["v0", "v1"]
    assert first.next_cursor is not None
    second = e.feed("me", "GB", page_size=2, cursor=first.next_cursor)

    e.remove_item("v0")
    e.remove_item("v2")

    assert "v0" not in e.feed("me", "GB").item_ids
    # Replaying a cursor (a client retry) gives the same page, minus what was removed.
    replayed = e.feed("me", "GB", page_size=2, cursor=first.next_cursor)
    assert replayed.item_ids == [i for i in second.item_ids if i != "v2"]
    e.restore_item("v0")
    assert "v0" in e.feed("me", "GB").item_ids


def test_not_interested_hides_the_item_and_sinks_its_creator_at_once() -> None:
    e = engine()
    e.add_viewer(Viewer("me", "GB"))
    add(e, "a1", creator="alice", category="shoes", age_hours=1)
    add(e, "a2", creator="alice", category="shoes", age_hours=2)
    add(e, "b1", creator="bob", category="hats", age_hours=3)
    add(e, "c1", creator="carol", category="bags", age_hours=4)
    before = e.feed("me", "GB").item_ids
    assert before[0] == "a1"
    assert before.index("a2") < before.index("c1")

    e.record(signal("me", "a1", SignalKind.NOT_INTERESTED, NOW - 1))

    after = e.feed("me", "GB")
    assert "a1" not in after.item_ids
    assert after.item_ids[-1] == "a2"
    a2 = next(x for x in after.entries if x.item_id == "a2")
    assert a2.contributions["creator_affinity"] < 0
    assert a2.contributions["category_affinity"] < 0


def test_items_the_viewer_has_seen_are_not_served_again() -> None:
    e = engine()
    e.add_viewer(Viewer("me", "GB"))
    add(e, "watched")
    add(e, "fresh")
    e.record(signal("me", "watched", SignalKind.COMPLETE))

    assert e.feed("me", "GB").item_ids == ["fresh"]


def test_items_not_yet_published_are_not_served() -> None:
    e = engine()
    e.add_viewer(Viewer("me", "GB"))
    add(e, "scheduled", age_hours=-2)

    assert e.feed("me", "GB").item_ids == []
    assert e.feed("me", "GB", now=NOW + 3 * HOUR).item_ids == ["scheduled"]


# -- live rooms ----------------------------------------------------------------------------


def test_live_rooms_show_while_live_or_starting_soon_and_leave_when_ended() -> None:
    e = engine()
    e.add_viewer(Viewer("me", "GB"))
    add(e, "video", age_hours=1)
    add(e, "on-air", kind=ItemKind.LIVE, age_hours=2, live_start=NOW - HOUR, live_end=None)
    add(e, "soon", kind=ItemKind.LIVE, age_hours=24, live_start=NOW + 10 * 60)
    add(e, "tomorrow", kind=ItemKind.LIVE, age_hours=1, live_start=NOW + DAY)
    add(e, "over", kind=ItemKind.LIVE, age_hours=5, live_start=NOW - 4 * HOUR, live_end=NOW - 1)

    page = e.feed("me", "GB")

    assert page.item_ids == ["on-air", "soon", "video"]
    entries = {x.item_id: x for x in page.entries}
    assert entries["on-air"].live == "live_now"
    assert entries["on-air"].source is Source.LIVE
    assert entries["on-air"].contributions["live_now"] == pytest.approx(0.8)
    assert entries["soon"].live == "starting_soon"
    assert entries["video"].live is None


def test_ending_a_live_room_removes_it_from_the_next_page() -> None:
    e = engine()
    e.add_viewer(Viewer("me", "GB"))
    room = add(e, "on-air", kind=ItemKind.LIVE, live_start=NOW - HOUR)
    assert e.feed("me", "GB").item_ids == ["on-air"]

    e.add_item(dataclasses.replace(room, live_end=NOW - 5))

    assert e.feed("me", "GB").item_ids == []


# -- new viewers, trends and signals -------------------------------------------------------


def test_new_viewer_gets_the_market_trending_order() -> None:
    e = engine()
    for n in range(3):
        e.add_viewer(Viewer(f"gb{n}", "GB"))
    e.add_viewer(Viewer("us", "US"))
    e.add_viewer(Viewer("newcomer", "GB"))
    for n in range(6):
        add(e, f"v{n}", age_hours=10)
    engage(e, "gb0", "v3", times=3)
    engage(e, "gb1", "v1", times=2)
    engage(e, "gb2", "v5", times=1)
    engage(e, "us", "v0", times=9)  # trending in another market only

    page = e.feed("newcomer", "GB", page_size=3)

    assert e.trending("GB", 3) == ["v3", "v1", "v5"]
    assert page.item_ids == ["v3", "v1", "v5"]
    assert {x.source for x in page.entries} == {Source.TRENDING}


def test_a_purchase_lifts_its_category_in_the_very_next_page() -> None:
    e = engine()
    e.add_viewer(Viewer("me", "GB"))
    add(e, "shoe-old", creator="s1", category="shoes", age_hours=30)
    add(e, "shoe-new", creator="s2", category="shoes", age_hours=20)
    add(e, "hat", creator="h1", category="hats", age_hours=1)
    assert e.feed("me", "GB").item_ids[0] == "hat"

    e.record(Signal("me", "shoe-old", SignalKind.PURCHASE, NOW - 1, "p-shoe-old"))

    page = e.feed("me", "GB")
    assert page.item_ids == ["shoe-new", "hat"]
    assert page.entries[0].contributions["category_affinity"] > 0


def test_signals_sent_while_scrolling_reshape_the_next_page_of_the_same_session() -> None:
    e = engine()
    e.add_viewer(Viewer("me", "GB"))
    add(e, "hat1", creator="h1", category="hats", age_hours=1)
    add(e, "hat2", creator="h2", category="hats", age_hours=2)
    add(e, "bag1", creator="b1", category="bags", age_hours=3)
    add(e, "shoe1", creator="s1", category="shoes", age_hours=4)
    first = e.feed("me", "GB", page_size=1)
    assert first.item_ids == ["hat1"]

    e.record(signal("me", "hat1", SignalKind.QUICK_SKIP, NOW - 1))
    e.record(signal("me", "hat1", SignalKind.NOT_INTERESTED, NOW - 1))

    second = e.feed("me", "GB", page_size=1, cursor=first.next_cursor)
    assert second.item_ids == ["bag1"]


def test_followed_creators_lead_and_are_explained() -> None:
    e = engine()
    e.add_viewer(Viewer("me", "GB"))
    add(e, "stranger", age_hours=1)
    add(e, "friend-clip", creator="friend", age_hours=40)
    assert e.feed("me", "GB").item_ids == ["stranger", "friend-clip"]

    e.follow("me", "friend")

    page = e.feed("me", "GB")
    assert page.item_ids == ["friend-clip", "stranger"]
    assert page.entries[0].source is Source.FOLLOWED
    assert page.entries[0].contributions["followed"] == pytest.approx(1.2)
    e.unfollow("me", "friend")
    assert e.feed("me", "GB").item_ids == ["stranger", "friend-clip"]


def test_every_entry_explains_its_score_as_the_sum_of_its_contributions() -> None:
    e = engine()
    e.add_viewer(Viewer("me", "GB"))
    e.add_viewer(Viewer("fan", "GB"))
    for n in range(5):
        add(e, f"v{n}", age_hours=n * 7 + 1, hashtags=("ootd",))
    engage(e, "fan", "v2", times=2)
    e.record(signal("me", "v4", SignalKind.LIKE))

    for entry in e.feed("me", "GB").entries:
        assert set(entry.contributions) == {
            "creator_affinity",
            "category_affinity",
            "hashtag_affinity",
            "followed",
            "trending",
            "quality",
            "freshness",
            "live_now",
            "starting_soon",
        }
        assert entry.score == pytest.approx(sum(entry.contributions.values()))


def test_old_engagement_decays_below_new_even_across_a_rebase() -> None:
    e = engine()
    e.add_viewer(Viewer("fan", "GB"))
    add(e, "old-hit", age_hours=24 * 200)
    add(e, "new-hit", age_hours=24 * 200)
    for n in range(50):
        e.record(signal("fan", "old-hit", SignalKind.PURCHASE, NOW - 150 * DAY + n))
    # 150 days at a 24 h half-life would overflow a naive exponent; the engine rebases instead.
    e.record(signal("fan", "new-hit", SignalKind.LIKE, NOW - HOUR))

    assert e.trending("GB", 2) == ["new-hit", "old-hit"]


# -- exploration ---------------------------------------------------------------------------


def test_a_share_of_each_page_explores_new_creators() -> None:
    e = engine(weights(exploration_share=0.2))
    e.add_viewer(Viewer("fan", "GB"))
    e.add_viewer(Viewer("me", "GB"))
    for n in range(20):
        item = add(e, f"old{n}", creator=f"veteran{n}", age_hours=24 * 60 + n)
        engage(e, "fan", item.id, times=1 + n % 3)
    for n in range(5):
        add(e, f"new{n}", creator=f"rookie{n}", age_hours=24 * 3 + n)

    page = e.feed("me", "GB", page_size=10)

    explored = [x for x in page.entries if x.source is Source.EXPLORATION]
    assert len(explored) == 2
    assert all(x.creator_id.startswith("rookie") for x in explored)
    assert [page.entries.index(x) for x in explored] == [3, 6]


# -- diversity -----------------------------------------------------------------------------


def assert_diverse(entries: list[FeedEntry], max_run: int = 2) -> None:
    for before, after in itertools.pairwise(entries):
        assert before.creator_id != after.creator_id
    for n in range(len(entries) - max_run):
        window = {x.category for x in entries[n : n + max_run + 1]}
        assert len(window) > 1


def test_one_creator_never_runs_and_the_feed_ends_rather_than_repeat_them() -> None:
    e = engine()
    e.add_viewer(Viewer("me", "GB"))
    for n in range(6):
        add(e, f"prolific{n}", creator="prolific", category="shoes", age_hours=n + 1)
    add(e, "other", creator="other", category="hats", age_hours=50)

    served = [x for page in all_pages(e, "me", "GB", 4) for x in page]

    assert [x.item_id for x in served] == ["prolific0", "other", "prolific1"]


@settings(max_examples=40, deadline=None)
@given(
    layout=st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 3), st.integers(1, 400)),
        min_size=1,
        max_size=40,
    ),
    engaged=st.lists(st.integers(0, 39), max_size=15),
    page_size=st.integers(1, 7),
    explore=st.sampled_from([0.0, 0.12, 0.3]),
)
def test_diversity_holds_across_pages_in_random_worlds(
    layout: list[tuple[int, int, int]], engaged: list[int], page_size: int, explore: float
) -> None:
    e = engine(weights(exploration_share=explore))
    e.add_viewer(Viewer("me", "GB"))
    e.add_viewer(Viewer("fan", "GB"))
    for n, (creator, category, age) in enumerate(layout):
        add(e, f"v{n}", creator=f"c{creator}", category=f"k{category}", age_hours=age)
    for n in engaged:
        if n < len(layout):
            engage(e, "fan", f"v{n}")

    served = [x for page in all_pages(e, "me", "GB", page_size) for x in page]

    assert_diverse(served)
    ids = [x.item_id for x in served]
    assert len(ids) == len(set(ids))


# -- pagination and cursors ----------------------------------------------------------------


def test_paging_covers_every_visible_item_exactly_once() -> None:
    e = engine(weights(exploration_share=0.12))
    e.add_viewer(Viewer("me", "GB"))
    e.add_viewer(Viewer("fan", "GB"))
    expected = set()
    for n in range(120):
        item = add(
            e,
            f"v{n:03d}",
            creator=f"c{n % 17}",
            category=f"k{n % 7}",
            age_hours=n * 3 + 1,
            markets={"GB"} if n % 5 else {"US"},
        )
        if n % 5:
            expected.add(item.id)
        if n % 4 == 0:
            engage(e, "fan", item.id)

    pages = all_pages(e, "me", "GB", 10)

    ids = [x.item_id for page in pages for x in page]
    assert len(ids) == len(set(ids))
    assert set(ids) == expected
    assert all(len(page) == 10 for page in pages[:-1])


def test_a_tampered_cursor_is_refused() -> None:
    e = engine()
    e.add_viewer(Viewer("me", "GB"))
    for n in range(3):
        add(e, f"v{n}")
    cursor = e.feed("me", "GB", page_size=1).next_cursor
    assert cursor is not None
    body, _, mac = cursor.partition(".")
    flipped = body[:-1] + ("A" if body[-1] != "A" else "B")

    for bad in (f"{flipped}.{mac}", f"{body}.{mac[:-1]}", "garbage", "", body):
        with pytest.raises(InvalidCursor) as caught:
            e.feed("me", "GB", page_size=1, cursor=bad)
        assert caught.value.code == "invalid_cursor"
        assert caught.value.status == 400


def test_a_cursor_from_another_engine_secret_is_refused() -> None:
    mine, theirs = engine(), FeedEngine(["GB"], cursor_secret="other", clock=lambda: NOW)
    for e in (mine, theirs):
        e.add_viewer(Viewer("me", "GB"))
        add(e, "v0")
        add(e, "v1")
    cursor = theirs.feed("me", "GB", page_size=1).next_cursor
    assert cursor is not None

    with pytest.raises(InvalidCursor):
        mine.feed("me", "GB", page_size=1, cursor=cursor)


def test_a_cursor_only_works_for_its_own_viewer_and_market() -> None:
    e = engine()
    e.add_viewer(Viewer("me", "GB"))
    e.add_viewer(Viewer("you", "GB"))
    add(e, "v0")
    add(e, "v1")
    cursor = e.feed("me", "GB", page_size=1).next_cursor
    assert cursor is not None

    with pytest.raises(InvalidCursor, match="another viewer"):
        e.feed("you", "GB", page_size=1, cursor=cursor)
    with pytest.raises(InvalidCursor, match="another viewer"):
        e.feed("me", "US", page_size=1, cursor=cursor)


def test_an_expired_session_says_so() -> None:
    e = engine(session_ttl_seconds=600)
    e.add_viewer(Viewer("me", "GB"))
    add(e, "v0")
    add(e, "v1")
    cursor = e.feed("me", "GB", page_size=1).next_cursor
    assert cursor is not None

    with pytest.raises(CursorExpired) as caught:
        e.feed("me", "GB", page_size=1, cursor=cursor, now=NOW + 601)
    assert (caught.value.status, caught.value.code) == (410, "cursor_expired")


def test_sessions_beyond_the_cap_expire_oldest_first() -> None:
    e = engine(max_sessions=2)
    for name in ("a", "b", "c"):
        e.add_viewer(Viewer(name, "GB"))
    add(e, "v0")
    add(e, "v1")
    cursors = {name: e.feed(name, "GB", page_size=1).next_cursor for name in ("a", "b", "c")}

    with pytest.raises(CursorExpired):
        e.feed("a", "GB", page_size=1, cursor=cursors["a"])
    assert e.feed("c", "GB", page_size=1, cursor=cursors["c"]).item_ids == ["v1"]


def test_the_last_page_has_no_cursor() -> None:
    e = engine()
    e.add_viewer(Viewer("me", "GB"))
    add(e, "v0")

    page = e.feed("me", "GB", page_size=5)

    assert (page.item_ids, page.next_cursor, page.page) == (["v0"], None, 0)


# -- bad input -----------------------------------------------------------------------------


def test_unknown_viewer_market_item_and_page_size_are_clear_errors() -> None:
    e = engine()
    e.add_viewer(Viewer("me", "GB"))
    add(e, "v0")

    with pytest.raises(UnknownViewer) as viewer:
        e.feed("ghost", "GB")
    with pytest.raises(UnknownMarket) as market:
        e.feed("me", "FR")
    with pytest.raises(UnknownItem) as item:
        e.record(signal("me", "nope", SignalKind.LIKE))
    with pytest.raises(UnknownViewer):
        e.record(signal("ghost", "v0", SignalKind.LIKE))
    with pytest.raises(UnknownMarket):
        e.add_viewer(Viewer("traveller", "FR"))
    for size in (0, 101):
        with pytest.raises(InvalidPageSize):
            e.feed("me", "GB", page_size=size)

    assert (viewer.value.status, viewer.value.code) == (404, "unknown_viewer")
    assert (market.value.status, market.value.code) == (422, "unknown_market")
    assert (item.value.status, item.value.code) == (404, "unknown_item")


def test_an_items_creator_and_category_cannot_change() -> None:
    e = engine()
    item = add(e, "v0")

    with pytest.raises(ValueError, match="fixed"):
        e.add_item(dataclasses.replace(item, creator_id="someone-else"))


# -- the incremental top list --------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    cap=st.integers(1, 6),
    offers=st.lists(st.tuples(st.integers(0, 12), st.integers(1, 5)), max_size=80),
)
def test_top_k_matches_a_full_sort_when_scores_only_grow(
    cap: int, offers: list[tuple[int, int]]
) -> None:
    top = _TopK(cap)
    scores: dict[str, float] = {}
    for key, gain in offers:
        name = f"k{key}"
        scores[name] = scores.get(name, 0.0) + gain
        top.offer(name, scores[name])

    expected = sorted(scores, key=lambda k: (-scores[k], k))[:cap]
    ranked = top.ranked()
    assert [scores[k] for k in ranked] == [scores[k] for k in expected]
    assert top.top_score() == (scores[expected[0]] if expected else 0.0)
    assert not math.isnan(top.top_score())


def test_a_replayed_page_drops_what_the_viewer_marked_not_interested_since() -> None:
    e = engine()
    e.add_viewer(Viewer("me", "GB"))
    for n in range(4):
        add(e, f"v{n}", age_hours=n + 1)
    first = e.feed("me", "GB", page_size=2)
    second = e.feed("me", "GB", page_size=2, cursor=first.next_cursor)
    assert second.item_ids == ["v2", "v3"]

    e.record(signal("me", "v3", SignalKind.NOT_INTERESTED, NOW - 1))

    assert e.feed("me", "GB", page_size=2, cursor=first.next_cursor).item_ids == ["v2"]
