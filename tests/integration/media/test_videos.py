"""Short-video uploads: checked by content while they stream in, refused with a clear reason and
nothing kept, or transcoded in the background to web-playable renditions and a poster."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liveloop.media.config import MediaConfig
from liveloop.media.jobs import MediaJobs
from liveloop.media.models import VideoAsset
from liveloop.media.transcode import _percent
from tests import conftest as root
from tests.conftest import MakeUser, assert_problem

pytestmark = pytest.mark.media

UPLOADS = "/api/v1/videos/uploads"


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def ffprobe(path: Path) -> dict[str, object]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        check=True,
        capture_output=True,
    ).stdout
    data: dict[str, object] = json.loads(out)
    return data


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("samples")
    pattern = ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "sine"]
    encode = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    ffmpeg(*pattern, "-t", "3", *encode, str(d / "clip.mp4"))
    small = ["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=10", "-f", "lavfi", "-i", "sine"]
    ffmpeg(*small, "-t", "12", *encode, str(d / "long.mp4"))  # over the 10 s limit
    ffmpeg("-i", str(d / "clip.mp4"), "-c", "copy", "-movflags", "+faststart", str(d / "fs.mp4"))
    ffmpeg("-f", "lavfi", "-i", "sine", "-t", "2", "-c:a", "aac", str(d / "tone.m4a"))
    clip = (d / "clip.mp4").read_bytes()
    faststart = (d / "fs.mp4").read_bytes()
    (d / "no-index.mp4").write_bytes(clip[: len(clip) // 3])  # the index (moov) is at the end
    (d / "cut.mp4").write_bytes(faststart[: len(faststart) // 3])  # index first, media cut off
    (d / "notes.mp4").write_text("not a video, whatever its name says\n" * 20)
    (d / "big.mp4").write_bytes(faststart[:32] + os.urandom(2_100_000))
    return {p.name: p for p in d.iterdir()}


async def upload(
    client: httpx.AsyncClient, user: root.SignedInUser, path: Path, name: str | None = None
) -> httpx.Response:
    with path.open("rb") as f:
        return await client.post(
            UPLOADS, headers=user.headers, files={"file": (name or path.name, f, "video/mp4")}
        )


def files_under(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


@pytest.mark.parametrize(
    ("sample", "status", "code"),
    [
        ("notes.mp4", 415, "not_a_video"),
        ("tone.m4a", 415, "not_a_video"),
        ("big.mp4", 413, "video_too_large"),
        ("long.mp4", 422, "video_too_long"),
        ("no-index.mp4", 422, "corrupt_video"),
        ("cut.mp4", 422, "corrupt_video"),
    ],
)
async def test_bad_uploads_are_refused_and_nothing_is_kept(
    sample: str,
    status: int,
    code: str,
    samples: dict[str, Path],
    media_client: httpx.AsyncClient,
    make_user: MakeUser,
    session: AsyncSession,
    media_config: MediaConfig,
) -> None:
    creator = await make_user(creator=True)
    response = await upload(media_client, creator, samples[sample])
    body = assert_problem(response, status, code)
    assert body["detail"]
    assert str(media_config.work_dir) not in body["detail"]  # no server paths in answers
    assert await session.scalar(select(func.count()).select_from(VideoAsset)) == 0
    assert files_under(media_config.work_dir) == []
    assert files_under(media_config.media_dir) == []


async def test_the_size_limit_stops_the_upload_while_it_streams(
    media_client: httpx.AsyncClient, make_user: MakeUser, media_config: MediaConfig
) -> None:
    creator = await make_user(creator=True)
    sent = 0

    async def body() -> object:
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="v.mp4"\r\n\r\n'
        for _ in range(200):  # 200 x 64 KiB = 12.5 MiB, far over the 2 MB limit
            sent += 1
            yield b"\0" * 65536
        yield b"\r\n--b--\r\n"

    response = await media_client.post(
        UPLOADS,
        headers={**creator.headers, "content-type": "multipart/form-data; boundary=b"},
        content=body(),
    )
    assert_problem(response, 413, "video_too_large")
    assert sent == 31  # refused at the first chunk past 2,000,000 bytes, not at the end
    assert files_under(media_config.work_dir) == []


async def test_only_creators_and_sellers_upload(
    media_client: httpx.AsyncClient, make_user: MakeUser, samples: dict[str, Path]
) -> None:
    buyer = await make_user()
    assert_problem(await upload(media_client, buyer, samples["clip.mp4"]), 403, "not_a_creator")
    assert_problem(
        await media_client.post(UPLOADS, headers=buyer.headers, data={"x": "1"}),
        403,
        "not_a_creator",
    )
    creator = await make_user(creator=True)
    not_multipart = await media_client.post(UPLOADS, headers=creator.headers, json={"file": 1})
    assert_problem(not_multipart, 400, "multipart_required")
    no_file = await media_client.post(
        UPLOADS, headers=creator.headers, files={"other": ("a.txt", b"x", "text/plain")}
    )
    assert_problem(no_file, 400, "file_missing")


async def test_an_upload_is_transcoded_to_playable_renditions_and_a_poster(
    samples: dict[str, Path],
    media_client: httpx.AsyncClient,
    make_user: MakeUser,
    jobs: MediaJobs,
    media_config: MediaConfig,
) -> None:
    creator = await make_user(creator=True)
    # named .MOV: the name is not what decides what the file is
    response = await upload(media_client, creator, samples["clip.mp4"], name="../My Clip.MOV")
    assert response.status_code == 202, response.text
    video = response.json()
    assert {k: video[k] for k in ("status", "progress", "container", "original_filename")} == {
        "status": "uploaded",
        "progress": 0,
        "container": "mp4",
        "original_filename": "My Clip.MOV",
    }
    assert (video["duration_ms"], video["width"], video["height"]) == (3000, 640, 360)
    assert video["renditions"] == [] and video["poster_url"] is None

    report = await jobs.run_due()
    assert [str(v) for v in report.videos] == [video["id"]]
    done = (await media_client.get(f"{UPLOADS}/{video['id']}", headers=creator.headers)).json()
    assert (done["status"], done["progress"], done["error"]) == ("ready", 100, None)
    assert [(r["name"], r["width"], r["height"]) for r in done["renditions"]] == [
        ("360p", 640, 360),
        ("180p", 320, 180),
    ]
    for rendition in done["renditions"]:
        assert rendition["url"].startswith(f"/media/videos/{video['id']}/")
        path = media_config.media_dir / rendition["url"].removeprefix("/media/")
        assert path.stat().st_size == rendition["size_bytes"]
        info = ffprobe(path)
        streams = {s["codec_type"]: s for s in info["streams"]}  # type: ignore[attr-defined]
        assert streams["video"]["codec_name"] == "h264"
        assert streams["video"]["pix_fmt"] == "yuv420p"
        assert streams["audio"]["codec_name"] == "aac"
        assert abs(float(info["format"]["duration"]) - 3.0) < 0.1  # type: ignore[index]
        head = path.read_bytes()[:4096]
        assert head.find(b"moov") < head.find(b"mdat") or b"mdat" not in head  # index first
    poster = media_config.media_dir / done["poster_url"].removeprefix("/media/")
    assert poster.read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG
    # the upload's temporary and incoming copies are gone
    assert files_under(media_config.work_dir) == []

    stranger = await make_user(creator=True)
    hidden = await media_client.get(f"{UPLOADS}/{video['id']}", headers=stranger.headers)
    assert_problem(hidden, 404, "video_not_found")


async def test_a_failed_transcode_is_reported_and_leaves_nothing(
    samples: dict[str, Path],
    media_client: httpx.AsyncClient,
    make_user: MakeUser,
    jobs: MediaJobs,
    media_config: MediaConfig,
) -> None:
    creator = await make_user(creator=True)
    video = (await upload(media_client, creator, samples["clip.mp4"])).json()
    incoming = media_config.work_dir / "incoming" / video["id"]
    incoming.write_bytes(incoming.read_bytes()[:20_000])  # the disk lost most of it
    await jobs.run_due()
    failed = (await media_client.get(f"{UPLOADS}/{video['id']}", headers=creator.headers)).json()
    assert failed["status"] == "failed"
    assert failed["error"] and str(media_config.work_dir) not in failed["error"]
    assert failed["renditions"] == [] and failed["poster_url"] is None
    assert files_under(media_config.media_dir) == []
    assert files_under(media_config.work_dir) == []


def test_progress_is_read_from_ffmpeg_out_time() -> None:
    assert _percent({"out_time_us": "1500000", "progress": "continue"}, 3.0) == 50
    assert _percent({"out_time_ms": "2970000", "progress": "continue"}, 3.0) == 99
    assert _percent({"out_time_us": "N/A", "progress": "continue"}, 3.0) is None
    assert _percent({"out_time_us": "-5000", "progress": "continue"}, 3.0) == 0
    assert _percent({"progress": "end"}, 3.0) == 99
