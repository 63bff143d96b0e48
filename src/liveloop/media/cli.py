"""`liveloop media`: nginx's configuration, running nginx, and simulated streams."""

from __future__ import annotations

import asyncio
import signal
import uuid
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from liveloop.kit.settings import get_settings
from liveloop.media.nginx import MediaServer, MediaServerError, missing_tools, render
from liveloop.media.wiring import media_config

app = typer.Typer(help="Live video: nginx with RTMP, HLS playback, simulated streams.")
console = Console()
err = Console(stderr=True)

INSTALL_HINT = "apt-get install -y nginx libnginx-mod-rtmp ffmpeg"


@app.command("nginx-config")
def nginx_config() -> None:
    """Print the nginx configuration liveloop runs (paths, ports and callbacks from settings)."""
    typer.echo(render(media_config(get_settings())), nl=False)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@app.command()
def serve() -> None:
    """Run liveloop's nginx (RTMP ingest and HLS) until Ctrl-C; liveloop itself must be running
    for nginx's callbacks (`liveloop serve`)."""
    config = media_config(get_settings())
    missing = missing_tools(config)
    if missing:
        err.print(
            f"[bold red]error:[/] missing {', '.join(missing)}; install with `{INSTALL_HINT}`"
        )
        raise typer.Exit(2)
    server = MediaServer(config)
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        try:
            server.start()
        except MediaServerError as exc:
            err.print(f"[bold red]error:[/] {exc}")
            raise typer.Exit(1) from exc
        ladder = ", ".join(r.name for r in server.ladder) or "none (source only)"
        console.print(f"[green]nginx is running[/] (prefix {config.prefix})")
        console.print(f"  RTMP ingest: {config.public_rtmp_url}/<session id>?key=<stream key>")
        console.print(f"  HLS:         {config.public_hls_url}/")
        console.print(f"  renditions:  source, {ladder}")
        console.print(f"  callbacks:   {config.callback_url}/api/v1/media/rtmp/…")
        code = server.wait()
        err.print(f"[bold red]nginx exited ({code}):[/]\n{server.error_log_tail()}")
        raise typer.Exit(1)
    except KeyboardInterrupt:
        console.print("stopping nginx…")
    finally:
        server.stop()  # also when Ctrl-C came while it was starting
        signal.signal(signal.SIGTERM, previous)


@app.command()
def simulate(
    session_id: Annotated[uuid.UUID, typer.Argument(help="The live session to publish to.")],
    seconds: Annotated[
        float | None, typer.Option(min=1, help="Stop after this long (default: until Ctrl-C).")
    ] = None,
    size: Annotated[str, typer.Option(help="Picture size, WIDTHxHEIGHT.")] = "640x360",
    clock: Annotated[bool, typer.Option(help="Burn the wall clock into the picture.")] = True,
) -> None:
    """Publish an ffmpeg test pattern (clock and tone) to a session, as its host would from OBS.
    It replaces the session's stream key."""
    from liveloop.bootstrap import bootstrap
    from liveloop.kit.errors import LiveloopError
    from liveloop.media.service import Media
    from liveloop.media.simulate import TestPattern
    from liveloop.media.simulate import simulate as run_simulation

    try:
        width, height = (int(v) for v in size.lower().split("x"))
    except ValueError as exc:
        raise typer.BadParameter("use WIDTHxHEIGHT, e.g. 640x360", param_hint="--size") from exc

    async def run() -> int:
        container = bootstrap(get_settings())
        try:
            media: Media | None = getattr(container, "media", None)
            if media is None:
                raise RuntimeError("this liveloop has no media service")
            console.print(f"publishing a test pattern to {session_id} (Ctrl-C stops)…")
            return await run_simulation(
                media,
                container.sessionmaker,
                session_id,
                seconds=seconds,
                pattern=TestPattern(width=width, height=height, clock=clock),
            )
        finally:
            await container.close()

    try:
        code = asyncio.run(run())
    except LiveloopError as exc:
        err.print(f"[bold red]error:[/] {exc.detail}")
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        code = 0
    if code != 0:
        err.print(f"[bold red]ffmpeg exited with {code}[/]: nginx refused or dropped the stream")
        raise typer.Exit(1)
