"""Values from AWS or a state made safe for a terminal and a log line.

A tag value, a resource name or an error message is data, never markup or control: rich markup in
it (`[bold]`, `[link=...]`) is escaped, and control characters (ANSI escapes, OSC 8 links, carriage
returns, bells, C1 codes) are shown as `\\xNN` instead of reaching the terminal.
"""

from __future__ import annotations

import json
import logging
import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""Control characters (tab and newline kept), line/paragraph separators and bidi overrides."""


def printable(value: object) -> str:
    """`str(value)` with control characters shown as `\\xNN` (or `\\uNNNN`)."""
    return _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], "" if value is None else str(value))


def safe(value: object) -> str:
    """`value` for rich: printable, and its markup escaped (rich is imported only by what prints with it)."""
    from rich.markup import escape

    return escape(printable(value))


class JsonLogFormatter(logging.Formatter):
    """Each log record as one JSON line: time, level, logger, message, and the traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
                 "message": printable(record.getMessage())}
        if record.exc_info:
            entry["traceback"] = printable(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = printable(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


class PrintableFormatter(logging.Formatter):
    """The plain log format, with control characters shown as `\\xNN`."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))
