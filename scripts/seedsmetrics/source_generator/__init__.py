"""`seedsmetrics generate-source`: a deterministic synthetic copy of the lender's Django database.

Creates the six tables of the source contract (source_contract.sql, a copy of the shared DDL) and
fills them with a realistic portfolio, including the production data's quirks. Python callers use
`generate()` and `simulate_day()` (one more day of activity, for incremental-load tests).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from datetime import date

import psycopg
from psycopg import sql

from seedsmetrics.errors import UserError
from seedsmetrics.source_generator import database
from seedsmetrics.source_generator.daily import simulate_day
from seedsmetrics.source_generator.portfolio import TABLES, Portfolio

DEFAULT_AS_OF = date(2025, 11, 20)
MAX_SCALE = 20.0

__all__ = ["DEFAULT_AS_OF", "TABLES", "generate", "parse_day", "register", "simulate_day"]


def parse_day(value: date | str | None, default: date = DEFAULT_AS_OF) -> date:
    if value is None:
        return default
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"invalid date {value!r} (expected YYYY-MM-DD)") from None


def generate(database_url: str, scale: float = 1.0, seed: int = 42, as_of: date | str | None = None,
             replace: bool = False, create_database: bool = False,
             progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Create and fill the six source tables in one transaction; return rows per table.

    Same (scale, seed, as_of) -> byte-identical tables. `progress` receives one line per step."""
    if not 0 < scale <= MAX_SCALE:
        raise UserError(f"--scale must be > 0 and <= {MAX_SCALE:g} (1 = production volumes), got "
                        f"{scale:g}")
    day = parse_day(as_of)
    if not date(2000, 1, 1) <= day <= date(2098, 12, 31):
        raise UserError(f"--as-of {day} is out of range")
    report = progress or (lambda _line: None)
    started = time.monotonic()
    if create_database and database.create_database(database_url):
        report(f"created database {database.describe(database_url)}")
    with database.connect(database_url) as conn:
        # fail fast, before spending seconds building rows
        existing = database.existing_tables(conn)
        if existing and not replace:
            raise UserError(f"database {conn.info.dbname} already has table {existing[0]} (use "
                            "--replace)")
        conn.rollback()
        with database.timed(report, f"built portfolio (scale {scale:g}, seed {seed}, as of {day})"):
            lines = Portfolio(scale, seed, day).build()
        counts: dict[str, int] = {}
        try:
            keys = database.create_tables(conn, replace)
            for table in TABLES:
                with database.timed(report, f"  {table:<24} {len(lines[table]):>9,} rows"):
                    database.copy_lines(conn, table, lines[table])
                counts[table] = len(lines[table])
            with database.timed(report, "  foreign keys, indexes, sequences"):
                database.finish_tables(conn, keys)
            conn.commit()
        except psycopg.Error as error:  # e.g. a view depends on a table --replace must drop
            raise database.failure(error, "generate-source") from None
        conn.autocommit = True
        for table in TABLES:  # fresh statistics for the loader's first queries
            conn.execute(sql.SQL("analyze {}").format(sql.Identifier(table)))
    report(f"generated {sum(counts.values()):,} rows in {len(counts)} tables into "
           f"{database.describe(database_url)} in {time.monotonic() - started:.1f}s")
    return counts


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "generate-source",
        help="create and fill the six Django tables with a deterministic synthetic portfolio")
    parser.add_argument("--database-url", default=os.environ.get("SOURCE_DATABASE_URL"),
                        help="target database (default: $SOURCE_DATABASE_URL)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="1 = production volumes (default 1)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--as-of", default=DEFAULT_AS_OF.isoformat(),
                        help="last day of the ~20 months of history, YYYY-MM-DD (default "
                             "%(default)s)")
    parser.add_argument("--replace", action="store_true",
                        help="drop and recreate the six tables if present")
    parser.add_argument("--create-database", action="store_true",
                        help="create the database named in the URL when it does not exist")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.database_url:
        raise UserError("--database-url is required (or set SOURCE_DATABASE_URL)")
    generate(args.database_url, scale=args.scale, seed=args.seed, as_of=args.as_of,
             replace=args.replace, create_database=args.create_database,
             progress=lambda line: print(line, flush=True))
    return 0
