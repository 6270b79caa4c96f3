"""Operator output on stderr: live progress lines on a terminal, structured log lines otherwise.

The log lines are the shared logger's (seedsmetrics.logs, named `seedsmetrics.load`): key=value
by default, JSON when the caller's logger is JSON (`seedsmetrics run --log-format json`), which
also turns the live terminal lines off. Nothing printed here ever holds a connection string:
callers pass `describe_url` / `describe()`.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from seedsmetrics.logs import Log, format_pairs

MB = 1024 * 1024
LOGGER = "seedsmetrics.load"


class Progress:
    def __init__(self, stream: TextIO | None = None, tty: bool | None = None, quiet: bool = False,
                 log: Log | None = None):
        self.stream = stream or (log.stream if log else None) or sys.stderr
        self._log = log or Log("kv", stream=self.stream, name=LOGGER)
        self.tty = (self.stream.isatty() if tty is None else tty) and self._log.fmt != "json"
        self.quiet = quiet
        self._lock = threading.Lock()
        self._live: dict[str, tuple[str, int, int, float]] = {}
        self._last_draw = 0.0

    def log(self, event: str, level: str = "info", **fields: object) -> None:
        """One structured line (non-terminal) or a short human line (terminal)."""
        if self.quiet:
            return
        with self._lock:
            if self.tty:
                self._clear()
                self.stream.write(f"load: {event.replace('_', ' ')} {format_pairs(fields)}\n")
                self._draw()
                self.stream.flush()
            else:
                self._log(event, level=level, **fields)

    def table_started(self, table: str, mode: str) -> None:
        with self._lock:
            self._live[table] = (mode, 0, 0, time.monotonic())

    def table_progress(self, table: str, rows: int, nbytes: int) -> None:
        if not self.tty or self.quiet:
            return
        with self._lock:
            mode, _, _, started = self._live.get(table, ("", 0, 0, time.monotonic()))
            self._live[table] = (mode, rows, nbytes, started)
            now = time.monotonic()
            if now - self._last_draw >= 0.2:
                self._last_draw = now
                self._clear()
                self._draw()
                self.stream.flush()

    def table_done(self, table: str, mode: str, rows: int, nbytes: int, seconds: float,
                   **extra: object) -> None:
        rate = nbytes / MB / seconds if seconds > 0 else 0.0
        if self.tty and not self.quiet:
            with self._lock:
                self._clear()  # the live line, before this table leaves it
                self._live.pop(table, None)
                self.stream.write(f"  {table:<26} {mode:<11} {rows:>11,} rows {nbytes / MB:>9.1f} "
                                  f"MB {rate:>7.1f} MB/s {seconds:>7.2f} s\n")
                self._draw()
                self.stream.flush()
        else:
            with self._lock:
                self._live.pop(table, None)
            self.log("table_copied", table=table, mode=mode, rows=rows, mb=f"{nbytes / MB:.1f}",
                     mb_per_s=f"{rate:.1f}", seconds=f"{seconds:.2f}", **extra)

    def _clear(self) -> None:
        if self.tty and self._live:
            self.stream.write("\r\033[K")

    def _draw(self) -> None:
        if not self.tty or not self._live:
            return
        parts = []
        for table, (_, rows, nbytes, started) in self._live.items():
            elapsed = max(time.monotonic() - started, 1e-6)
            parts.append(f"{table} {rows:,} rows {nbytes / MB / elapsed:.1f} MB/s {elapsed:.1f}s")
        self.stream.write(("  copying: " + " | ".join(parts))[:200])
