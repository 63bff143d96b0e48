"""`python -m bench.feed`: the For You feed's quality against popularity, and its latency at scale."""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from collections.abc import Sequence

from liveloop.discovery.evaluation import build_engine, evaluate, replay_until
from liveloop.discovery.simulate import WorldConfig, build_world


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.feed", description=__doc__)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--viewers", type=int, default=10_000, help="viewers, latency world")
    parser.add_argument("--items", type=int, default=100_000, help="videos, latency world")
    parser.add_argument("--quality-viewers", type=int, default=3_000)
    parser.add_argument("--quality-items", type=int, default=10_000)
    parser.add_argument("--quality-days", type=int, default=14)
    parser.add_argument("--eval-viewers", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=3_000, help="timed feed requests")
    args = parser.parse_args(argv)

    ndcg, popularity_ndcg, recall = quality(args)
    p99 = latency(args)
    print(
        f"RESULT feed ndcg10={ndcg:.4f} popularity_ndcg10={popularity_ndcg:.4f} "
        f"recall50={recall:.4f} p99_ms={p99:.4f}"
    )
    return 0


def quality(args: argparse.Namespace) -> tuple[float, float, float]:
    started = time.perf_counter()
    config = WorldConfig(
        seed=args.seed,
        viewers=args.quality_viewers,
        videos=args.quality_items,
        days=args.quality_days,
    )
    world = build_world(config)
    training = world.training()
    engine = build_engine(world, until=world.split_at, signals=training, seed=args.seed)
    result = evaluate(world, engine, max_viewers=args.eval_viewers, seed=args.seed)
    print(
        f"quality world: seed {args.seed}, {len(world.viewers)} viewers, {len(world.items)} items, "
        f"{len(world.markets)} markets, {config.days} days; {len(training)} training signals, "
        f"last {config.test_days:g} day held back"
    )
    print(
        f"evaluated {result.viewers} viewers with held-back positives "
        f"({result.relevant_per_viewer:.2f} relevant items each), "
        f"{time.perf_counter() - started:.1f} s"
    )
    print(f"  feed                  NDCG@10 {result.ndcg10:.4f}  recall@50 {result.recall50:.4f}")
    print(
        f"  popularity (market, 2 days)  NDCG@10 {result.popularity_ndcg10:.4f}  "
        f"recall@50 {result.popularity_recall50:.4f}"
    )
    return result.ndcg10, result.popularity_ndcg10, result.recall50


def latency(args: argparse.Namespace) -> float:
    started = time.perf_counter()
    config = WorldConfig(
        seed=args.seed + 1,
        viewers=args.viewers,
        videos=args.items,
        days=3,
        history_days=30,
        test_days=0.25,
    )
    world = build_world(config)
    training = world.training()
    replay = replay_until(world, until=world.split_at, signals=training, seed=args.seed)
    engine = replay.engine
    live = world.held_back()
    built = time.perf_counter() - started
    # The world is long-lived: keep the collector from rescanning it during the timed calls.
    gc.collect()
    gc.freeze()

    rng = random.Random(args.seed)
    per_request = max(1, len(live) // max(1, args.requests))
    cursors: dict[str, str] = {}
    timings: list[float] = []
    cpu: list[float] = []
    now = world.split_at
    position = 0
    recording = 0
    for _ in range(args.requests):
        # Signals keep arriving between requests, as in production.
        begin = time.perf_counter_ns()
        for signal in live[position : position + per_request]:
            replay.record(signal)
            now = max(now, signal.at)
        recording += time.perf_counter_ns() - begin
        position += per_request
        viewer = world.viewers[rng.randrange(len(world.viewers))]
        cursor = cursors.pop(viewer.id, None) if rng.random() < 0.3 else None
        begin, begin_cpu = time.perf_counter_ns(), time.thread_time_ns()
        page = engine.feed(viewer.id, viewer.market, page_size=20, cursor=cursor, now=now)
        timings.append((time.perf_counter_ns() - begin) / 1e6)
        cpu.append((time.thread_time_ns() - begin_cpu) / 1e6)
        if page.next_cursor is not None:
            cursors[viewer.id] = page.next_cursor
    gc.unfreeze()

    timings.sort()
    cpu.sort()
    p99 = _percentile(timings, 0.99)
    print(
        f"latency world: {args.items} videos + {len(world.items) - args.items} live rooms, "
        f"{len(world.viewers)} viewers, {len(training)} signals replayed in {built:.1f} s "
        f"(building included); {len(timings)} feed pages of 20 timed, "
        f"{min(position, len(live))} live signals recorded between them"
    )
    recorded = min(position, len(live))
    print(
        f"  signal recording: {recording / 1e3 / max(1, recorded):.1f} µs per signal "
        "(catalogue updates included); the next page reflects it"
    )
    print(
        f"  page latency ms: p50 {statistics.median(timings):.3f}  "
        f"p95 {_percentile(timings, 0.95):.3f}  p99 {p99:.3f}  max {timings[-1]:.3f}"
    )
    # CPU time shows the engine's own cost when other processes share the cores.
    print(
        f"  page CPU time ms:  p50 {statistics.median(cpu):.3f}  "
        f"p95 {_percentile(cpu, 0.95):.3f}  p99 {_percentile(cpu, 0.99):.3f}  "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    return p99


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


if __name__ == "__main__":
    sys.exit(main())
