"""`liveloop serve` (and so `make run`) starts liveloop's nginx when the machine has it, and goes
on without live video, saying why, when it does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from liveloop.kit.settings import Settings
from liveloop.media.nginx import free_port
from liveloop.media.wiring import start_media_server


def settings_in(tmp_path: Path) -> Settings:
    return Settings(
        var_dir=tmp_path / "var",
        media_dir=tmp_path / "media",
        secret_key="wiring-test",  # type: ignore[arg-type]
    )


def test_without_nginx_live_video_is_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LIVELOOP_MEDIA_NGINX_BINARY", "/nonexistent/nginx")
    monkeypatch.setenv("LIVELOOP_MEDIA_LADDER", "none")
    said: list[str] = []
    assert start_media_server(settings_in(tmp_path), said.append) is None
    assert said == [
        "live video is off: missing nginx (/nonexistent/nginx) "
        "(apt-get install -y nginx libnginx-mod-rtmp ffmpeg)"
    ]


@pytest.mark.media
def test_with_nginx_it_runs_until_stopped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rtmp, http = free_port(), free_port()
    monkeypatch.setenv("LIVELOOP_MEDIA_RTMP_PORT", str(rtmp))
    monkeypatch.setenv("LIVELOOP_MEDIA_HTTP_PORT", str(http))
    monkeypatch.setenv("LIVELOOP_MEDIA_LADDER", "none")
    said: list[str] = []
    server = start_media_server(settings_in(tmp_path), said.append)
    assert server is not None
    try:
        assert server.running
        assert said == [
            f"live video: RTMP ingest at rtmp://127.0.0.1:{rtmp}/live, "
            f"HLS at http://127.0.0.1:{http}/hls"
        ]
    finally:
        server.stop()
    assert not server.running
