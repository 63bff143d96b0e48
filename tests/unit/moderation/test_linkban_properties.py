"""Properties of the link ban: disguises never matter, ordinary words never trip it, and the fast
path never changes an answer."""

# ruff: noqa: RUF001 - look-alike characters are what these tests are about

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import tldextract
from hypothesis import assume, given
from hypothesis import strategies as st

from liveloop.moderation.linkban import BanEntry, Decision, LinkBan, default_link_ban

ENGINE = default_link_ban()
CORPUS = [
    json.loads(line)
    for line in Path(__file__).with_name("corpus.jsonl").read_text("utf-8").splitlines()
]
TEXTS = st.sampled_from([str(r["text"]) for r in CORPUS])
BRANDS = [e.brand for e in ENGINE.entries if e.brand is not None]
HOSTS = [e for e in ENGINE.entries if e.brand is None]
LISTED_KEYS = {
    ENGINE.lookalikes.key(label) for e in ENGINE.entries for label in e.domain.split(".")
}
PSL = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
INVISIBLE = st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])


def verdict(decision: Decision) -> tuple[bool, list[tuple[str, str]]]:
    """The decision without the matched text, which keeps whatever disguise was inserted."""
    return decision.allowed, [(f.domain, f.rule) for f in decision.findings]


@given(TEXTS, st.lists(st.tuples(st.integers(min_value=0), INVISIBLE), max_size=8))
def test_invisible_characters_never_change_a_decision(
    text: str, inserts: list[tuple[int, str]]
) -> None:
    disguised = text
    for at, char in inserts:
        at %= len(disguised) + 1
        disguised = disguised[:at] + char + disguised[at:]
    assert verdict(ENGINE.check(disguised)) == verdict(ENGINE.check(text))


@given(TEXTS, st.randoms(use_true_random=False))
def test_letter_case_never_changes_a_decision(text: str, rnd: random.Random) -> None:
    # Except for i: a capital I imitates an l, so "AIiExpress.com" and "aiiexpress.com" differ.
    changed = "".join(
        c.swapcase() if c.isascii() and c.isalpha() and c not in "iI" and rnd.random() < 0.5 else c
        for c in text
    )
    assert verdict(ENGINE.check(changed)) == verdict(ENGINE.check(text))


@given(TEXTS)
def test_upper_case_never_unblocks(text: str) -> None:
    if not ENGINE.check(text).allowed:
        assert not ENGINE.check(text.upper()).allowed


WORDS = [
    # everyday chat, in the languages of the corpus
    "love", "this", "colour", "how", "much", "for", "the", "blue", "one", "size", "please",
    "shipping", "to", "KL", "I", "it", "is", "in", "at", "me", "be", "de", "my", "so", "we",
    "net", "org", "shop", "store", "online", "site", "app", "top", "live", "link", "club", "Co",
    "harga", "berapa", "kak", "ready", "stok", "dulu", "jualan", "di", "sini", "aja", "boleh",
    "Größe", "gibt", "es", "das", "auch", "bitte", "versand", "这个", "多少钱", "包邮", "淘宝",
    # marketplaces named but not linked
    "Amazon", "eBay", "AliExpress", "Temu", "Shein", "Walmart", "Etsy", "Target", "Wish",
    "Shopee", "Lazada", "Tokopedia", "Taobao", "JD", "Flipkart", "Rakuten", "Linktree", "bitly",
    # things with dots that are not domains
    "£12.99", "$1,299.00", "RM49.90", "v2.3.1", "3.11", "12.30pm", "10:30", "e.g.", "i.e.",
    "U.S.", "etc.", "No.", "photo.jpg", "manual.pdf", "4.8", "0.5L", "...", "😍", "!!",
]  # fmt: skip
GLUE = st.sampled_from([" ", " ", " ", ", ", ". ", "! ", "? ", " - ", "\n", " (", ") "])


@given(st.lists(st.tuples(st.sampled_from(WORDS), GLUE), min_size=1, max_size=30))
def test_ordinary_words_are_always_allowed(parts: list[tuple[str, str]]) -> None:
    text = "".join(word + glue for word, glue in parts)
    assert ENGINE.check(text) == Decision(True, [])


