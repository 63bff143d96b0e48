"""The one error base class, and its rendering as RFC 9457 `application/problem+json`."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from liveloop.kit.context import request_id_var

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://liveloop.dev/problems/"

log = logging.getLogger("liveloop.errors")


class LiveloopError(Exception):
    """A failure a caller can act on: carries its HTTP status and a stable machine code."""

    status: int = 400
    code: str = "bad_request"
    title: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.errors = list(errors) if errors else []
        self.headers = dict(headers or {})
        self.extra = extra

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(status={self.status}, code={self.code!r}, detail={self.detail!r})"


class NotFound(LiveloopError):
    status = 404
    code = "not_found"


class Forbidden(LiveloopError):
    status = 403
    code = "forbidden"


class Unauthorized(LiveloopError):
    status = 401
    code = "unauthenticated"


class Conflict(LiveloopError):
    status = 409
    code = "conflict"


class Unprocessable(LiveloopError):
    status = 422
    code = "invalid"


class TooManyRequests(LiveloopError):
    status = 429
    code = "rate_limited"


def field_error(field: str, message: str, *, code: str = "invalid") -> dict[str, str]:
    """One entry of a problem's `errors` list, naming the field it concerns."""
    return {"field": field, "message": message, "code": code}


def problem_body(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    instance: str | None = None,
    errors: Sequence[Mapping[str, Any]] = (),
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title or _title(status),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    request_id = request_id_var.get()
    if request_id:
        body["request_id"] = request_id
    if errors:
        body["errors"] = [dict(e) for e in errors]
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return body


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: Sequence[Mapping[str, Any]] = (),
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> JSONResponse:
    return JSONResponse(
        problem_body(
            status, code, detail, title=title, instance=instance, errors=errors, extra=extra
        ),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=dict(headers or {}),
    )


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "rate_limited",
}


def _location(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body",)]
    return ".".join(parts) if parts else "body"


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(LiveloopError)
    async def _liveloop_error(request: Request, exc: LiveloopError) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.code,
            exc.detail,
            instance=request.url.path,
            errors=exc.errors,
            headers=exc.headers,
            extra=exc.extra,
            title=exc.title,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        code = "invalid"
        for err in exc.errors():
            if err.get("type") == "json_invalid":
                code = "invalid_json"
            errors.append(
                {
                    "field": _location(err.get("loc", ())),
                    "message": str(err.get("msg", "invalid")),
                    "code": str(err.get("type", "invalid")),
                }
            )
        detail = (
            "The request body is not valid JSON."
            if code == "invalid_json"
            else "The request has invalid fields; see `errors`."
        )
        status = 400 if code == "invalid_json" else 422
        return problem_response(status, code, detail, instance=request.url.path, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No resource at {request.url.path}."
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
        return problem_response(
            exc.status_code,
            code,
            detail,
            instance=request.url.path,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem_response(
            500,
            "internal_error",
            "Something went wrong on our side; the request id identifies it.",
            instance=request.url.path,
        )
