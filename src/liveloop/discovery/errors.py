"""Discovery's errors, each with its HTTP status and stable code."""

from liveloop.kit.errors import LiveloopError, NotFound, Unprocessable


class UnknownViewer(NotFound):
    code = "unknown_viewer"


class UnknownMarket(Unprocessable):
    code = "unknown_market"


class UnknownItem(NotFound):
    code = "unknown_item"


class InvalidPageSize(Unprocessable):
    code = "invalid_page_size"


class InvalidCursor(LiveloopError):
    """The page cursor was altered, is malformed, or belongs to another viewer or market."""

    status = 400
    code = "invalid_cursor"


class CursorExpired(InvalidCursor):
    """The cursor is genuine but its feed session is gone: start again from the first page."""

    status = 410
    code = "cursor_expired"
