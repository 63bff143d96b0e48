"""Stream keys and the decisions behind nginx's callbacks, through the HTTP routes nginx calls:
who may publish, what is refused and why, drops, the grace period and reconnects."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.media.config import MediaConfig
from liveloop.media.jobs import MediaJobs
from liveloop.media.models import (
    ConnectionStatus,
    EndState,
    IngestConnection,
    Recording,
    RecordingStatus,
    StreamKey,
)
from liveloop.media.service import Media
from tests.conftest import MakeUser, assert_problem
from tests.integration.media.conftest import CALLBACK_SECRET, FakeClock, FakeLiveSessions


async def callback(client: httpx.AsyncClient, which: str, form: dict[str, str]) -> httpx.Response:
    return await client.post(
        f"/api/v1/media/rtmp/{which}", params={"secret": CALLBACK_SECRET}, data=form
    )


def publish_form(
    live_session_id: uuid.UUID | str, key: str | None, client_id: str = "7", **extra: str
) -> dict[str, str]:
    form = {
        "call": "publish",
        "app": "live",
        "name": str(live_session_id),
        "clientid": client_id,
        "addr": "198.51.100.20",
        "type": "live",
        "tcurl": "rtmp://127.0.0.1:1935/live",
        **extra,
    }
    if key is not None:
        form["key"] = key
    return form


def secret_of(stream_key: str) -> str:
    return stream_key.split("?key=", 1)[1]


async def new_key(
    client: httpx.AsyncClient, live_session_id: uuid.UUID, headers: dict[str, str]
) -> str:
    response = await client.post(
        f"/api/v1/live-sessions/{live_session_id}/stream-key", headers=headers
    )
    assert response.status_code == 201, response.text
    return secret_of(response.json()["stream_key"])


async def connections(session: AsyncSession, live_session_id: uuid.UUID) -> list[IngestConnection]:
    return list(
        (
            await session.scalars(
                select(IngestConnection)
                .where(IngestConnection.live_session_id == live_session_id)
                .order_by(IngestConnection.started_at, IngestConnection.client_id)
            )
        ).all()
    )


# -- stream keys -------------------------------------------------------------------------------


async def test_host_gets_a_stream_key_and_rotating_replaces_it(
    media_client: httpx.AsyncClient,
    make_user: MakeUser,
    live_sessions: FakeLiveSessions,
    session: AsyncSession,
    clock: FakeClock,
) -> None:
    host = await make_user()
    sid = live_sessions.add(host.id)
    first = await media_client.post(f"/api/v1/live-sessions/{sid}/stream-key", headers=host.headers)
    assert first.status_code == 201
    assert first.headers["cache-control"] == "no-store"
    body = first.json()
    secret = secret_of(body["stream_key"])
    assert body == {
        "live_session_id": str(sid),
        "server_url": "rtmp://127.0.0.1:1935/live",
        "key_hint": secret[-4:],
        "created_at": clock.now.isoformat().replace("+00:00", "Z"),
        "stream_key": f"{sid}?key={secret}",
        "publish_url": f"rtmp://127.0.0.1:1935/live/{sid}?key={secret}",
        "replaced_previous": False,
    }
    assert secret.startswith("lsk_") and len(secret) == 36
    stored = (await session.scalars(select(StreamKey))).all()
    assert [(k.key_hash, k.hint, k.created_by, k.revoked_at) for k in stored] == [
        (hashlib.sha256(secret.encode()).hexdigest(), secret[-4:], host.id, None)
    ]

    shown = await media_client.get(f"/api/v1/live-sessions/{sid}/stream-key", headers=host.headers)
    assert shown.json()["key_hint"] == secret[-4:]
    assert "stream_key" not in shown.json()

    clock.advance(seconds=5)
    second = await media_client.post(
        f"/api/v1/live-sessions/{sid}/stream-key", headers=host.headers
    )
    assert second.json()["replaced_previous"] is True
    assert secret_of(second.json()["stream_key"]) != secret
    session.expire_all()
    keys = (await session.scalars(select(StreamKey).order_by(StreamKey.created_at))).all()
    assert [k.revoked_at for k in keys] == [clock.now, None]


async def test_only_the_host_gets_a_key_for_a_session_that_may_go_live(
    media_client: httpx.AsyncClient, make_user: MakeUser, live_sessions: FakeLiveSessions
) -> None:
    host = await make_user()
    other = await make_user()
    sid = live_sessions.add(host.id)
    path = f"/api/v1/live-sessions/{sid}/stream-key"
    assert_problem(await media_client.post(path, headers=other.headers), 403, "not_session_host")
    assert_problem(await media_client.get(path, headers=other.headers), 403, "not_session_host")
    assert_problem(await media_client.post(path), 401, "unauthenticated")
    assert_problem(await media_client.get(path, headers=host.headers), 404, "stream_key_not_found")
    unknown = f"/api/v1/live-sessions/{uuid.uuid4()}/stream-key"
    assert_problem(
        await media_client.post(unknown, headers=host.headers), 404, "live_session_not_found"
    )
    ended = live_sessions.add(host.id, state="ended")
    assert_problem(
        await media_client.post(f"/api/v1/live-sessions/{ended}/stream-key", headers=host.headers),
        409,
        "live_session_ended",
    )


# -- who may call the callbacks ----------------------------------------------------------------


async def test_callbacks_are_taken_from_the_media_server_only(
    media_client: httpx.AsyncClient, media: Media, settings: Any, container: Any
) -> None:
    form = publish_form(uuid.uuid4(), "lsk_whatever")
    no_secret = await media_client.post("/api/v1/media/rtmp/on-publish", data=form)
    assert_problem(no_secret, 403, "media_callback_forbidden")
    wrong = await media_client.post(
        "/api/v1/media/rtmp/on-publish", params={"secret": "guess"}, data=form
    )
    assert_problem(wrong, 403, "media_callback_forbidden")
    app = media_client._transport.app  # type: ignore[attr-defined]
    remote = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 40000)),
        base_url="http://testserver",
    )
    async with remote:
        from_outside = await remote.post(
            "/api/v1/media/rtmp/on-publish", params={"secret": CALLBACK_SECRET}, data=form
        )
    assert_problem(from_outside, 403, "media_callback_forbidden")


# -- publishing --------------------------------------------------------------------------------


async def test_a_valid_key_lets_the_host_publish_and_the_session_goes_live(
    media_client: httpx.AsyncClient,
    make_user: MakeUser,
    live_sessions: FakeLiveSessions,
    session: AsyncSession,
    clock: FakeClock,
) -> None:
    host = await make_user()
    sid = live_sessions.add(host.id)
    secret = await new_key(media_client, sid, host.headers)
    response = await callback(media_client, "on-publish", publish_form(sid, secret))
    assert response.status_code == 200
    assert live_sessions.sessions[sid].state == "live"
    assert live_sessions.calls_of("live", sid) == [{"started_at": clock.now}]
    [connection] = await connections(session, sid)
    assert response.json() == {"ok": True, "connection_id": str(connection.id)}
    assert (connection.status, connection.client_id, connection.address) == (
        ConnectionStatus.live,
        "7",
        "198.51.100.20",
    )
    recording = await session.scalar(select(Recording).where(Recording.live_session_id == sid))
    assert recording is not None and recording.status is RecordingStatus.recording


REFUSALS = [
    ("invalid key", "stream_key_invalid"),
    ("no key", "stream_key_missing"),
    ("rotated key", "stream_key_rotated"),
    ("key of another session", "stream_key_mismatch"),
    ("ended session", "live_session_ended"),
    ("banned host", "host_banned"),
    ("new host", "stream_key_host_changed"),
    ("wrong application", "unknown_app"),
]


@pytest.mark.parametrize(("case", "code"), REFUSALS)
async def test_refused_publishers_change_nothing(
    case: str,
    code: str,
    media_client: httpx.AsyncClient,
    make_user: MakeUser,
    live_sessions: FakeLiveSessions,
    session: AsyncSession,
) -> None:
    host = await make_user()
    sid = live_sessions.add(host.id)
    secret = await new_key(media_client, sid, host.headers)
    form = publish_form(sid, secret)
    if case == "invalid key":
        form["key"] = "lsk_" + "x" * 32
    elif case == "no key":
        del form["key"]
    elif case == "rotated key":
        await new_key(media_client, sid, host.headers)
    elif case == "key of another session":
        other = live_sessions.add(host.id)
        await new_key(media_client, other, host.headers)
        form["name"] = str(other)
    elif case == "ended session":
        live_sessions.sessions[sid].state = "ended"
    elif case == "banned host":
        live_sessions.sessions[sid].banned = True
    elif case == "new host":
        live_sessions.sessions[sid].host_id = uuid.uuid4()
    elif case == "wrong application":
        form["app"] = "abr"
    state_before = live_sessions.sessions[sid].state
    response = await callback(media_client, "on-publish", form)
    body = assert_problem(response, 403, code)
    assert body["detail"]
    assert live_sessions.sessions[sid].state == state_before
    assert live_sessions.calls == []
    assert await session.scalar(select(func.count()).select_from(IngestConnection)) == 0
    assert await session.scalar(select(func.count()).select_from(Recording)) == 0


async def test_a_second_publisher_is_refused_unless_the_first_is_gone(
    media_client: httpx.AsyncClient,
    make_user: MakeUser,
    live_sessions: FakeLiveSessions,
    session: AsyncSession,
    clock: FakeClock,
    media_config: MediaConfig,
) -> None:
    host = await make_user()
    sid = live_sessions.add(host.id)
    secret = await new_key(media_client, sid, host.headers)
    assert (await callback(media_client, "on-publish", publish_form(sid, secret, "1"))).is_success
    second = await callback(media_client, "on-publish", publish_form(sid, secret, "2"))
    assert_problem(second, 403, "already_publishing")
    assert len(live_sessions.calls_of("live", sid)) == 1

    # nginx restarted without telling: no update for longer than three update intervals
    clock.advance(seconds=media_config.stale_after.total_seconds() + 1)
    third = await callback(media_client, "on-publish", publish_form(sid, secret, "3"))
    assert third.status_code == 200
    first, latest = await connections(session, sid)
    assert (first.client_id, first.status, first.stop_reason) == (
        "1",
        ConnectionStatus.stopped,
        "lost",
    )
    assert (latest.client_id, latest.status) == ("3", ConnectionStatus.live)


async def test_a_drop_ends_the_session_after_the_grace_period(
    media_client: httpx.AsyncClient,
    make_user: MakeUser,
    live_sessions: FakeLiveSessions,
    session: AsyncSession,
    clock: FakeClock,
    jobs: MediaJobs,
    media_config: MediaConfig,
) -> None:
    host = await make_user()
    sid = live_sessions.add(host.id)
    secret = await new_key(media_client, sid, host.headers)
    await callback(media_client, "on-publish", publish_form(sid, secret))
    stopped_at = clock.advance(seconds=42)
    done = await callback(
        media_client, "on-publish-done", publish_form(sid, secret, call="publish_done")
    )
    assert done.status_code == 200
    assert live_sessions.calls_of("dropped", sid) == [{"dropped_at": stopped_at}]
    [connection] = await connections(session, sid)
    assert (connection.status, connection.end_state, connection.end_due_at) == (
        ConnectionStatus.stopped,
        EndState.pending,
        stopped_at + media_config.grace,
    )
    just_before = stopped_at + media_config.grace - media_config.grace / 1000
    assert await jobs.end_due_sessions(just_before) == []
    assert live_sessions.sessions[sid].state == "live"
    assert await jobs.end_due_sessions(stopped_at + media_config.grace) == [sid]
    assert live_sessions.calls_of("ended", sid) == [
        {"ended_at": stopped_at, "reason": "stream_stopped"}
    ]
    await session.refresh(connection)
    assert connection.end_state is EndState.ended
    recording = await session.scalar(select(Recording).where(Recording.live_session_id == sid))
    assert recording is not None and recording.status is RecordingStatus.processing
    # running the jobs again ends nothing twice
    assert await jobs.end_due_sessions(stopped_at + media_config.grace * 2) == []
    assert len(live_sessions.calls_of("ended", sid)) == 1


async def test_a_reconnect_within_the_grace_period_continues_the_session(
    media_client: httpx.AsyncClient,
    make_user: MakeUser,
    live_sessions: FakeLiveSessions,
    session: AsyncSession,
    clock: FakeClock,
    jobs: MediaJobs,
    media_config: MediaConfig,
) -> None:
    host = await make_user()
    sid = live_sessions.add(host.id)
    secret = await new_key(media_client, sid, host.headers)
    await callback(media_client, "on-publish", publish_form(sid, secret, "1"))
    clock.advance(seconds=10)
    await callback(
        media_client, "on-publish-done", publish_form(sid, secret, "1", call="publish_done")
    )
    resumed_at = clock.advance(seconds=media_config.grace.total_seconds() / 2)
    again = await callback(media_client, "on-publish", publish_form(sid, secret, "2"))
    assert again.status_code == 200
    assert [c["started_at"] for c in live_sessions.calls_of("live", sid)][-1] == resumed_at
    assert await jobs.end_due_sessions(clock.advance(seconds=3600)) == []
    assert live_sessions.sessions[sid].state == "live"
    assert live_sessions.calls_of("ended", sid) == []
    first, second = await connections(session, sid)
    assert (first.end_state, second.status) == (EndState.resumed, ConnectionStatus.live)


async def test_updates_date_the_stream_and_drop_a_publisher_whose_key_was_rotated(
    media_client: httpx.AsyncClient,
    make_user: MakeUser,
    live_sessions: FakeLiveSessions,
    session: AsyncSession,
    clock: FakeClock,
) -> None:
    host = await make_user()
    sid = live_sessions.add(host.id)
    secret = await new_key(media_client, sid, host.headers)
    await callback(media_client, "on-publish", publish_form(sid, secret))
    start_ms = int(clock.now.timestamp() * 1000)
    clock.advance(seconds=2.02)  # 20 ms of network and processing before this update
    update = publish_form(sid, secret, call="update_publish", timestamp="2000", time="2")
    assert (await callback(media_client, "on-update", update)).status_code == 200
    clock.advance(seconds=2.0)
    update.update(timestamp="4010", time="4")  # this one arrived 10 ms sooner
    assert (await callback(media_client, "on-update", update)).status_code == 200
    [connection] = await connections(session, sid)
    assert connection.clock_anchor_ms == start_ms + 10
    assert connection.last_seen_at == clock.now

    await new_key(media_client, sid, host.headers)
    assert_problem(await callback(media_client, "on-update", update), 403, "stream_key_rotated")


async def test_an_update_drops_the_publisher_of_a_session_ended_meanwhile(
    media_client: httpx.AsyncClient,
    make_user: MakeUser,
    live_sessions: FakeLiveSessions,
    session: AsyncSession,
    media_config: MediaConfig,
) -> None:
    host = await make_user()
    sid = live_sessions.add(host.id)
    secret = await new_key(media_client, sid, host.headers)
    await callback(media_client, "on-publish", publish_form(sid, secret))
    live_sessions.sessions[sid].state = "ended"  # the host pressed "end" in liveloop
    update = publish_form(sid, secret, call="update_publish", timestamp="5000")
    assert_problem(await callback(media_client, "on-update", update), 403, "live_session_ended")
    unknown = publish_form(sid, secret, "99", call="update_publish", timestamp="5000")
    assert_problem(await callback(media_client, "on-update", unknown), 403, "publisher_unknown")
    # the ladder's ffmpeg plays the stream from localhost; nginx reports it too
    player = publish_form(sid, None, "98", call="update_play", timestamp="5000")
    assert (await callback(media_client, "on-update", player)).status_code == 200

    # nginx drops it and reports the end: no grace period, the recording is built now, and
    # the stream's playlists go
    playlists = media_config.source_hls_dir / str(sid)
    playlists.mkdir(parents=True)
    (playlists / "index.m3u8").write_text("#EXTM3U\n")
    done = publish_form(sid, secret, call="publish_done")
    assert (await callback(media_client, "on-publish-done", done)).status_code == 200
    [connection] = await connections(session, sid)
    assert (connection.status, connection.end_state) == (ConnectionStatus.stopped, EndState.none)
    assert live_sessions.calls_of("dropped", sid) == []
    recording = await session.scalar(select(Recording).where(Recording.live_session_id == sid))
    assert recording is not None and recording.status is RecordingStatus.processing
    assert not playlists.exists()


async def test_record_done_keeps_paths_inside_the_recordings_directory(
    media_client: httpx.AsyncClient,
    make_user: MakeUser,
    live_sessions: FakeLiveSessions,
    session: AsyncSession,
    media_config: MediaConfig,
) -> None:
    host = await make_user()
    sid = live_sessions.add(host.id)
    secret = await new_key(media_client, sid, host.headers)
    await callback(media_client, "on-publish", publish_form(sid, secret))
    outside = publish_form(sid, secret, call="record_done", path="/etc/passwd")
    assert (await callback(media_client, "on-record-done", outside)).status_code == 200
    [connection] = await connections(session, sid)
    assert connection.record_path is None
    inside = str(media_config.recordings_dir / f"{sid}-1795313062.flv")
    done = publish_form(sid, secret, call="record_done", path=inside)
    assert (await callback(media_client, "on-record-done", done)).status_code == 200
    await session.refresh(connection)
    assert connection.record_path == inside


def test_every_media_route_declares_who_may_call_it() -> None:
    from fastapi.routing import APIRoute

    from liveloop.media.endpoints import router
    from tests.integration.kit.test_api_conventions import _access_kinds

    undeclared = [
        route.path
        for route in router.routes
        if isinstance(route, APIRoute) and not _access_kinds(route.dependant)
    ]
    assert undeclared == []
