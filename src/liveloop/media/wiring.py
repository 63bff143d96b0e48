"""Building the media service for a process, and running its background jobs there."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.kit.settings import Settings
from liveloop.kit.storage import LocalMediaStorage
from liveloop.media.config import MediaConfig, MediaSettings
from liveloop.media.gateway import LiveSessions
from liveloop.media.jobs import MediaJobs
from liveloop.media.nginx import MediaServer, MediaServerError, missing_tools
from liveloop.media.service import Media


def media_config(settings: Settings, **overrides: Any) -> MediaConfig:
    """The media settings of this process (`LIVELOOP_MEDIA_*`), with `overrides` on top."""
    return MediaSettings().resolve(settings, **overrides)


def build_media(
    settings: Settings,
    *,
    live_sessions: LiveSessions,
    storage: LocalMediaStorage | None = None,
    **overrides: Any,
) -> Media:
    return Media(
        media_config(settings, **overrides),
        live_sessions=live_sessions,
        storage=storage or LocalMediaStorage(settings.media_dir),
    )


def run_jobs(
    media: Media, sessionmaker: async_sessionmaker[AsyncSession], stop: asyncio.Event
) -> Any:
    """The coroutine that does media's background work until `stop` (give it to `spawn`)."""
    return MediaJobs(media, sessionmaker).run(stop)


def start_media_server(
    settings: Settings, say: Callable[[str], None] = print
) -> MediaServer | None:
    """Start liveloop's nginx for `liveloop serve` (and so `make run`) when this machine has
    nginx with the RTMP module and ffmpeg; otherwise say what is missing and go on without live
    video. The caller stops the returned server."""
    config = media_config(settings)
    missing = missing_tools(config)
    if missing:
        say(
            f"live video is off: missing {', '.join(missing)} "
            "(apt-get install -y nginx libnginx-mod-rtmp ffmpeg)"
        )
        return None
    server = MediaServer(config)
    try:
        server.start()
    except MediaServerError as exc:
        say(f"live video is off: nginx did not start: {exc}")
        return None
    say(f"live video: RTMP ingest at {config.public_rtmp_url}, HLS at {config.public_hls_url}")
    return server
