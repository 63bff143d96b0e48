"""Media's errors, each with its HTTP status and stable code."""

from liveloop.kit.errors import Conflict, Forbidden, LiveloopError, NotFound, Unprocessable


class PublishRefused(Forbidden):
    """nginx drops a publisher when its callback answers with a non-2xx status."""

    code = "publish_refused"


class CallbackForbidden(Forbidden):
    code = "media_callback_forbidden"


class LiveSessionNotFound(NotFound):
    code = "live_session_not_found"


class NotSessionHost(Forbidden):
    code = "not_session_host"


class SessionEnded(Conflict):
    code = "live_session_ended"


class StreamKeyConflict(Conflict):
    code = "stream_key_conflict"


class StreamOffline(NotFound):
    code = "stream_offline"


class ReplayNotFound(NotFound):
    code = "replay_not_found"


class VideoNotFound(NotFound):
    code = "video_not_found"


class NotACreator(Forbidden):
    code = "not_a_creator"


class VideoTooLarge(LiveloopError):
    status = 413
    code = "video_too_large"


class NotAVideo(LiveloopError):
    status = 415
    code = "not_a_video"


class CorruptVideo(Unprocessable):
    code = "corrupt_video"


class VideoTooLong(Unprocessable):
    code = "video_too_long"


class BadUpload(LiveloopError):
    status = 400
    code = "bad_upload"


class MediaToolMissing(LiveloopError):
    status = 503
    code = "media_tool_missing"
