"""The hot path: source `COPY ... TO STDOUT` relayed into warehouse `COPY ... FROM STDIN`.

Bytes are never decoded. psycopg's `for data in copy` costs a generator round trip per row (about
1.6x the psql pipe on 600k rows here); reading libpq's copy buffers directly in a tight loop and
writing them on in ~128 KiB blocks runs at the speed of `psql | psql` (see BENCHMARKS.md).
"""

from __future__ import annotations

import select
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from psycopg import errors, pq, sql

BLOCK = 128 * 1024
# how often (seconds) a blocked read wakes up to see whether the run was cancelled
POLL_SECONDS = 1.0


class Cancelled(Exception):
    """Another table of the run failed: stop this copy (nothing of the run will be published)."""


@dataclass(frozen=True)
class Copied:
    rows_read: int
    rows_written: int
    bytes: int


def relay(source: psycopg.Connection, target: psycopg.Connection, copy_out: sql.Composable,
          copy_in: sql.Composable, progress: Callable[[int, int], None] | None = None,
          cancelled: Callable[[], bool] | None = None,
          first_block: Callable[[], None] | None = None) -> Copied:
    """Stream `copy_out` (run on `source`) into `copy_in` (run on `target`), both already inside
    their transactions. `progress(rows, bytes)` is called per block; `first_block` once, after the
    first block was written (the crash tests' pause point)."""
    rows = 0
    total = 0
    tcur, scur = target.cursor(), source.cursor()
    with tcur.copy(copy_in) as sink, scur.copy(copy_out):
        pgconn = source.pgconn
        get = pgconn.get_copy_data
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN)
        block = bytearray()
        first = True
        while True:
            size, data = get(1)
            if size > 0:
                block += data
                rows += 1
                if len(block) >= BLOCK:
                    sink.write(block)
                    total += len(block)
                    block = bytearray()
                    if progress:
                        progress(rows, total)
                    if first and first_block:
                        first = False
                        first_block()
                    if cancelled and cancelled():
                        raise Cancelled()
            elif size == 0:
                # would block: wait for the source (waking up now and then to notice a cancel)
                while not poller.poll(POLL_SECONDS * 1000):
                    if cancelled and cancelled():
                        raise Cancelled()
                pgconn.consume_input()
            elif size == -1:
                break
            else:
                raise psycopg.OperationalError(pgconn.get_error_message())
        if block:
            sink.write(block)
            total += len(block)
        if first and first_block:
            first_block()
        rows_read = _finish_copy_out(pgconn, source.info.encoding)
    # read before closing: closing a cursor resets its row count
    rows_written = max(tcur.rowcount, 0)
    tcur.close()
    scur.close()
    if progress:
        progress(rows_read, total)
    return Copied(rows_read=rows_read, rows_written=rows_written, bytes=total)


def _finish_copy_out(pgconn: pq.abc.PGconn, encoding: str) -> int:
    """Collect the COPY TO's final result (we read around psycopg's Copy object): its row count,
    or the error that cut the stream short (statement timeout, cancel)."""
    rows = -1
    while (result := pgconn.get_result()) is not None:
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise errors.error_from_result(result, encoding=encoding)
        rows = result.command_tuples if result.command_tuples is not None else rows
    return rows
