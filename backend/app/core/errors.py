"""One JSON error shape for every failure: {"error": {"code", "message", "request_id"}}."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import orjson
import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from app.core.logging import request_id_var

logger = logging.getLogger(__name__)

_CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class AppError(Exception):
    status_code = 400
    code = "bad_request"
    # The request's transaction commits what was done before the error (e.g. a revocation
    # that must outlive the refused request) instead of rolling it back (app.core.db).
    keeps_changes = False

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers


class BadRequest(AppError):
    status_code = 400
    code = "bad_request"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Forbidden(AppError):
    """The caller can see the thing but may not change it."""

    status_code = 403
    code = "forbidden"


class QuotaExceeded(AppError):
    status_code = 403
    code = "quota_exceeded"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"

    def __init__(self, message: str = "Not authenticated.") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class Unprocessable(AppError):
    status_code = 422
    code = "validation_error"


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {
        "error": {"code": code, "message": message, "request_id": request_id_var.get(), **extra}
    }


def error_response(
    status_code: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(
        error_body(code, message, **extra), status_code=status_code, headers=headers
    )


def is_database_unavailable(exc: BaseException) -> bool:
    """The database is down or out of connections (worth retrying), not a bad statement."""
    if isinstance(exc, PoolTimeoutError):
        return True
    if isinstance(exc, DBAPIError):
        return exc.connection_invalidated or isinstance(exc.orig, psycopg.OperationalError)
    return isinstance(exc, psycopg.OperationalError)


async def _app_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return error_response(exc.status_code, exc.code, exc.message, exc.headers)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _CODES_BY_STATUS.get(
        exc.status_code, HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    )
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404 and message == "Not Found":
        message = "Not found."
    headers = dict(exc.headers) if exc.headers else None
    return error_response(exc.status_code, code, message, headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {
            "loc": list(err.get("loc", ())),
            # Pydantic prefixes the sentence a validator raised with "Value error, ".
            "message": str(err.get("msg", "invalid")).removeprefix("Value error, "),
            "type": err.get("type"),
        }
        for err in exc.errors()
    ]
    first = details[0] if details else None
    message = "The request is invalid."
    if first:
        field = ".".join(
            str(part) for part in first["loc"] if part not in ("body", "query", "path")
        )
        message = f"{field}: {first['message']}" if field else str(first["message"])
    return error_response(422, "validation_error", message, details=details)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    if is_database_unavailable(exc):
        logger.warning("database_unavailable", extra={"error": type(exc).__name__})
        return error_response(
            503,
            "service_unavailable",
            "The database is unavailable; try again shortly.",
            {"Retry-After": "5"},
        )
    return await _unhandled_error(request, exc)


async def _unhandled_error(_: Request, exc: Exception) -> JSONResponse:
    """A 500 that never shows the exception; logged with the request id and sent to Sentry
    (a no-op when Sentry is not configured). Exceptions that escape every handler are answered
    the same way by RequestContextMiddleware."""
    import sentry_sdk

    logger.error("unhandled_error", exc_info=exc)
    sentry_sdk.capture_exception(exc)
    return error_response(500, "internal_error", "An internal error occurred.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for db_error in (DBAPIError, PoolTimeoutError, psycopg.OperationalError):
        app.add_exception_handler(db_error, _database_error)
    app.add_exception_handler(Exception, _unhandled_error)


async def send_error(
    send: Send, status_code: int, code: str, message: str, *, close: bool = False
) -> None:
    """Answer with the JSON error shape straight from ASGI middleware (no Response object)."""
    body = orjson.dumps(error_body(code, message))
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
