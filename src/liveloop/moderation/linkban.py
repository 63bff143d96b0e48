"""The external-link ban: finds links to outside shops, shorteners and link hubs in user text.

Plain Python on purpose (no web, no database): every context that stores user text calls
`check(text)` before writing, and live chat runs every message through it, so it must be cheap
for the ordinary line. How it reads a text:

1. Fast path. A domain needs a separator before its public suffix; a text with nothing that can
   act as one (a dot or dot look-alike before a letter, a tight comma, the word "dot") is
   allowed at once, after folding (step 2) only if it has non-ASCII characters.
2. Folding, character by character so that every folded character remembers where it came
   from: NFKD with combining marks dropped, lower case, look-alike letters from other scripts
   to Latin, dot and comma look-alikes to "." and ",", invisible characters removed.
3. Separators: "(.)", "[dot]", " dot ", " . " become a dot; a dot with space on one side and a
   tight comma become a *loose* dot, which only counts before a suffix in `loose_suffixes`
   (so "I sold on eBay. It was fine" is not the domain ebay.it). Letters spelt out one by one
   ("a m a z o n") are closed up.
4. Every run of labels joined by dots is a candidate host; only a host with a label that is, or
   could imitate (digit swaps, i/l, rn/m), a banned name goes to the Public Suffix List. A host
   is banned when its registrable domain (or a listed host above it) is an entry, or its label
   right before the public suffix is a banned brand (`amazon.*`).
"""

from __future__ import annotations

import codecs
import functools
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import tldextract

DATA_PACKAGE = "liveloop.moderation"
LINK_BAN_FILE = "link_ban.json"
LOOKALIKES_FILE = "lookalikes.json"

# Below this many characters a label is too short to be matched as a look-alike (t.co vs 7.co).
MIN_LOOKALIKE_LABEL = 3
# A brand label matches under every public suffix, so it must be distinctive.
MIN_BRAND_LABEL = 4

_LOOSE = "\x01"  # stands for a dot that only counts before a loose suffix
_WILD = "*"  # index key for letters a writer may swap for one another (i, l, 1)
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_RULE_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


class LinkBanDataError(ValueError):
    """The lists are malformed; the message names the offending part."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One banned link: the text as written, its registrable domain, and the rule it breaks."""

    match: str
    domain: str
    rule: str


@dataclass(frozen=True, slots=True)
class Decision:
    """`allowed` is true exactly when there are no findings."""

    allowed: bool
    findings: list[Finding]


@dataclass(frozen=True, slots=True)
class BanEntry:
    """One line of the list: `domain` is a host (subdomains match too) or a brand as `label.*`."""

    domain: str
    rule: str
    note: str = ""

    @property
    def brand(self) -> str | None:
        return self.domain[:-2] if self.domain.endswith(".*") else None


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    # The bundled Public Suffix List snapshot: no download, no cache directory.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _split_host(host: str) -> tuple[str, str]:
    """(label right before the public suffix, public suffix); empty strings when there is none."""
    parts = _extractor().extract_str(host)
    return parts.domain, parts.suffix


def _read_package_json(name: str) -> Any:
    return json.loads(resources.files(DATA_PACKAGE).joinpath("data", name).read_text("utf-8"))


@functools.cache
def _confusable_letters() -> dict[str, str]:
    """Every non-ASCII character the Unicode confusables table says imitates a Latin letter or
    digit, mapped to that character in lower case."""
    from confusable_homoglyphs.confusables import (  # type: ignore[import-untyped]
        confusables_data,
    )

    table: dict[str, str] = {}
    for char, homoglyphs in confusables_data.items():
        if len(char) != 1 or char.isascii():
            continue
        ascii_like = [
            h["c"] for h in homoglyphs if len(h["c"]) == 1 and h["c"].isascii() and h["c"].isalnum()
        ]
        if ascii_like:
            # Prefer a lower-case letter: the table offers "0" and "O" as well as "o" for some.
            ascii_like.sort(key=lambda c: (not c.islower(), not c.isalpha()))
            table[char] = ascii_like[0].lower()
    return table


