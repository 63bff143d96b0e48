"""Recognising video containers by content, and choosing transcode sizes."""

from __future__ import annotations

import pytest

from liveloop.media.config import RENDITIONS, parse_ladder, parse_networks
from liveloop.media.probe import sniff_container
from liveloop.media.transcode import Target, targets


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00", "mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00", "mov"),
        (b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x00", "3gp"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm", "webm"),
        (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska", "mkv"),
        (b"RIFF\x00\x00\x00\x00AVI LIST", "avi"),
        (b"FLV\x01\x05\x00\x00\x00\x09", "flv"),
        (bytes([0x47]) + bytes(187) + bytes([0x47]) + bytes(187) + bytes([0x47, 0]), "mpegts"),
        (b"hello, this is text\n", None),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", None),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", None),
        (b"", None),
    ],
)
def test_sniff_container(head: bytes, expected: str | None) -> None:
    assert sniff_container(head) == expected


def test_targets_never_upscale_and_name_by_the_shorter_side() -> None:
    assert targets(1920, 1080, (720, 360)) == [Target("720p", 1280, 720), Target("360p", 640, 360)]
    assert targets(1080, 1920, (720, 360)) == [Target("720p", 720, 1280), Target("360p", 360, 640)]
    assert targets(640, 360, (720, 360)) == [Target("360p", 640, 360)]
    assert targets(320, 240, (720, 360)) == [Target("240p", 320, 240)]


def test_ladder_and_networks_settings() -> None:
    assert parse_ladder("auto") is None
    assert parse_ladder("none") == ()
    assert parse_ladder("360p") == (RENDITIONS["360p"],)
    with pytest.raises(ValueError, match="unknown renditions"):
        parse_ladder("4k")
    assert [str(n) for n in parse_networks("127.0.0.1/32, 10.0.0.0/8")] == [
        "127.0.0.1/32",
        "10.0.0.0/8",
    ]
