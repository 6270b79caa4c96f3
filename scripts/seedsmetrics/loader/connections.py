"""Connections to the source and the warehouse, with errors reduced to one line and no secrets."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from seedsmetrics.errors import EXIT_BAD_INPUT, UserError

APPLICATION_NAME = "seedsmetrics-load"
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def secrets_of(url: str) -> list[str]:
    """The password(s) a connection string carries, in every spelling an error could echo."""
    found: list[str] = []
    try:
        if password := conninfo_to_dict(url).get("password"):
            found.append(str(password))
    except psycopg.Error:
        pass
    try:
        if password := urlsplit(url).password:
            found += [password, unquote(password)]
    except ValueError:
        pass
    return [secret for secret in found if secret]


def scrub(text: str, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """`text` with passwords masked (known secrets, URL userinfo and key=value forms)."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return _KV_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", text))


def first_line(error: BaseException, secrets: list[str] | tuple[str, ...] = ()) -> str:
    """The first meaningful line of an error (libpq prefixes some with 'connection failed:')."""
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return scrub(lines[0] if lines else type(error).__name__, secrets)


def describe_url(url: str) -> str:
    """user@host:port/dbname of a connection string, never its password."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return "(unparsable connection string)"
    host = params.get("host") or params.get("hostaddr") or "localhost"
    return f"{params.get('user') or '(default user)'}@{host}:{params.get('port') or 5432}/{params.get('dbname') or ''}"


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


def prepare_source_session(conn: psycopg.Connection, lock_timeout: timedelta, statement_timeout: timedelta) -> None:
    """Session limits so the loader never holds up the application: short lock waits, bounded
    statements, read-only by default. The coordinator idles inside its snapshot transaction while
    workers copy, so a server-wide idle-in-transaction timeout must not end it."""
    conn.execute(f"set lock_timeout = {millis(lock_timeout)}")
    conn.execute(f"set statement_timeout = {millis(statement_timeout)}")
    conn.execute("set idle_in_transaction_session_timeout = 0")
    conn.execute("set default_transaction_read_only = on")
    conn.execute("set timezone = 'UTC'")