class Lookalikes:
    """The folding tables: how disguised characters and labels are read back."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        try:
            self.dots = frozenset(data["dots"])
            self.commas = frozenset(data["commas"])
            self.invisible = frozenset(data["invisible"])
            self.letters: dict[str, str] = dict(data["letters"])
            self.digit_swaps: dict[str, str] = dict(data["digit_swaps"])
            self.sequences: dict[str, str] = dict(data["sequences"])
        except (KeyError, TypeError) as exc:
            raise LinkBanDataError(f"look-alike tables: missing or malformed {exc}") from exc
        self._chars: dict[str, str] = {chr(i): chr(i).lower() for i in range(128)}
        # The same as a str.translate table, and the characters that do not fold to exactly one
        # (invisible ones, ligatures): a text without any folds in one C-level pass.
        self._table: dict[int, str] = {ord(c): f for c, f in self._chars.items()}
        self._uneven: set[str] = set()
        self._confusables = _confusable_letters()  # loaded now, not on the first chat line
        # Letters that a digit may stand for, several at once (1 is i or l): all share one key.
        self.ambiguous = frozenset(
            letter
            for letters in self.digit_swaps.values()
            if len(letters) > 1
            for letter in letters
        )
        key: dict[str, str] = {}
        for digit, letters in self.digit_swaps.items():
            key[digit] = _WILD if len(letters) > 1 else letters
        for letter in self.ambiguous:
            key[letter] = _WILD
        self._key_table = str.maketrans(key)
        # The letter a digit most often stands for in a suffix ("c0m"); 1 reads as i (it, io, in).
        self._suffix_table = str.maketrans({d: ls[0] for d, ls in self.digit_swaps.items()})

    @classmethod
    def default(cls) -> Lookalikes:
        return _default_lookalikes()

    def char(self, char: str) -> str:
        """What one character reads as: "" for invisible ones, possibly several for ligatures."""
        folded = self._chars.get(char)
        if folded is None:
            folded = self._chars[char] = self._fold_char(char)
            if len(folded) == 1:
                self._table[ord(char)] = folded
            else:
                self._uneven.add(char)
        return folded

    def _fold_char(self, char: str) -> str:
        if char in self.invisible or unicodedata.category(char) == "Cf":
            return ""
        if char.isspace():
            return " "
        out = []
        for part in unicodedata.normalize("NFKD", char):
            if unicodedata.combining(part) or unicodedata.category(part) in ("Mn", "Me"):
                continue
            if part.isascii():
                out.append(part.lower())
            elif part in self.dots:
                out.append(".")
            elif part in self.commas:
                out.append(",")
            else:
                out.append(self._latin(part))
        return "".join(out)

    def _latin(self, char: str) -> str:
        for form in (char, char.lower(), char.upper()):
            latin = self.letters.get(form) or self._confusables.get(form)
            if latin is not None:
                return latin
        return char.lower()

    def fold(self, text: str) -> tuple[str, list[int]]:
        """The folded text, and for each of its characters the index it came from in `text`."""
        chars = set(text)
        for char in chars.difference(self._chars):
            self.char(char)
        if chars.isdisjoint(self._uneven):
            return text.translate(self._table), list(range(len(text)))
        pieces: list[str] = []
        origin: list[int] = []
        fold = self._chars.__getitem__
        for index, char in enumerate(text):
            folded = fold(char)
            if folded:
                pieces.append(folded)
                origin.extend([index] * len(folded))
        return "".join(pieces), origin

    def key(self, label: str) -> str:
        """A coarse index key: two labels that may imitate each other share it."""
        for pair, letter in self.sequences.items():
            if pair in label:
                label = label.replace(pair, letter)
        return label.translate(self._key_table)

    def readings(self, label: str, plain: frozenset[int]) -> list[frozenset[str]] | None:
        """For each letter of `label` the letters it may stand for. `plain` holds the positions
        written as a plain ASCII letter other than a capital I: only the others (I, 1, a Cyrillic
        i) may stand for either i or l. None when the label has no letter (a number is no name)."""
        if not any(c.isalpha() for c in label):
            return None
        out: list[frozenset[str]] = []
        i = 0
        while i < len(label):
            pair = label[i : i + 2]
            if pair in self.sequences:
                out.append(frozenset(self.sequences[pair]))
                i += 2
                continue
            char = label[i]
            swaps = self.digit_swaps.get(char)
            if swaps is not None:
                out.append(frozenset(swaps + char))
            elif char in self.ambiguous and i not in plain:
                out.append(self.ambiguous)
            else:
                out.append(frozenset(char))
            i += 1
        return out

    def spell(self, name: str) -> str:
        for pair, letter in self.sequences.items():
            name = name.replace(pair, letter)
        return name

    def suffix_digits(self, label: str) -> str:
        return label.translate(self._suffix_table)


@functools.cache
def _default_lookalikes() -> Lookalikes:
    return Lookalikes(_read_package_json(LOOKALIKES_FILE))


# Step 1: something that can separate a label from its suffix. Over-approximates steps 3-4.
_TRIGGER_FIXED = (
    r"\.[)\]}>]*[a-z]"  # tight dot, "(.)com"
    r"|\s\.\s*[a-z]"  # " . com", " .com"
    r"|[(\[{<]\s*\."  # "( . )"
    r"|,[a-z]"  # tight comma
    r"|(?<![a-z0-9])dot(?![a-z0-9])"
    r"|\.\s+[a-z0-9][\s_*~-]{1,3}[a-z0-9](?![a-z0-9])"  # ". c o m"
)

# Step 3, one pass; the group that matched decides what the separator becomes.
_SEPARATORS = re.compile(
    r"(?P<strong>\s*[(\[{<]\s*(?:\.|dot)\s*[)\]}>]\s*|\s+dot\s+|\s+\.\s+)"
    r"|(?P<loose>\.\s+|\s+\.(?=[a-z0-9])|(?<=[a-z0-9]),(?=[a-z]))"
)
# Letters spelt one by one with spaces, dashes, underscores or stars between them.
_SPACED = re.compile(r"(?<![a-z0-9])([a-z0-9])[\s_*~-]{1,3}(?=[a-z0-9](?![a-z0-9]))")
_HOST = re.compile(r"(?<![a-z0-9-])[a-z0-9-]+(?:[.\x01][a-z0-9-]+)+")
_LABEL_SPLIT = re.compile(r"[.\x01]")
_SCHEME_BEFORE = re.compile(r"(?:h[tx]{2}ps?|ftp)(?::|\[:\])//$")
_PATH_AFTER = re.compile(r"[/?#][^\s\x01]{0,2000}")  # bounded: one scan per host
_PATH_TRAILING = ".,;:!?'\"*"
# Letters written as themselves; anything else (I, 1, |, other scripts) may imitate i or l.
_PLAIN_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHJKLMNOPQRSTUVWXYZ")


def _rewrite(
    text: str,
    origin: list[int],
    pattern: re.Pattern[str],
    replace: Callable[[re.Match[str]], str],
) -> tuple[str, list[int]]:
    """`pattern.sub(replace, text)` that keeps every character's origin."""
    pieces: list[str] = []
    new_origin: list[int] = []
    last = 0
    for m in pattern.finditer(text):
        start, end = m.span()
        pieces.append(text[last:start])
        new_origin.extend(origin[last:start])
        replacement = replace(m)
        pieces.append(replacement)
        new_origin.extend([origin[start]] * len(replacement))
        last = end
    if not pieces:
        return text, origin
    pieces.append(text[last:])
    new_origin.extend(origin[last:])
    return "".join(pieces), new_origin


