"""Structured logs: JSON lines through the standard `logging` module, with the message context.

`configure_logging` installs python-json-logger's formatter on the root logger. Inside
message handling, every record (the runtime's and the handler's own) carries
`correlation_id`, `event_id`, `topic`, `partition`, `offset`, `group` and `agent`, taken from
a context variable the consumer sets (and carries into the handler's thread). Secrets
(passwords, SASL settings, basic-auth credentials, Authorization headers) are scrubbed from
every message and argument before formatting.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import sys
import types
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from pythonjsonlogger.json import JsonFormatter

from tradewire.dlq.headers import scrub

__all__ = ["ContextFilter", "ScrubFilter", "configure_logging", "context_with", "log_context", "message_context"]

_CONTEXT: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "tradewire_log_context", default=types.MappingProxyType({})
)
CONTEXT_FIELDS = ("correlation_id", "event_id", "topic", "partition", "offset", "group", "agent")


def message_context() -> Mapping[str, Any]:
    """The fields of the message being handled in this context ({} outside message handling)."""
    return _CONTEXT.get()


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Within the block, log records carry `fields` (added to any outer context)."""
    token = _CONTEXT.set({**_CONTEXT.get(), **fields})
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def context_with(fields: Mapping[str, Any]) -> contextvars.Context:
    """A copy of the current context in which log records carry `fields` too (for running one
    record's handler in it with `Context.run`, on any thread); the current context is unchanged.
    `fields` may work its values out lazily: outside any other log context it is kept as it is."""
    outer = _CONTEXT.get()
    context = contextvars.copy_context()
    context.run(_CONTEXT.set, {**outer, **fields} if outer else fields)
    return context


class ContextFilter(logging.Filter):
    """Adds the message context (and the agent) to every record."""

    def __init__(self, agent: str = "") -> None:
        super().__init__()
        self.agent = agent

    def filter(self, record: logging.LogRecord) -> bool:
        context = _CONTEXT.get()
        for name in CONTEXT_FIELDS:
            if not hasattr(record, name):
                value = context.get(name)
                if value is None and name == "agent" and self.agent:
                    value = self.agent
                if value is not None:
                    setattr(record, name, value)
        return True


_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}


class ScrubFilter(logging.Filter):
    """Removes secrets from the message, its arguments, the traceback and `extra` text fields
    before anything formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD and isinstance(value, str):
                setattr(record, name, scrub(value))
        try:
            message = record.getMessage()
        except (TypeError, ValueError, KeyError):  # a mis-formatted call must not raise into the caller
            message = f"{record.msg} (unformattable arguments: {record.args!r})"
        record.msg = scrub(str(message))
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def configure_logging(agent: str, *, level: int | str = logging.INFO, stream: TextIO | None = None) -> logging.Handler:
    """Log JSON lines to `stream` (stderr) from the root logger; returns the installed handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
    )
    handler.addFilter(ScrubFilter())
    handler.addFilter(ContextFilter(agent))
    root = logging.getLogger()
    for existing in [h for h in root.handlers if getattr(h, "_tradewire", False)]:
        root.removeHandler(existing)
    handler._tradewire = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("tradewire.kafka").setLevel(logging.WARNING)
    return handler