@given(st.from_regex(r"[a-z]{6,12}", fullmatch=True), st.sampled_from(["com", "co.uk", "de"]))
def test_unlisted_domains_are_allowed(label: str, suffix: str) -> None:
    assume(ENGINE.lookalikes.key(label) not in LISTED_KEYS)
    assert ENGINE.check(f"see {label}.{suffix} for details").allowed


FRAGMENTS = [
    "amazon", "ebay", "3bay", "temu", "bit", "ly", "a", "t", "co", "com", "uk", "de", "it",
    "sg", "my", "dot", "DOT", "I", "1", "0", "l", ".", ". ", " .", " . ", ",", ", ", "(.)",
    "[dot]", "。", "·", "．", "ｃｏｍ", "\u200b", "\u0430", "\u043e", " ", "  ", "-", "_", "/x",
    "hxxps://", "https://", "www.", "xn--mazon-3ve", "Ｉ", "rn", "e.g.", "12.30", "😍",
]  # fmt: skip


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=16))
def test_the_fast_path_never_changes_an_answer(parts: list[str]) -> None:
    text = "".join(parts)
    assert ENGINE.check(text) == ENGINE.check_slow(text)


BRAND_SUFFIXES = ["com", "co.uk", "de", "fr", "com.au", "co.jp", "com.my", "co.id", "com.br", "in"]

CYRILLIC = str.maketrans({"a": "\u0430", "o": "\u043e", "e": "\u0435", "c": "\u0441"})
DIGITS = str.maketrans({"o": "0", "e": "3", "a": "4", "s": "5"})


def fullwidth(host: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) for c in host)


def spaced(host: str) -> str:
    return " ".join(host)


def first_label(change: Callable[[str], str]) -> Callable[[str], str]:
    def apply(host: str) -> str:
        head, _, rest = host.partition(".")
        return f"{change(head)}.{rest}"

    return apply


DISGUISES: list[Callable[[str], str]] = [
    lambda h: h,
    str.upper,
    lambda h: "https://www." + h + "/p/1",
    lambda h: f"[deal]({h}/x)",
    lambda h: h.replace(".", " dot "),
    lambda h: h.replace(".", "(dot)"),
    lambda h: h.replace(".", "[.]"),
    lambda h: h.replace(".", " . "),
    lambda h: h.replace(".", "·"),
    lambda h: h.replace(".", "。"),
    fullwidth,
    spaced,
    lambda h: h.translate(CYRILLIC),
    lambda h: "\u200b".join(h),
    lambda h: "hxxps://" + h.replace(".", "[.]"),
]


def host_for(entry: BanEntry, suffix: str) -> tuple[str, str]:
    """A host that the entry bans, and the registrable domain the engine should report."""
    if entry.brand is not None:
        return f"{entry.brand}.{suffix}", f"{entry.brand}.{suffix}"
    return entry.domain, PSL(entry.domain).top_domain_under_public_suffix


@given(
    st.sampled_from(BRANDS + [e.domain for e in HOSTS]),
    st.sampled_from(BRAND_SUFFIXES),
    st.sampled_from(DISGUISES),
)
def test_every_listed_domain_is_found_under_every_disguise(
    domain: str, suffix: str, disguise: Callable[[str], str]
) -> None:
    entry = next(e for e in ENGINE.entries if e.domain in (domain, domain + ".*"))
    host, expected = host_for(entry, suffix)
    decision = ENGINE.check(f"so cute!! get it at {disguise(host)} now")
    assert [f.domain for f in decision.findings] == [expected]


@given(st.sampled_from(BRANDS), st.sampled_from(BRAND_SUFFIXES))
def test_brands_with_digits_for_letters_are_found(brand: str, suffix: str) -> None:
    swapped = first_label(lambda label: label.translate(DIGITS))(f"{brand}.{suffix}")
    assume(swapped.split(".")[0] != brand)
    decision = ENGINE.check(f"cheaper at {swapped}")
    assert [f.domain for f in decision.findings] == [f"{brand}.{suffix}"]


def test_the_engine_can_be_built_from_its_own_entries() -> None:
    rebuilt = LinkBan(
        ENGINE.entries,
        allow=ENGINE.allow,
        loose_suffixes=ENGINE.loose_suffixes,
        rules=ENGINE.rules,
    )
    for row in CORPUS:
        assert rebuilt.check(str(row["text"])) == ENGINE.check(str(row["text"]))