def _separator(m: re.Match[str]) -> str:
    return "." if m.group("strong") is not None else _LOOSE


def _first_letter(m: re.Match[str]) -> str:
    return m.group(1)


class LinkBan:
    """The engine: built once from the lists, then `check` as often as needed (thread-safe)."""

    def __init__(
        self,
        entries: Iterable[BanEntry],
        *,
        allow: Iterable[str] = (),
        loose_suffixes: Iterable[str] = (),
        version: int | str = 0,
        rules: Mapping[str, str] | None = None,
        lookalikes: Lookalikes | None = None,
    ) -> None:
        self.version = version
        self.rules = dict(rules or {})
        self.lookalikes = lookalikes or Lookalikes.default()
        self.entries: tuple[BanEntry, ...] = tuple(entries)
        self.allow = tuple(_clean_host(a, "allow") for a in allow)
        self.loose_suffixes = frozenset(loose_suffixes)

        self._hosts: dict[str, BanEntry] = {}
        self._brands: dict[str, BanEntry] = {}
        self._names: set[str] = set()  # every banned label, to skip most hosts cheaply
        self._keys: dict[str, list[tuple[str, str, BanEntry]]] = {}
        for index, entry in enumerate(self.entries):
            where = f"entries[{index}] ({entry.domain!r})"
            if self.rules and entry.rule not in self.rules:
                raise LinkBanDataError(f"{where}: rule {entry.rule!r} is not declared in rules")
            if not _RULE_NAME.fullmatch(entry.rule):
                raise LinkBanDataError(f"{where}: rule names are lower_snake_case")
            brand = entry.brand
            if brand is not None:
                if not _LABEL.fullmatch(brand) or len(brand) < MIN_BRAND_LABEL:
                    raise LinkBanDataError(
                        f"{where}: a brand is one label of {MIN_BRAND_LABEL} or more letters, "
                        "digits or dashes; list shorter names as exact domains"
                    )
                if brand in self._brands:
                    raise LinkBanDataError(f"{where}: listed twice")
                self._brands[brand] = entry
                self._names.add(brand)
                self._index(brand, "", entry)
                continue
            host = _clean_host(entry.domain, where)
            label, suffix = _split_host(host)
            if not label or not suffix:
                raise LinkBanDataError(f"{where}: has no registrable domain under a public suffix")
            if host in self._hosts:
                raise LinkBanDataError(f"{where}: listed twice")
            self._hosts[host] = entry
            self._names.add(label)
            if host == f"{label}.{suffix}":
                self._index(label, suffix, entry)
        self._trigger = re.compile(self._trigger_pattern())
        self._split = functools.lru_cache(maxsize=4096)(_split_host)

    def _index(self, label: str, suffix: str, entry: BanEntry) -> None:
        if len(label) >= MIN_LOOKALIKE_LABEL and any(c.isalpha() for c in label):
            key = self.lookalikes.key(label)
            self._names.add(key)
            self._keys.setdefault(key, []).append((self.lookalikes.spell(label), suffix, entry))

    def _trigger_pattern(self) -> str:
        firsts = sorted({s.split(".")[0] for s in self.loose_suffixes}, key=lambda s: (-len(s), s))
        loose = "|".join(re.escape(f) for f in firsts)
        extra = rf"|\.\s+(?:{loose})(?![a-z0-9])" if loose else ""
        return _TRIGGER_FIXED + extra

    @classmethod
    def from_data(
        cls, source: str | Path | Mapping[str, Any], *, lookalikes: Lookalikes | None = None
    ) -> LinkBan:
        """Build from the JSON shape of `data/link_ban.json`, given as a file path or as the
        already-parsed mapping (what a database-backed editor will hand over)."""
        if isinstance(source, str | Path):
            try:
                data = json.loads(Path(source).read_text("utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise LinkBanDataError(f"cannot read {source}: {exc}") from exc
        else:
            data = source
        if not isinstance(data, Mapping):
            raise LinkBanDataError("the lists must be a JSON object")
        raw_entries = data.get("entries")
        if not isinstance(raw_entries, list):
            raise LinkBanDataError("'entries' must be a list")
        entries = []
        for index, raw in enumerate(raw_entries):
            if not isinstance(raw, Mapping) or not isinstance(raw.get("domain"), str):
                raise LinkBanDataError(f"entries[{index}]: needs a 'domain' string")
            if not isinstance(raw.get("rule"), str):
                raise LinkBanDataError(f"entries[{index}]: needs a 'rule' string")
            note = raw.get("note", "")
            entries.append(
                BanEntry(raw["domain"].strip().lower(), raw["rule"], str(note) if note else "")
            )
        allow = data.get("allow", [])
        loose = data.get("loose_suffixes", [])
        rules = data.get("rules")
        for name, value in (("allow", allow), ("loose_suffixes", loose)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise LinkBanDataError(f"'{name}' must be a list of strings")
        if rules is not None and not (
            isinstance(rules, Mapping) and all(isinstance(v, str) for v in rules.values())
        ):
            raise LinkBanDataError("'rules' must map each rule name to its description")
        version = data.get("version", 0)
        if not isinstance(version, int | str):
            raise LinkBanDataError("'version' must be a number or a string")
        return cls(
            entries,
            allow=allow,
            loose_suffixes=[s.strip().lower() for s in loose],
            version=version,
            rules=rules,
            lookalikes=lookalikes,
        )

    @classmethod
    def default(cls) -> LinkBan:
        """The engine built from the packaged lists (built once)."""
        return default_link_ban()

    def check(self, text: str) -> Decision:
        """Whether `text` may be stored or shown, and every banned link found in it."""
        if text.isascii():
            folded = text.lower()
            if self._trigger.search(folded) is None:
                return Decision(True, [])
            origin = list(range(len(text)))
        else:
            folded, origin = self.lookalikes.fold(text)
            if self._trigger.search(folded) is None:
                return Decision(True, [])
        findings = self._scan(text, folded, origin)
        return Decision(not findings, findings)

    def check_slow(self, text: str) -> Decision:
        """`check` without the fast path; the tests hold the two to the same answers."""
        folded, origin = self.lookalikes.fold(text)
        findings = self._scan(text, folded, origin)
        return Decision(not findings, findings)

    def _scan(self, text: str, folded: str, origin: list[int]) -> list[Finding]:
        folded, origin = _rewrite(folded, origin, _SEPARATORS, _separator)
        folded, origin = _rewrite(folded, origin, _SPACED, _first_letter)
        findings: list[Finding] = []
        for m in _HOST.finditer(folded):
            hit = self._judge(text, folded, origin, m.start(), m.group())
            if hit is None:
                continue
            start, end, domain, rule = hit
            findings.append(Finding(text[origin[start] : origin[end - 1] + 1], domain, rule))
        return findings

    def _judge(
        self, text: str, folded: str, origin: list[int], at: int, candidate: str
    ) -> tuple[int, int, str, str] | None:
        """The span in `folded`, domain and rule of the banned host in `candidate`, if any."""
        labels = _LABEL_SPLIT.split(candidate)
        lookalikes = self.lookalikes
        names = self._names
        if not any(
            label in names or label.startswith("xn--") or lookalikes.key(label) in names
            for label in labels[:-1]
        ):
            return None
        starts = [at]
        for label in labels[:-1]:
            starts.append(starts[-1] + len(label) + 1)
        loose_after = [folded[s - 1] == _LOOSE for s in starts[1:]]  # separator before label i+1
        names_read = [_punycode(label, lookalikes) for label in labels]

        host = ".".join(names_read)
        label, suffix = self._split(host)
        suffix_fixed = False
        last = names_read[-1]
        if not suffix and last[:1].isalpha() and any(c.isdigit() for c in last):
            names_read[-1] = lookalikes.suffix_digits(last)
            label, suffix = self._split(".".join(names_read))
            suffix_fixed = True
        if not label or not suffix:
            return None
        registrable_at = len(labels) - suffix.count(".") - 2
        loose_right = any(loose_after[registrable_at:])
        if loose_right and (suffix_fixed or suffix not in self.loose_suffixes):
            return None
        # A loose dot left of the registrable label ends a sentence; the host starts after it.
        first = registrable_at
        while first > 0 and not loose_after[first - 1]:
            first -= 1
        host = ".".join(names_read[first:])
        if any(host == a or host.endswith("." + a) for a in self.allow):
            return None

        found = self._match(host, label, suffix, text, origin, starts[registrable_at])
        if found is None:
            return None
        domain, rule = found
        start = starts[first]
        end = at + len(candidate)
        scheme = _SCHEME_BEFORE.search(folded, max(0, start - 12), start)
        if scheme is not None:
            start = scheme.start()
        path = _PATH_AFTER.match(folded, end)
        if path is not None:
            end = path.start() + len(_trim_path(path.group()))
        return start, end, domain, rule

    def _match(
        self, host: str, label: str, suffix: str, text: str, origin: list[int], label_at: int
    ) -> tuple[str, str] | None:
        registrable = f"{label}.{suffix}"
        parts = host.split(".")
        for i in range(len(parts) - suffix.count(".") - 1):
            entry = self._hosts.get(".".join(parts[i:]))
            if entry is not None:
                return registrable, entry.rule
        entry = self._brands.get(label)
        if entry is not None:
            return registrable, entry.rule
        candidates = self._keys.get(self.lookalikes.key(label))
        if not candidates:
            return None
        plain = frozenset(
            i
            for i in range(len(label))
            if label_at + i < len(origin) and text[origin[label_at + i]] in _PLAIN_LETTERS
        )
        readings = self.lookalikes.readings(label, plain)
        if readings is None:
            return None
        for name, entry_suffix, entry in candidates:
            if entry_suffix and entry_suffix != suffix:
                continue
            if len(name) == len(readings) and all(
                c in r for c, r in zip(name, readings, strict=True)
            ):
                brand = entry.brand
                domain = f"{brand}.{suffix}" if brand is not None else entry.domain
                return domain, entry.rule
        return None


def _punycode(label: str, lookalikes: Lookalikes) -> str:
    """An IDN label (xn--...) read back as the Latin letters it imitates, when it does."""
    if not label.startswith("xn--"):
        return label
    try:
        decoded = codecs.decode(label[4:].encode("ascii"), "punycode")
    except (UnicodeError, ValueError):
        return label
    read = "".join(lookalikes.char(c) for c in decoded)
    return read if _LABEL.fullmatch(read) else label


def _trim_path(path: str) -> str:
    while path and path[-1] in _PATH_TRAILING + ")]}>":
        closer = path[-1]
        opener = {")": "(", "]": "[", "}": "{", ">": "<"}.get(closer)
        if opener is not None and path.count(opener) >= path.count(closer):
            break
        path = path[:-1]
    return path


def _clean_host(value: str, where: str) -> str:
    host = value.strip().lower().rstrip(".")
    if host.startswith("*."):
        host = host[2:]
    labels = host.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise LinkBanDataError(f"{where}: {value!r} is not a host name")
    return host


@functools.cache
def default_link_ban() -> LinkBan:
    """The engine built from the packaged `data/link_ban.json` (built once per process)."""
    return LinkBan.from_data(_read_package_json(LINK_BAN_FILE))


def check(text: str) -> Decision:
    """Check `text` against the packaged lists."""
    return default_link_ban().check(text)
