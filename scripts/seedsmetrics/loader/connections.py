"""Connections to the source and the warehouse, with errors reduced to one line and no secrets."""

from __future__ import annotations

from datetime import timedelta

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from seedsmetrics.errors import EXIT_BAD_INPUT, UserError
from seedsmetrics.redact import first_line, secrets_of

APPLICATION_NAME = "seedsmetrics-load"


def source_conninfo(url: str) -> str:
    secrets = secrets_of(url)
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error as error:
        raise UserError(f"invalid source connection string: {first_line(error, secrets)}") from None
    params.setdefault("connect_timeout", 10)
    params["application_name"] = APPLICATION_NAME
    return make_conninfo(**params)


def connect(conninfo: str, what: str, autocommit: bool = True) -> psycopg.Connection:
    """Open a connection; any failure becomes a one-line UserError naming `what` (no password)."""
    try:
        return psycopg.connect(conninfo, autocommit=autocommit)
    except psycopg.Error as error:
        raise UserError(f"cannot connect to the {what}: {first_line(error, secrets_of(conninfo))}",
                        EXIT_BAD_INPUT) from None


def millis(duration: timedelta) -> int:
    return max(0, int(duration.total_seconds() * 1000))


def prepare_source_session(conn: psycopg.Connection, lock_timeout: timedelta,
                           statement_timeout: timedelta) -> None:
    """Session limits so the loader never holds up the application: short lock waits, bounded
    statements, read-only by default. The coordinator idles inside its snapshot transaction while
    workers copy, so a server-wide idle-in-transaction timeout must not end it."""
    conn.execute(f"set lock_timeout = {millis(lock_timeout)}")
    conn.execute(f"set statement_timeout = {millis(statement_timeout)}")
    conn.execute("set idle_in_transaction_session_timeout = 0")
    conn.execute("set default_transaction_read_only = on")
    conn.execute("set timezone = 'UTC'")
