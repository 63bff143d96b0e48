"""`liveloop media`: printing nginx's configuration, running nginx until Ctrl-C, and the
simulated host's test pattern."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from liveloop.media.config import MediaConfig, derive_callback_secret
from liveloop.media.nginx import MediaServer, free_port
from liveloop.media.simulate import simulate
from tests.integration.media.conftest import LiveStack, wait_for

CLI = [sys.executable, "-c", "from liveloop.media.cli import app; app()"]


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "LIVELOOP_VAR_DIR": str(tmp_path / "var"),
        "LIVELOOP_MEDIA_DIR": str(tmp_path / "media"),
        "LIVELOOP_SECRET_KEY": "cli-test-secret",
        "LIVELOOP_PUBLIC_BASE_URL": "http://127.0.0.1:8123",
        "LIVELOOP_MEDIA_LADDER": "none",
        **extra,
    }


def test_nginx_config_prints_our_nginx_with_callbacks_to_liveloop(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLI, "nginx-config"],
        env=env_for(tmp_path, LIVELOOP_MEDIA_RTMP_PORT="19999"),
        capture_output=True,
        text=True,
        check=True,
    )
    config = result.stdout
    prefix = (tmp_path / "var" / "nginx").absolute()
    secret = derive_callback_secret("cli-test-secret")
    assert "load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;" in config
    assert "daemon off;" in config
    assert "listen 127.0.0.1:19999;" in config
    assert f"pid {prefix}/logs/nginx.pid;" in config
    assert f"hls_path {prefix}/hls/src;" in config
    assert f"record_path {prefix}/recordings;" in config
    assert "hls_fragment_naming system;" in config
    assert (
        "on_publish http://127.0.0.1:8123/api/v1/media/rtmp/on-publish?secret=" + secret + ";"
    ) in config
    assert "exec_push" not in config  # no ladder asked for
    for line in config.splitlines():
        if "_temp_path" in line or line.strip().startswith(("error_log", "pid")):
            assert str(prefix) in line  # nothing written outside our prefix


@pytest.mark.media
def test_serve_runs_nginx_until_interrupted(tmp_path: Path) -> None:
    rtmp, http = free_port(), free_port()
    process = subprocess.Popen(
        [*CLI, "serve"],
        env=env_for(
            tmp_path,
            LIVELOOP_MEDIA_RTMP_PORT=str(rtmp),
            LIVELOOP_MEDIA_HTTP_PORT=str(http),
            PYTHONUNBUFFERED="1",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid_file = tmp_path / "var" / "nginx" / "logs" / "nginx.pid"
    try:
        assert process.stdout is not None
        for line in process.stdout:  # waits for the banner printed once nginx listens
            if "nginx is running" in line:
                break
        else:
            pytest.fail(f"serve ended early: {process.stderr.read() if process.stderr else ''}")
        nginx_pid = int(pid_file.read_text())
        process.send_signal(signal.SIGINT)
        stdout, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        # never leave an nginx behind, even when the test fails
        MediaServer(
            MediaConfig(
                prefix=(tmp_path / "var" / "nginx").absolute(),
                media_dir=tmp_path / "media",
                work_dir=tmp_path / "work",
                callback_secret="unused",
            ),
            ladder=(),
        ).stop_leftover()
    assert process.returncode == 0
    assert "stopping nginx" in stdout
    with pytest.raises(ProcessLookupError):
        os.kill(nginx_pid, 0)  # nginx is gone with it


@pytest.mark.media
@pytest.mark.slow
async def test_simulate_publishes_a_test_pattern_with_a_clock(
    live_stack_factory: Any, committing_sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    stack: LiveStack = live_stack_factory()
    sid = stack.live_sessions.add(uuid.uuid4())
    code = await simulate(stack.host_media(), committing_sessionmaker, sid, seconds=3)
    assert code == 0
    assert len(stack.live_sessions.calls_of("live", sid)) == 1

    async def dropped() -> object:
        return stack.live_sessions.calls_of("dropped", sid)

    await wait_for(dropped, seconds=5, what="the end of the simulated stream")
