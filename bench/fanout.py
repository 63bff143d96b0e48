"""Fan-out benchmark: the delay from a host's pin call to each viewer's receipt, over real sockets.

    python -m bench.fanout --viewers N [--workers W] [--pins K]

Starts the target app under uvicorn on 127.0.0.1 (default `bench.fanout_app:app`; `--app`,
`--ws-path` and `--trigger-path` point it at another app, such as the live room's real pin
endpoint) and, as the ceiling, a bare broadcast server built on the `websockets` library alone
(`bench.fanout_bare`). The same client processes connect N viewers to each, then K pins are
triggered by HTTP (each stamped with `data.sent_at_ns` taken just before the call), alternating
between the two servers in a random order each round, so that both are measured under the same
background load; each viewer checks it received every pin. With W > 1 the app uses Redis
(`--redis-url`, default db 12). The last line is

    RESULT fanout viewers=N workers=W p50_ms=X p99_ms=X bare_p99_ms=X ratio_p99=X lost=X

The trigger is a POST of `{"n", "sent_at_ns", "product_id"}` to the trigger path; whatever the
target app is, its pin event must carry `n` and `sent_at_ns` in `data`, since the viewers
measure with them. `lost` counts pins a liveloop viewer never received (a viewer that failed to connect loses
them all). The clients are lean asyncio protocols that parse frames by hand, so that on a small
machine their CPU use disturbs the servers as little as possible. `--profile FILE` samples the
servers with py-spy (raw stacks).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.client
import json
import math
import multiprocessing as mp
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any
from urllib.parse import urlencode

HOST = "127.0.0.1"
CONNECT_CONCURRENCY = 64
PIN_TIMEOUT = 15.0

# -- client side (runs in the client processes) ----------------------------------------------


class TargetStats:
    """One client process's view of one server."""

    def __init__(self, index: int, conn: Connection) -> None:
        self.index = index
        self.conn = conn
        self.alive = 0
        self.latencies_us: list[int] = []
        self.counts: dict[int, int] = {}
        self.reported: set[int] = set()
        self.duplicates = 0
        self.pids: dict[int, int] = {}

    def on_text(self, viewer: Viewer, payload: bytes, now_ns: int) -> None:
        if b'"type":"pin"' not in payload:
            if viewer.pid is None and payload.startswith(b'{"type":"snapshot"'):
                pid = json.loads(payload)["data"].get("pid")
                if isinstance(pid, int):
                    viewer.pid = pid
                    self.pids[pid] = self.pids.get(pid, 0) + 1
            return
        data = json.loads(payload)["data"]
        data = data.get("trace") or data  # the live room's pins carry the marks as `trace`
        n = data["n"]
        if n in viewer.got:
            self.duplicates += 1
            return
        viewer.got.add(n)
        if n > 0:
            self.latencies_us.append((now_ns - data["sent_at_ns"]) // 1000)
        count = self.counts[n] = self.counts.get(n, 0) + 1
        if count >= self.alive and n not in self.reported:
            self.reported.add(n)
            self.conn.send(("got", self.index, n))


class Viewer(asyncio.Protocol):
    """A minimal WebSocket client: handshake, unmasked server frames, pong replies."""

    def __init__(self, stats: TargetStats, port: int, path: str) -> None:
        self.stats = stats
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n\r\n"
        ).encode()
        self.buf = bytearray()
        self.upgraded = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.got: set[int] = set()
        self.pid: int | None = None
        self.close_code: int | None = None
        self.lost_connection = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not a subclass
        transport.write(self.request)  # type: ignore[attr-defined]

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost_connection = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed during the handshake"))

    def data_received(self, data: bytes) -> None:
        now = time.time_ns()
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end])
            del buf[: end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self.ready.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode()))
                assert self.transport is not None
                self.transport.close()
                return
            self.upgraded = True
            self.ready.set_result(None)
        while True:
            size = len(buf)
            if size < 2:
                return
            length = buf[1] & 0x7F
            start = 2
            if length == 126:
                if size < 4:
                    return
                length = (buf[2] << 8) | buf[3]
                start = 4
            elif length == 127:
                if size < 10:
                    return
                length = int.from_bytes(buf[2:10], "big")
                start = 10
            if size < start + length:
                return
            opcode = buf[0] & 0x0F
            payload = bytes(buf[start : start + length])
            del buf[: start + length]
            if opcode == 1:
                self.stats.on_text(self, payload, now)
            elif opcode == 9:
                self._send(0xA, payload)
            elif opcode == 8:
                self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        assert self.transport is not None
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)


