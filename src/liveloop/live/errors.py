"""Live's errors, each with its HTTP status and stable code."""

from liveloop.kit.errors import Conflict, Forbidden, NotFound, Unprocessable


class SessionNotFound(NotFound):
    code = "live_session_not_found"


class NotHost(Forbidden):
    code = "not_session_host"


class IllegalTransition(Conflict):
    code = "illegal_session_transition"


class InvalidSchedule(Unprocessable):
    code = "invalid_schedule"


class NotInBag(Unprocessable):
    code = "product_not_in_bag"


class NotLive(Conflict):
    code = "session_not_live"
