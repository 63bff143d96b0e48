"""Media's HTTP routes: nginx's callbacks, stream keys, playback and replay, video uploads."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.responses import PlainTextResponse

from liveloop.accounts.auth import Anyone, Public, SignedIn
from liveloop.kit.deps import DbSession, get_container
from liveloop.kit.errors import NotFound
from liveloop.kit.http import client_address
from liveloop.media import hls, uploads
from liveloop.media.errors import NotACreator, StreamOffline
from liveloop.media.schemas import (
    CallbackAccepted,
    PlaybackOut,
    ReplayOut,
    StreamKeyCreated,
    StreamKeyOut,
    VideoOut,
)
from liveloop.media.service import Media, RtmpCall

router = APIRouter(prefix="/api/v1", tags=["media"])


def get_media(request: Request) -> Media:
    media: Media | None = getattr(get_container(request), "media", None)
    if media is None:
        raise RuntimeError("the container has no media service")
    return media


MediaService = Annotated[Media, Depends(get_media)]

_REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "Refused: nginx drops the publisher; `code` says why."}
}


async def _rtmp_call(request: Request, media: Media) -> RtmpCall:
    media.check_callback(client_address(request.scope), request.query_params.get("secret"))
    form = await request.form()
    return RtmpCall.from_form({k: v for k, v in form.items() if isinstance(v, str)})


@router.post(
    "/media/rtmp/on-publish",
    response_model=CallbackAccepted,
    responses=_REFUSED,
    include_in_schema=False,
)
async def on_publish(
    request: Request, _: Anyone, session: DbSession, media: MediaService
) -> CallbackAccepted:
    """nginx asks whether a publisher may stream: 2xx lets it in, 403 drops it."""
    connection = await media.on_publish(session, await _rtmp_call(request, media))
    return CallbackAccepted(connection_id=connection.id)


@router.post("/media/rtmp/on-update", response_model=CallbackAccepted, include_in_schema=False)
async def on_update(
    request: Request, _: Anyone, session: DbSession, media: MediaService
) -> CallbackAccepted:
    await media.on_update(session, await _rtmp_call(request, media))
    return CallbackAccepted()


@router.post(
    "/media/rtmp/on-publish-done", response_model=CallbackAccepted, include_in_schema=False
)
async def on_publish_done(
    request: Request, _: Anyone, session: DbSession, media: MediaService
) -> CallbackAccepted:
    await media.on_publish_done(session, await _rtmp_call(request, media))
    return CallbackAccepted()


@router.post("/media/rtmp/on-record-done", response_model=CallbackAccepted, include_in_schema=False)
async def on_record_done(
    request: Request, _: Anyone, session: DbSession, media: MediaService
) -> CallbackAccepted:
    await media.on_record_done(session, await _rtmp_call(request, media))
    return CallbackAccepted()


# -- stream keys -------------------------------------------------------------------------------


@router.post(
    "/live-sessions/{live_session_id}/stream-key",
    status_code=status.HTTP_201_CREATED,
    response_model=StreamKeyCreated,
)
async def create_stream_key(
    live_session_id: uuid.UUID,
    principal: SignedIn,
    session: DbSession,
    media: MediaService,
    response: Response,
) -> StreamKeyCreated:
    """A new stream key for the session's host (shown once); an earlier key stops working,
    and a publisher still using it is dropped within one update interval."""
    assert principal.user_id is not None
    issued = await media.issue_stream_key(session, live_session_id, actor_id=principal.user_id)
    response.headers["Cache-Control"] = "no-store"
    return StreamKeyCreated(
        live_session_id=live_session_id,
        server_url=issued.server_url,
        key_hint=issued.key.hint,
        created_at=issued.key.created_at,
        stream_key=issued.stream_key,
        publish_url=issued.publish_url,
        replaced_previous=issued.replaced_previous,
    )


@router.get("/live-sessions/{live_session_id}/stream-key", response_model=StreamKeyOut)
async def get_stream_key(
    live_session_id: uuid.UUID, principal: SignedIn, session: DbSession, media: MediaService
) -> StreamKeyOut:
    """The current key's hint and the server URL (the key itself is shown only when made)."""
    assert principal.user_id is not None
    key = await media.current_stream_key(session, live_session_id, actor_id=principal.user_id)
    if key is None:
        raise NotFound("This session has no stream key yet.", code="stream_key_not_found")
    return StreamKeyOut(
        live_session_id=live_session_id,
        server_url=media.config.public_rtmp_url,
        key_hint=key.hint,
        created_at=key.created_at,
    )


