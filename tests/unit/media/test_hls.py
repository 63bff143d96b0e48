"""Playlists: nginx's live playlists gain program date-times, renditions share the source's
clock, and the master playlist lists every rendition."""

from __future__ import annotations

from pathlib import Path

from liveloop.media import hls

NGINX_PLAYLIST = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-TARGETDURATION:1
#EXT-X-DISCONTINUITY
#EXTINF:1.000,
1795313429180.ts
#EXTINF:0.988,
1795313430177.ts
"""


def test_parse_reads_sequence_durations_and_wall_clock_names() -> None:
    playlist = hls.parse(NGINX_PLAYLIST)
    assert playlist.media_sequence == 7
    assert playlist.target_duration == 1
    assert [(s.uri, s.duration_s, s.discontinuity) for s in playlist.segments] == [
        ("1795313429180.ts", 1.0, True),
        ("1795313430177.ts", 0.988, False),
    ]
    assert playlist.segments[0].start_ms == 1795313429180
    assert playlist.segments[1].end_ms == 1795313431165
    assert playlist.ended is False


def test_every_segment_gets_its_program_date_time_and_an_absolute_url() -> None:
    text = hls.with_program_date_time(
        NGINX_PLAYLIST, segment_base_url="http://127.0.0.1:8088/hls/src/abc/"
    )
    assert text == (
        "#EXTM3U\n"
        "#EXT-X-VERSION:3\n"
        "#EXT-X-TARGETDURATION:1\n"
        "#EXT-X-MEDIA-SEQUENCE:7\n"
        "#EXT-X-DISCONTINUITY\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-22T02:10:29.180Z\n"
        "#EXTINF:1.000,\n"
        "http://127.0.0.1:8088/hls/src/abc/1795313429180.ts\n"
        "#EXT-X-PROGRAM-DATE-TIME:2026-11-22T02:10:30.177Z\n"
        "#EXTINF:0.988,\n"
        "http://127.0.0.1:8088/hls/src/abc/1795313430177.ts\n"
    )


def test_format_pdt_keeps_milliseconds() -> None:
    assert hls.format_pdt(0) == "1970-01-01T00:00:00.000Z"
    assert hls.format_pdt(1795313429007) == "2026-11-22T02:10:29.007Z"


def test_a_transcoded_rendition_takes_the_source_segments_dates() -> None:
    source = hls.parse(
        "#EXTM3U\n#EXTINF:1.0,\n1000000001000.ts\n#EXTINF:1.0,\n1000000002000.ts\n"
        "#EXTINF:1.0,\n1000000003000.ts\n"
    )
    # the 360p segments reached nginx ~110 ms later; the last one is newer than the source's
    # newest (its source segment is still open), so it is shifted by the median delay, 120 ms
    lower = hls.parse(
        "#EXTM3U\n#EXTINF:1.0,\n1000000002110.ts\n#EXTINF:1.0,\n1000000003120.ts\n"
        "#EXTINF:1.0,\n1000000004115.ts\n"
    )
    assert hls.aligned_starts(lower, source) == [1000000002000, 1000000003000, 1000000003995]


def test_alignment_without_a_source_keeps_the_names() -> None:
    lower = hls.parse("#EXTM3U\n#EXTINF:1.0,\n1000000002110.ts\n")
    assert hls.aligned_starts(lower, hls.MediaPlaylist()) == [1000000002110]


def test_master_lists_variants_with_resolution() -> None:
    text = hls.master(
        [
            hls.Variant("source", "source.m3u8", 2_000_000),
            hls.Variant("360p", "360p.m3u8", 800_000, height=360),
        ]
    )
    assert text == (
        "#EXTM3U\n"
        "#EXT-X-VERSION:3\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=2000000,NAME="source"\n'
        "source.m3u8\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,NAME="360p"\n'
        "360p.m3u8\n"
    )


def test_bandwidth_is_measured_from_the_newest_segments(tmp_path: Path) -> None:
    playlist = hls.parse("#EXTM3U\n#EXTINF:1.0,\n1.ts\n#EXTINF:1.0,\n2.ts\n")
    (tmp_path / "1.ts").write_bytes(b"x" * 100_000)
    (tmp_path / "2.ts").write_bytes(b"x" * 150_000)
    # 250 kB over 2 s = 1 Mbit/s, plus 10% headroom
    assert hls.measured_bandwidth(tmp_path, playlist, default=1) == 1_100_000
    assert hls.measured_bandwidth(tmp_path / "missing", playlist, default=7) == 7