async def _client(conn: Connection, targets: list[tuple[int, str]], count: int, pins: int) -> None:
    loop = asyncio.get_running_loop()
    stats = [TargetStats(index, conn) for index in range(len(targets))]
    viewers: list[list[Viewer]] = [[] for _ in targets]
    failures: list[list[str]] = [[] for _ in targets]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def open_one(index: int, port: int, path: str) -> None:
        async with gate:
            try:
                _, viewer = await loop.create_connection(
                    lambda: Viewer(stats[index], port, path), HOST, port
                )
                await asyncio.wait_for(viewer.ready, 30)
                viewers[index].append(viewer)
            except Exception as exc:
                failures[index].append(repr(exc))

    for index, (port, path) in enumerate(targets):
        await asyncio.gather(*(open_one(index, port, path) for _ in range(count)))
        stats[index].alive = len(viewers[index])
    finished: asyncio.Future[None] = loop.create_future()

    def on_command() -> None:
        while conn.poll():
            command = conn.recv()
            if command[0] == "finish" and not finished.done():
                finished.set_result(None)

    loop.add_reader(conn.fileno(), on_command)
    os.set_blocking(conn.fileno(), True)  # the event loop made it non-blocking; sends must wait
    conn.send(
        (
            "ready",
            [len(v) for v in viewers],
            [len(f) for f in failures],
            [f[0] for f in failures if f],
        )
    )
    await finished
    loop.remove_reader(conn.fileno())
    results = []
    for index in range(len(targets)):
        group = viewers[index]
        lost = sum(pins - sum(1 for n in v.got if n > 0) for v in group)
        closed: dict[str, int] = {}
        for v in group:
            if v.lost_connection:
                key = str(v.close_code or "none")
                closed[key] = closed.get(key, 0) + 1
        s = stats[index]
        results.append((s.latencies_us, lost, s.duplicates, closed, s.pids))
    conn.send(("result", results))
    for group in viewers:
        for viewer in group:
            if viewer.transport is not None:
                viewer.transport.abort()


def client_main(conn: Connection, targets: list[tuple[int, str]], count: int, pins: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        import uvloop

        uvloop.run(_client(conn, targets, count, pins))
    except ImportError:
        asyncio.run(_client(conn, targets, count, pins))


# -- driver ----------------------------------------------------------------------------------


@dataclass
class Target:
    label: str
    port: int
    path: str
    fire: Callable[[int], Any]
    health_path: str = "/healthz"
    rss_kib: list[int] = field(default_factory=list)
    publish_ms: list[float] = field(default_factory=list)
    connected: int = 0
    failed: int = 0
    latencies_us: list[int] = field(default_factory=list)
    lost: int = 0
    duplicates: int = 0
    closed: int = 0
    pids: dict[int, int] = field(default_factory=dict)
    close_codes: dict[str, int] = field(default_factory=dict)

    def quantile_ms(self, q: float) -> float:
        if not self.latencies_us:
            return float("nan")
        ordered = sorted(self.latencies_us)
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] / 1000


