"""Media: stream keys and RTMP ingest through nginx, HLS playback, recordings, short videos."""
