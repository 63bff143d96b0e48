"""Uploads are looked up through the media service: a video is published only once its asset is
ready to play, and then shows the asset's renditions."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.bootstrap import Container
from liveloop.creators.ports import MediaVideoAssets
from liveloop.media.models import VideoAsset, VideoStatus


async def test_assets_come_from_the_media_service(
    container: Container, session: AsyncSession
) -> None:
    assets = container.creators.video_assets
    assert isinstance(assets, MediaVideoAssets)
    assert await assets.get(session, uuid.uuid4()) is None
    owner = uuid.uuid4()
    # Arranged as the media context's transcoder leaves a finished upload.
    video = VideoAsset(
        owner_id=owner,
        original_filename="unboxing.mp4",
        container="mp4",
        size_bytes=1000,
        duration_ms=15000,
        width=1080,
        height=1920,
        video_codec="h264",
        status=VideoStatus.ready,
        progress=100,
        renditions=[
            {
                "name": "720p",
                "width": 720,
                "height": 1280,
                "key": "videos/x/720.mp4",
                "size_bytes": 9,
            }
        ],
        poster_key="videos/x/poster.jpg",
    )
    session.add(video)
    await session.flush()
    info = await assets.get(session, video.id)
    assert info is not None
    assert (info.owner_id, info.status, info.ready, info.duration_ms) == (
        owner,
        "ready",
        True,
        15000,
    )
    assert info.poster_url == "/media/videos/x/poster.jpg"
    assert [r["url"] for r in info.renditions] == ["/media/videos/x/720.mp4"]
