"""The structured logger every command shares: one line per event on stderr, key=value or JSON.

    Log("kv")    ts=2025-11-20T01:30:00.123Z level=info event=phase phase=load duration_s=1.20
    Log("json")  {"ts":"2025-11-20T01:30:00.123Z","level":"info","event":"phase",...}

`seedsmetrics run --log-format` picks the format and hands its logger to the loader (named
`seedsmetrics.load`), so a run's lines are all of one format: JSON means JSON everywhere.
Nothing logged may hold a connection string: pass `redact.describe_url(url)` instead.
"""

from __future__ import annotations

import json
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any, TextIO

LOG_FORMATS = ("kv", "json")
# a key=value value that needs quotes: whitespace, '=', '"' or '\' in it
_NEEDS_QUOTES = re.compile(r'[\s="\\]')


def timestamp() -> str:
    """Now in UTC to the millisecond: 2025-11-20T01:30:00.123Z."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def elapsed(started: float) -> float:
    """Seconds since `started` (a time.monotonic() reading), to the hundredth."""
    return round(time.monotonic() - started, 2)


def format_value(value: Any) -> str:
    """One value of a key=value line: booleans as true/false, floats to the hundredth,
    containers as compact JSON, text quoted (JSON string) when it is empty or would split."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=str, separators=(",", ":"))
    text = str(value)
    if not text or _NEEDS_QUOTES.search(text):
        return json.dumps(text)
    return text


def format_pairs(fields: dict[str, Any]) -> str:
    """`key=value key2=value2` of `fields`, in their order."""
    return " ".join(f"{key}={format_value(value)}" for key, value in fields.items())


class Log:
    """Writes one line per event; fields that are None are left out.

    `name` says which part of the program speaks (the loader's lines are `seedsmetrics.load`);
    `context` fields (e.g. run_id) go on every line."""

    def __init__(self, fmt: str = "kv", stream: TextIO | None = None, name: str | None = None,
                 **context: Any):
        self.fmt = fmt
        self.stream = stream
        self.name = name
        self.context = context

    def __call__(self, event: str, level: str = "info", **fields: Any) -> str:
        record = {"ts": timestamp(), "level": level, "logger": self.name, "event": event,
                  **self.context, **fields}
        line = self.render({key: value for key, value in record.items() if value is not None})
        print(line, file=self.stream or sys.stderr, flush=True)
        return line

    def render(self, record: dict[str, Any]) -> str:
        if self.fmt == "json":
            return json.dumps(record, default=str, separators=(",", ":"))
        return format_pairs(record)

    def named(self, name: str) -> Log:
        """A logger of the same format and stream for another part of the program (no context)."""
        return Log(self.fmt, self.stream, name=name)
