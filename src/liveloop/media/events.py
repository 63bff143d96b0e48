"""Event types that media raises (delivered through the outbox)."""

STREAM_STARTED = "media.stream_started"
STREAM_DROPPED = "media.stream_dropped"
STREAM_ENDED = "media.stream_ended"
REPLAY_READY = "media.replay_ready"
VIDEO_UPLOADED = "media.video_uploaded"
VIDEO_READY = "media.video_ready"
VIDEO_FAILED = "media.video_failed"
