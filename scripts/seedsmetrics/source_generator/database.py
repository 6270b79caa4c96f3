"""Connections, the contract DDL and bulk COPY for the synthetic source database."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from seedsmetrics.errors import EXIT_BAD_INPUT, EXIT_FAILED, UserError
from seedsmetrics.redact import first_line, secrets_of
from seedsmetrics.source_generator.portfolio import COLUMNS, TABLES

CHUNK_LINES = 20_000


def contract_ddl() -> str:
    """The project's copy of the Django source contract (package data)."""
    return resources.files("seedsmetrics").joinpath("source_contract.sql").read_text()


def split_statements(ddl: str) -> list[str]:
    """Statements of a DDL file; comments go first because they contain semicolons."""
    without_comments = "\n".join(line.split("--", 1)[0] for line in ddl.splitlines())
    return [stmt.strip() for stmt in without_comments.split(";") if stmt.strip()]


def describe(url: str) -> str:
    """host:port/dbname of a URL or conninfo, never the password."""
    params = _params(url)
    host, port = params.get("host", "localhost"), params.get("port", "5432")
    return f"{host}:{port}/{params.get('dbname', '')}"


def _params(url: str) -> dict[str, str]:
    try:
        return {key: str(value) for key, value in conninfo_to_dict(url).items()}
    except psycopg.ProgrammingError as error:
        raise UserError("invalid database URL (expected "
                        "postgresql://user@host:port/dbname)") from error


def connect(url: str, autocommit: bool = False) -> psycopg.Connection:
    params = _params(url)
    params.setdefault("connect_timeout", "10")
    params.setdefault("application_name", "seedsmetrics-generate-source")
    # a session setting (not a SET inside a transaction a rollback would undo): timestamps in UTC
    params["options"] = f"{params.get('options', '')} -c TimeZone=UTC".strip()
    try:
        return psycopg.connect(make_conninfo(**params), autocommit=autocommit)
    except psycopg.OperationalError as error:
        raise UserError(f"cannot connect to {describe(url)}: "
                        f"{first_line(error, secrets_of(url))}",
                        EXIT_BAD_INPUT) from None


def failure(error: psycopg.Error, what: str) -> UserError:
    """A database error during the work, as one line (exit 1: the work ran and failed)."""
    return UserError(f"{what} failed: {first_line(error)}", EXIT_FAILED)


def create_database(url: str) -> bool:
    """Create the database named in `url` (via the server's `postgres` database); False if it
    existed."""
    params = _params(url)
    name = params.get("dbname")
    if not name:
        raise UserError("the database URL names no database")
    with connect(make_conninfo(**{**params, "dbname": "postgres"}), autocommit=True) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
            return False
        try:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        except psycopg.Error as error:
            raise UserError(f"cannot create database {name}: {first_line(error)}") from None
        return True


def existing_tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = current_schema() and c.relname = any(%s)", [list(TABLES)]).fetchall()
    found = {row[0] for row in rows}
    return [name for name in TABLES if name in found]


def create_tables(conn: psycopg.Connection, replace: bool) -> list[tuple[str, str, str]]:
    """Create the six tables (dropping them first with `replace`) inside the caller's transaction.
    Returns the foreign keys, dropped for the load and re-added afterwards by `finish_tables`: one
    validating join per key instead of ~2M deferred per-row trigger checks."""
    existing = existing_tables(conn)
    if existing and not replace:
        dbname = conn.info.dbname
        raise UserError(f"database {dbname} already has table {existing[0]} (use --replace)",
                        EXIT_BAD_INPUT)
    if existing:
        conn.execute(sql.SQL("drop table {}").format(sql.SQL(", ").join(sql.Identifier(t)
                                                                        for t in existing)))
    for statement in split_statements(contract_ddl()):
        if not re.match(r"create\s+index", statement, re.IGNORECASE):
            conn.execute(statement)
    keys = conn.execute(
        "select conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint"
        " where contype = 'f' and connamespace = current_schema()::regnamespace"
        " and conrelid::regclass::text = any(%s) order by conrelid::regclass::text, conname",
        [list(TABLES)]).fetchall()
    for table, name, _ in keys:
        conn.execute(sql.SQL("alter table {} drop constraint {}").format(sql.Identifier(table),
                                                                          sql.Identifier(name)))
    return keys


def finish_tables(conn: psycopg.Connection, keys: list[tuple[str, str, str]]) -> None:
    """Foreign keys back (same names and definitions), the contract's indexes, identity
    sequences."""
    for table, name, definition in keys:
        conn.execute(sql.SQL("alter table {} add constraint {} {}").format(
            sql.Identifier(table), sql.Identifier(name),
            sql.SQL(definition)))  # definition from the catalog
    for statement in split_statements(contract_ddl()):
        if re.match(r"create\s+index", statement, re.IGNORECASE):
            conn.execute(statement)
    reset_sequences(conn)


def reset_sequences(conn: psycopg.Connection) -> None:
    """Point each identity sequence past the explicit ids, so Django's next insert works."""
    for table in TABLES:
        conn.execute(sql.SQL("select setval(pg_get_serial_sequence(%s, 'id'), coalesce(max(id), 1),"
                             " max(id) is not null) from {}").format(sql.Identifier(table)),
                             [table])


def copy_lines(conn: psycopg.Connection, table: str, lines: list[str], freeze: bool = True) -> None:
    """COPY pre-formatted text lines in large chunks (FREEZE: the table is new in this
    transaction)."""
    statement = sql.SQL("copy {} ({}) from stdin{}").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS[table]),
        sql.SQL(" with (freeze)") if freeze else sql.SQL(""))
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for start in range(0, len(lines), CHUNK_LINES):
            copy.write("\n".join(lines[start:start + CHUNK_LINES]) + "\n")


@contextmanager
def timed(report: Callable[[str], None] | None, label: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    if report:
        report(f"{label} in {time.monotonic() - started:.1f}s")
