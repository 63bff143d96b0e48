"""The ceiling for `bench.fanout`: a broadcast server on the `websockets` library alone.

`GET /pin?n=..&sent_at_ns=..&room=..` broadcasts one pin (the same envelope shape liveloop
sends) to every connected socket with `websockets.broadcast`; any other path is a WebSocket.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.http11 import Request, Response

CONNECTIONS: set[ServerConnection] = set()
_seq = 0


async def handler(websocket: ServerConnection) -> None:
    CONNECTIONS.add(websocket)
    try:
        await websocket.wait_closed()
    finally:
        CONNECTIONS.discard(websocket)


def process_request(connection: ServerConnection, request: Request) -> Response | None:
    global _seq
    url = urlsplit(request.path)
    if url.path == "/healthz":
        health = {"status": "ok", "connections": len(CONNECTIONS), "rss_kib": rss_kib()}
        return connection.respond(HTTPStatus.OK, json.dumps(health))
    if url.path != "/pin":
        return None
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    _seq += 1
    text = json.dumps(
        {
            "seq": _seq,
            "type": "pin",
            "room": query.get("room", ""),
            "at": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "media_time_ms": None,
            "data": {
                "n": int(query["n"]),
                "sent_at_ns": int(query["sent_at_ns"]),
                "product_id": query.get("product_id", ""),
            },
        },
        separators=(",", ":"),
    )
    started = time.perf_counter()
    broadcast(CONNECTIONS, text)
    elapsed = (time.perf_counter() - started) * 1000
    return connection.respond(HTTPStatus.OK, f'{{"seq":{_seq},"publish_ms":{elapsed}}}\n')


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def main(host: str, port: int) -> None:
    async with serve(
        handler,
        host,
        port,
        process_request=process_request,
        compression=None,
        backlog=4096,
        max_size=4096,
    ) as server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    try:
        import uvloop  # the same event loop uvicorn uses

        uvloop.run(main(args.host, args.port))
    except ImportError:
        asyncio.run(main(args.host, args.port))
    except KeyboardInterrupt:
        pass