# -- playback and replay -----------------------------------------------------------------------


@router.get("/live-sessions/{live_session_id}/playback", response_model=PlaybackOut)
async def playback(
    live_session_id: uuid.UUID, _: Public, session: DbSession, media: MediaService
) -> PlaybackOut:
    """Where to play the stream (HLS with program date-time), whether it is live, and how far
    behind the camera viewers are."""
    return await media.playback(session, live_session_id)


_PLAYLIST_HEADERS = {"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"}


@router.get(
    "/live-sessions/{live_session_id}/hls/{playlist}",
    response_class=PlainTextResponse,
    responses={200: {"content": {hls.CONTENT_TYPE: {}}}},
)
async def hls_playlist(
    live_session_id: uuid.UUID, playlist: str, _: Anyone, media: MediaService
) -> Response:
    """The master playlist (`master.m3u8`) or a rendition's (`source.m3u8`, `360p.m3u8`),
    read from nginx's files with no database work: every viewer fetches it every second."""
    name, dot, extension = playlist.partition(".")
    if dot != "." or extension != "m3u8":
        raise StreamOffline("No such playlist.")
    text = (
        media.master_playlist(live_session_id)
        if name == "master"
        else media.playlist(live_session_id, name)
    )
    return PlainTextResponse(text, media_type=hls.CONTENT_TYPE, headers=_PLAYLIST_HEADERS)


@router.get("/live-sessions/{live_session_id}/replay", response_model=ReplayOut)
async def replay(
    live_session_id: uuid.UUID, _: Public, session: DbSession, media: MediaService
) -> ReplayOut:
    """The recording as a replay, with every pin at its place in the video."""
    return await media.replay(session, live_session_id)


# -- uploaded videos ---------------------------------------------------------------------------

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            }
        },
    }
}


@router.post(
    "/videos/uploads",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=VideoOut,
    openapi_extra=_UPLOAD_BODY,
    responses={
        413: {"description": "`video_too_large`"},
        415: {"description": "`not_a_video`"},
        422: {"description": "`corrupt_video`, `video_too_long`"},
    },
)
async def upload_video(
    request: Request, principal: SignedIn, session: DbSession, media: MediaService
) -> VideoOut:
    """Upload a short video (multipart, field `file`). It is checked by its content (the file
    name does not matter), then transcoded in the background: poll its status and progress."""
    assert principal.user_id is not None
    if not (principal.is_creator or principal.shop_roles):
        raise NotACreator("Only creators and sellers upload videos.")
    received = await uploads.receive(request, media.config)
    try:
        container, probe = await uploads.check(received, media.config)
        video = await media.accept_upload(
            session,
            owner_id=principal.user_id,
            filename=received.filename,
            path=received.path,
            size=received.size,
            container=container,
            probe=probe,
        )
    finally:
        received.path.unlink(missing_ok=True)  # gone already when it was accepted
    return media.video_out(video)


@router.get("/videos/uploads/{video_id}", response_model=VideoOut)
async def get_video(
    video_id: uuid.UUID, principal: SignedIn, session: DbSession, media: MediaService
) -> VideoOut:
    """An uploaded video's status, transcode progress and, when ready, its renditions."""
    video = await media.video(session, video_id, owner_id=principal.user_id)
    return media.video_out(video)
