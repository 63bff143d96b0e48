"""Context variables shared by logging, errors and middleware for the current request."""

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
