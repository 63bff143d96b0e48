"""Benchmark of the link ban on the labelled corpus: recall, false blocks and texts per second.

Run from the repository root: `python -m bench.linkban`. The last line is machine-readable:
`RESULT linkban texts=N recall=X false_block_rate=X texts_per_s=X`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from liveloop.moderation.linkban import LinkBan, default_link_ban

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "unit" / "moderation" / "corpus.jsonl"


def load(path: Path = CORPUS) -> list[tuple[str, bool]]:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line]
    return [(str(r["text"]), bool(r["blocked"])) for r in rows]


def throughput(engine: LinkBan, texts: Sequence[str], seconds: float) -> float:
    """Texts per second, scanning `texts` over and over for about `seconds`."""
    check = engine.check
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for text in texts:
            check(text)
        done += len(texts)
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - start)


def main() -> None:
    started = time.perf_counter()
    engine = default_link_ban()
    built = time.perf_counter() - started
    corpus = load()
    must_block = [t for t, blocked in corpus if blocked]
    must_allow = [t for t, blocked in corpus if not blocked]
    caught = sum(not engine.check(t).allowed for t in must_block)
    wrongly = [t for t in must_allow if not engine.check(t).allowed]
    recall = caught / len(must_block)
    false_block_rate = len(wrongly) / len(must_allow)
    for text in wrongly:
        print(f"wrongly blocked: {text!r}")
    for text in must_block:
        if engine.check(text).allowed:
            print(f"missed: {text!r}")

    # Live chat is almost all innocent lines: one blocked text in fifty.
    chat = must_allow * 4 + must_block[: max(1, len(must_allow) * 4 // 49)]
    print(f"engine built in {built * 1000:.0f} ms ({len(engine.entries)} entries)")
    print(f"corpus: {len(must_block)} must be blocked, {len(must_allow)} must be allowed")
    print(f"recall on must-block texts:      {recall:.4f}")
    print(f"allowed texts wrongly blocked:   {false_block_rate:.4f}")
    print(f"texts/s, blocked texts only:     {throughput(engine, must_block, 1.0):,.0f}")
    print(f"texts/s, chat mix (2% blocked):  {throughput(engine, chat, 1.0):,.0f}")
    rate = throughput(engine, [t for t, _ in corpus], 3.0)
    print(f"texts/s, whole corpus (3 s):     {rate:,.0f}")
    print(
        f"RESULT linkban texts={len(corpus)} recall={recall:.4f} "
        f"false_block_rate={false_block_rate:.4f} texts_per_s={rate:.0f}"
    )


if __name__ == "__main__":
    main()
