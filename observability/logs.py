"""Structured logs: every record carries the request id or the Celery task id it belongs to.

`LOG_FORMAT=json` makes each line one JSON object (for a log shipper); the
default stays human-readable. Ids live in context variables so a log call deep
inside a rule or a client needs no extra argument.
"""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str] = ContextVar("request_id", default="")
task_id: ContextVar[str] = ContextVar("task_id", default="")

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id", "task_id"}


class ContextFilter(logging.Filter):
    """Stamps `request_id` and `task_id` on every record (blank outside a request or task)."""

    def filter(self, record):
        record.request_id = getattr(record, "request_id", "") or request_id.get()
        record.task_id = getattr(record, "task_id", "") or task_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "task_id"):
            if getattr(record, key, ""):
                entry[key] = getattr(record, key)
        # `extra={...}` fields travel as they are (values that JSON cannot hold become strings).
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class ClientErrorsWithoutTraceback(logging.Filter):
    """A refusal or a missing page (4xx) is the client's doing, not a fault: `django.request`
    logs it with the exception attached, which prints a traceback per refused click. Keep the
    line, drop the traceback; server errors (5xx) keep theirs."""

    def filter(self, record):
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