def run_clients(targets: list[Target], viewers: int, procs: int, pins: int, warmup: int) -> None:
    """Connect `viewers` clients to each target, then send the pins, alternating between the
    targets in a random order each round so that both see the same background load."""
    ctx = mp.get_context("fork")
    shares = [viewers // procs + (1 if i < viewers % procs else 0) for i in range(procs)]
    addresses = [(t.port, t.path) for t in targets]
    for target in targets:
        record_rss(target)
    pipes: list[Connection] = []
    processes = []
    for share in shares:
        parent, child = ctx.Pipe()
        process = ctx.Process(target=client_main, args=(child, addresses, share, pins))
        process.start()
        child.close()
        pipes.append(parent)
        processes.append(process)
    started = time.monotonic()
    for pipe in pipes:
        if not pipe.poll(300):
            raise SystemExit("a client process did not connect its viewers in time")
        _, connected, failed, errors = pipe.recv()
        for target, ok, bad in zip(targets, connected, failed, strict=True):
            target.connected += ok
            target.failed += bad
        for error in errors:
            print(f"  connection failure, e.g. {error}", file=sys.stderr)
    for target in targets:
        record_rss(target)
    print(
        f"  {', '.join(f'{t.connected} viewers on {t.label}' for t in targets)} connected in "
        f"{time.monotonic() - started:.1f}s",
        file=sys.stderr,
    )
    for n in range(1 - warmup, pins + 1):
        for index in random.sample(range(len(targets)), len(targets)):
            waiting = set(pipes)
            answer = targets[index].fire(n)
            if n > 0 and isinstance(answer, dict) and "publish_ms" in answer:
                targets[index].publish_ms.append(answer["publish_ms"])
            deadline = time.monotonic() + PIN_TIMEOUT
            while waiting:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    print(f"  {targets[index].label}: pin {n} missed by some", file=sys.stderr)
                    break
                for ready in wait(list(waiting), remaining):
                    assert isinstance(ready, Connection)
                    if ready.recv() == ("got", index, n):
                        waiting.discard(ready)
            time.sleep(random.uniform(0.05, 0.15))  # pins spaced like a host's, not back to back
    for pipe in pipes:
        pipe.send(("finish",))
    for pipe in pipes:
        while True:
            message = pipe.recv()
            if message[0] == "result":
                break
        for target, (latencies, lost, duplicates, close_codes, pids) in zip(
            targets, message[1], strict=True
        ):
            target.latencies_us.extend(latencies)
            target.lost += lost
            target.duplicates += duplicates
            target.closed += sum(close_codes.values())
            for code, count in close_codes.items():
                target.close_codes[code] = target.close_codes.get(code, 0) + count
            for pid, count in pids.items():
                target.pids[pid] = target.pids.get(pid, 0) + count
    for process in processes:
        process.join(30)
    for target in targets:
        target.lost += target.failed * pins


def record_rss(target: Target) -> None:
    """The server's resident memory, when its health answer reports it (one process only)."""
    try:
        answer = http_call("GET", target.port, target.health_path)
    except (OSError, SystemExit):
        return
    if isinstance(answer, dict) and isinstance(answer.get("rss_kib"), int):
        target.rss_kib.append(answer["rss_kib"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(process: subprocess.Popen[bytes], port: int, path: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            conn.close()
            if response.status == 200:
                return body
        except OSError:
            pass
        time.sleep(0.1)  # polling a starting server process, outside any measurement
    raise SystemExit("server did not become ready")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def http_call(
    method: str,
    port: int,
    path: str,
    body: bytes | None = None,
    extra_headers: dict[str, str] | None = None,
) -> Any:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    headers.update(extra_headers or {})
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    answer = response.read()
    conn.close()
    if not 200 <= response.status < 300:
        raise SystemExit(f"trigger {method} {path} answered {response.status}")
    try:
        return json.loads(answer)
    except ValueError:
        return None


def start_app(args: argparse.Namespace, port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    if args.redis_url:
        env["LIVELOOP_REDIS_URL"] = args.redis_url
    else:
        env.pop("LIVELOOP_REDIS_URL", None)
    env["LIVELOOP_BENCH_VIEWERS_INTERVAL"] = str(args.viewers_interval)
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        args.app,
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(args.workers),
        "--ws",
        args.ws,
        "--ws-per-message-deflate",
        "false",
        "--ws-max-size",
        "65536",
        "--backlog",
        "4096",
        "--no-access-log",
        "--log-level",
        "warning",
        "--lifespan",
        "on",
    ]
    if args.factory:
        command.append("--factory")
    return subprocess.Popen(command, env=env)


def start_profiler(pid: int, output: str) -> subprocess.Popen[bytes]:
    """py-spy (installed next to this Python) sampling one server process, native frames too."""
    py_spy = os.path.join(os.path.dirname(sys.executable), "py-spy")
    return subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--rate",
            "250",
            "--format",
            "raw",
            "--native",
            "--output",
            output,
        ]
    )


def raise_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--viewers", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pins", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2, help="pins sent first and not counted")
    parser.add_argument("--client-procs", type=int, default=0, help="0: one per 1,500 viewers")
    parser.add_argument("--app", default="bench.fanout_app:app")
    parser.add_argument("--ws-path", default="/rooms/{room}/ws")
    parser.add_argument("--trigger-path", default="/rooms/{room}/pin")
    parser.add_argument("--ready-path", default="/healthz")
    parser.add_argument("--factory", action="store_true", help="--app names an app factory")
    parser.add_argument("--room", default=None, help="the room id (default: a random one)")
    parser.add_argument(
        "--trigger-header",
        action="append",
        default=[],
        help='"Name: value" sent with each trigger call, e.g. the host\'s Authorization',
    )
    parser.add_argument("--ws", default="websockets-sansio", help="uvicorn's --ws")
    parser.add_argument("--redis-url", default=None, help="default with --workers > 1: db 12")
    parser.add_argument("--viewers-interval", type=float, default=5.0)
    parser.add_argument("--skip-bare", action="store_true")
    parser.add_argument(
        "--pin-product",
        default=None,
        help="pin this product through the live room's pin endpoint (marks sent as `trace`)",
    )
    parser.add_argument("--profile", help="write py-spy's raw stacks of the servers here")
    args = parser.parse_args()
    if args.workers > 1 and not args.redis_url:
        args.redis_url = "redis://127.0.0.1:6379/12"
    if args.client_procs <= 0:
        args.client_procs = max(2, min(8, math.ceil(args.viewers / 1500)))
    raise_open_files()
    room = args.room or uuid.uuid4().hex
    servers: list[subprocess.Popen[bytes]] = []
    profilers: list[subprocess.Popen[bytes]] = []
    try:
        app_port = free_port()
        servers.append(start_app(args, app_port))
        wait_ready(servers[-1], app_port, args.ready_path, 60)
        trigger_path = args.trigger_path.format(room=room)
        trigger_headers = dict(
            (name.strip(), value.strip())
            for name, _, value in (h.partition(":") for h in args.trigger_header)
        )

        def fire_app(n: int) -> Any:
            sent_at_ns = time.time_ns()
            if args.pin_product:
                # the live room's real pin endpoint: the marks travel as the pin's trace
                payload: dict[str, Any] = {
                    "product_id": args.pin_product,
                    "trace": {"n": n, "sent_at_ns": sent_at_ns},
                }
            else:
                payload = {"n": n, "sent_at_ns": sent_at_ns, "product_id": f"prod-{n}"}
            body = json.dumps(payload)
            return http_call("POST", app_port, trigger_path, body.encode(), trigger_headers)

        targets = [
            Target(
                "liveloop",
                app_port,
                args.ws_path.format(room=room),
                fire_app,
                health_path=args.ready_path if args.workers == 1 else "/-",
            )
        ]
        if not args.skip_bare:
            bare_port = free_port()
            servers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bench.fanout_bare", "--port", str(bare_port)]
                )
            )
            wait_ready(servers[-1], bare_port, "/healthz", 60)

            def fire_bare(n: int) -> Any:
                sent_at_ns = time.time_ns()
                query = urlencode(
                    {"n": n, "sent_at_ns": sent_at_ns, "room": room, "product_id": f"prod-{n}"}
                )
                return http_call("GET", bare_port, f"/pin?{query}")

            targets.append(Target("bare", bare_port, "/ws", fire_bare))
        if args.profile:
            profilers.append(start_profiler(servers[0].pid, args.profile))
            if len(servers) > 1:
                profilers.append(start_profiler(servers[1].pid, args.profile + ".bare"))
        run_clients(targets, args.viewers, args.client_procs, args.pins, args.warmup)
    finally:
        for process in profilers + servers:
            stop(process)

    ours = targets[0]
    bare = targets[1] if len(targets) > 1 else None
    print()
    print(
        f"{'server':<10}{'viewers':>9}{'workers':>9}{'samples':>9}{'p50_ms':>9}{'p90_ms':>9}"
        f"{'p99_ms':>9}{'max_ms':>9}{'lost':>7}{'dup':>5}{'closed':>8}"
    )
    for row in targets:
        print(
            f"{row.label:<10}{row.connected:>9}{args.workers if row is ours else 1:>9}"
            f"{len(row.latencies_us):>9}{row.quantile_ms(0.5):>9.1f}{row.quantile_ms(0.9):>9.1f}"
            f"{row.quantile_ms(0.99):>9.1f}{row.quantile_ms(1.0):>9.1f}{row.lost:>7}"
            f"{row.duplicates:>5}{row.closed:>8}"
        )
    for row in targets:
        if row.publish_ms:
            timings = sorted(row.publish_ms)
            print(
                f"{row.label}: server-side publish call (in memory mode it includes the fan-out) "
                f"median {timings[len(timings) // 2]:.1f} ms, max {timings[-1]:.1f} ms"
            )
    for row in targets:
        if len(row.rss_kib) == 2 and row.connected:
            grown = row.rss_kib[1] - row.rss_kib[0]
            print(
                f"{row.label}: resident memory {row.rss_kib[0] / 1024:.0f} MiB idle, "
                f"{row.rss_kib[1] / 1024:.0f} MiB with {row.connected} viewers "
                f"({grown / row.connected:.1f} KiB per connection)"
            )
    for row in targets:
        if row.close_codes:
            print(
                f"{row.label}: connections closed during the run, by close code:", row.close_codes
            )
    if ours.pids:
        print("viewers per app worker (pid: viewers):", ours.pids)
    bare_p99 = bare.quantile_ms(0.99) if bare else float("nan")
    ratio = ours.quantile_ms(0.99) / bare_p99 if bare else float("nan")
    print(
        f"RESULT fanout viewers={args.viewers} workers={args.workers} "
        f"p50_ms={ours.quantile_ms(0.5):.1f} p99_ms={ours.quantile_ms(0.99):.1f} "
        f"bare_p99_ms={bare_p99:.1f} ratio_p99={ratio:.2f} lost={ours.lost}"
    )


if __name__ == "__main__":
    main()
