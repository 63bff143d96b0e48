"""The labelled corpus: every text that must be blocked is, and no text that must pass is."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from liveloop.moderation.linkban import default_link_ban

CORPUS = Path(__file__).with_name("corpus.jsonl")


def load_corpus() -> list[dict[str, object]]:
    return [json.loads(line) for line in CORPUS.read_text("utf-8").splitlines() if line]


def test_the_corpus_is_big_balanced_and_covers_every_trick() -> None:
    rows = load_corpus()
    blocked = Counter(str(r["trick"]) for r in rows if r["blocked"] is True)
    allowed = Counter(str(r["trick"]) for r in rows if r["blocked"] is False)
    assert len(rows) == len({r["text"] for r in rows}) == 567
    assert sum(blocked.values()) == 318
    assert sum(allowed.values()) == 249
    assert set(blocked) >= {
        "plain", "scheme", "www", "case", "markdown", "subdomain", "shortlink", "shortener",
        "link_hub", "storefront", "spaced_letters", "dot_word", "bracket_dot", "middle_dot",
        "comma", "ideographic_dot", "fullwidth", "homoglyph", "zero_width", "digit_swap", "hxxp",
        "punycode", "loose_separator", "combined", "chat", "other_language",
    }  # fmt: skip
    assert set(allowed) >= {
        "chat", "mention", "other_site", "liveloop", "price", "version", "time", "abbreviation",
        "decimal", "filename", "spaced_innocent", "innocent_dot_word", "lookalike_word",
        "chinese", "malay", "indonesian", "german", "bio", "description",
    }  # fmt: skip


def test_recall_is_total_and_nothing_innocent_is_blocked() -> None:
    engine = default_link_ban()
    rows = load_corpus()
    missed = [r["text"] for r in rows if r["blocked"] and engine.check(str(r["text"])).allowed]
    wrongly = [
        r["text"] for r in rows if not r["blocked"] and not engine.check(str(r["text"])).allowed
    ]
    assert missed == []
    assert wrongly == []


def test_the_fast_path_never_changes_a_corpus_answer() -> None:
    engine = default_link_ban()
    for row in load_corpus():
        text = str(row["text"])
        assert engine.check(text) == engine.check_slow(text), text
