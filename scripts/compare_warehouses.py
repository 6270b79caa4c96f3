#!/usr/bin/env python3
"""Compare the marts of two Seeds Metrics warehouses row for row; build a warehouse to compare.

Kept for refactors that must not change what analysts read (issue 9): build the marts from a fixed
source with the code you have checked out, then compare them with a warehouse built before the
change. Only psycopg 3 and the `seedsmetrics` command line are used, so the script keeps working
while the package is refactored. Run it with the virtualenv of the checkout you want to build.

build: a fresh warehouse database from a source, with the code of --project-dir
    .venv/bin/python scripts/compare_warehouses.py build \\
        --source-url postgresql://postgres@127.0.0.1:5432/cmp_src_demo \\
        --warehouse-url postgresql://postgres@127.0.0.1:5432/cmp_after_demo \\
        [--as-of 2025-11-20] [--schema-prefix cmp] [--replace] [--project-dir .]

    Creates the warehouse database (refuses one that already holds schemas unless --replace, which
    drops and recreates it), runs `seedsmetrics load --full` and `seedsmetrics dbt build` with
    as_of_date pinned (default 2025-11-20, the last day of the synthetic history, as `seedsmetrics
    demo` does), checks that the source did not change during the build (a fingerprint of every
    source table before and after) and records what it built (commit, as-of, source fingerprint,
    timings, rows per mart) in <warehouse>.compare_warehouses.builds. Exit 0 built, 1 the load or
    dbt build failed (or the source changed), 2 bad input.

compare: every table of the marts schema of BEFORE against AFTER
    .venv/bin/python scripts/compare_warehouses.py compare BEFORE_URL AFTER_URL \\
        [--schema cmp_marts | --before-schema ci_marts --after-schema dev_marts] \\
        [--ignore-columns computed_at,source_loaded_at,loaded_at] \\
        [--rename officer_metrics_daily.old_name=new_name] [--rename old_table=new_table] \\
        [--tables fct_loans,dim_officers] [--samples 5] [--skip-build-check]

    Per table: the column sets (columns only in BEFORE or only in AFTER, changed types; --rename
    maps a BEFORE column or table to its AFTER name), the row counts, and the rows EXCEPT ALL in
    both directions over the common columns that are not ignored. Each side hashes its rows in SQL
    (md5 of the row's text: the values as PostgreSQL prints them, in a UTC/ISO session) and streams
    the digests by binary COPY; the multisets are compared in Python (collections.Counter), so the
    two warehouses can be on different servers. Up to --samples differing rows are printed each
    way, ordered by the compared columns (so a changed row shows up at the same place on both
    sides). Comparing text is stricter than SQL equality: 1.50 and 1.5 differ.

    Ignored by default: the run stamps of the marts, which differ between two runs on the same
    data: computed_at (dbt's run_started_at), source_loaded_at (the latest raw `_loaded_at` the run
    saw) and loaded_at (fct_repayments: when the loader wrote the row). --ignore-columns replaces
    that list; entries are `column` (every table) or `table.column`. Table names in --rename,
    --ignore-columns and --tables are BEFORE's names.

    When both warehouses were made by `build`, compare first checks that they were built from the
    same source (fingerprint) as of the same day (else exit 2; --skip-build-check compares anyway).
    Exit 0 identical, 1 any difference, 2 bad input (unreachable server, missing schema, bad
    option).

Recipe for issue 9 and the warehouses built before it: scripts/compare_warehouses.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

EXIT_OK, EXIT_DIFF, EXIT_BAD_INPUT = 0, 1, 2
PROG = "compare_warehouses"
PROJECT_DIR = Path(__file__).resolve().parents[1]
DEFAULT_AS_OF = "2025-11-20"  # the last day of the synthetic history (seedsmetrics demo's as-of)
DEFAULT_PREFIX = "cmp"
DEFAULT_IGNORED = ("computed_at", "source_loaded_at", "loaded_at")
BUILD_SCHEMA = "compare_warehouses"
# settings of the caller's shell that would point `seedsmetrics` elsewhere than the given databases
DROPPED_ENV = ("SEEDS_EMBEDDED_WAREHOUSE", "SEEDS_RAW_SCHEMA", "SEEDS_LOAD_CONFIG",
               "DBT_PROFILES_DIR", "SEEDS_PROJECT_DIR")
MAX_SAMPLE_DIGESTS = 100_000
# both sides print values the same way, whatever their server's or role's defaults
SESSION = {"timezone": "UTC", "datestyle": "ISO, MDY", "intervalstyle": "postgres",
           "extra_float_digits": "1", "bytea_output": "hex"}


class BadInput(Exception):
    """Bad input (exit 2): unreachable server, missing schema, bad option."""


class Failed(Exception):
    """The work ran and failed (exit 1)."""


# ---------------------------------------------------------------------------------------------
# connections


def describe(url: str) -> str:
    """user@host:port/dbname of a connection string, never its password."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        return "(unparsable connection string)"
    host = params.get("host") or params.get("hostaddr") or "localhost"
    user = params.get("user") or os.environ.get("PGUSER") or "(default user)"
    return f"{user}@{host}:{params.get('port') or 5432}/{params.get('dbname') or ''}"


def first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def connect(url: str, what: str, autocommit: bool = False,
            read_only: bool = False) -> psycopg.Connection:
    """A connection with the comparison's session settings; BadInput when it cannot connect."""
    try:
        conn = psycopg.connect(url, connect_timeout=10, application_name=PROG, autocommit=True)
    except psycopg.Error as error:
        message = f"cannot connect to the {what} ({describe(url)}): {first_line(error)}"
        raise BadInput(message) from None
    for name, value in SESSION.items():
        conn.execute("select set_config(%s, %s, false)", [name, value])
    conn.autocommit, conn.read_only = autocommit, read_only
    return conn


def with_dbname(url: str, dbname: str) -> str:
    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


# ---------------------------------------------------------------------------------------------
# catalog


@dataclass(frozen=True)
class Column:
    name: str
    type: str


def schema_exists(conn: psycopg.Connection, schema: str) -> bool:
    query = "select 1 from pg_namespace where nspname = %s"
    return conn.execute(query, [schema]).fetchone() is not None


def schema_tables(conn: psycopg.Connection, schema: str) -> dict[str, list[Column]]:
    """Tables, views and materialized views of a schema, each with its columns in order."""
    rows = conn.execute(
        """select c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
           from pg_class c
           join pg_namespace n on n.oid = c.relnamespace
           join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
           where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm', 'f')
           order by c.relname, a.attnum""", [schema]).fetchall()
    tables: dict[str, list[Column]] = {}
    for table, column, type_ in rows:
        tables.setdefault(table, []).append(Column(column, type_))
    return tables


# ---------------------------------------------------------------------------------------------
# what to compare: --rename, --ignore-columns, --tables


@dataclass(frozen=True)
class Mapping:
    """BEFORE names to AFTER names, and the columns left out of the comparison."""

    tables: dict[str, str] = field(default_factory=dict)
    columns: dict[tuple[str, str], str] = field(default_factory=dict)
    ignored: frozenset[str] = frozenset(DEFAULT_IGNORED)

    def after_table(self, table: str) -> str:
        return self.tables.get(table, table)

    def after_column(self, table: str, column: str) -> str:
        return self.columns.get((table, column), column)

    def is_ignored(self, table: str, column: str) -> bool:
        return column in self.ignored or f"{table}.{column}" in self.ignored


def parse_renames(values: Iterable[str]) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """`table.old=new` renames a column, `old_table=new_table` a table."""
    tables: dict[str, str] = {}
    columns: dict[tuple[str, str], str] = {}
    for value in values:
        old, sep, new = value.partition("=")
        if not sep or not old or not new or "." in new:
            raise BadInput(f"--rename {value!r}: expected table.old_column=new_column or old=new")
        table, dot, column = old.partition(".")
        if dot:
            columns[(table, column)] = new
        else:
            tables[table] = new
    return tables, columns


def split_list(values: Iterable[str] | None) -> list[str]:
    return [item.strip() for value in values or () for item in value.split(",") if item.strip()]


def build_mapping(args: argparse.Namespace) -> Mapping:
    tables, columns = parse_renames(args.rename or ())
    ignored = DEFAULT_IGNORED if args.ignore_columns is None else split_list(args.ignore_columns)
    return Mapping(tables, columns, frozenset(ignored))


def check_renames(mapping: Mapping, before: dict[str, list[Column]],
                  after: dict[str, list[Column]]) -> None:
    """A --rename that names nothing is a typo, not a difference."""
    for old, new in mapping.tables.items():
        if old not in before or new not in after:
            raise BadInput(f"--rename {old}={new}: needs table {old} in BEFORE and {new} in AFTER")
    for (table, old), new in mapping.columns.items():
        before_names = {column.name for column in before.get(table, ())}
        after_names = {column.name for column in after.get(mapping.after_table(table), ())}
        if old not in before_names or new not in after_names:
            raise BadInput(f"--rename {table}.{old}={new}: needs column {old} in BEFORE's {table} "
                           f"and {new} in AFTER's {mapping.after_table(table)}")


# ---------------------------------------------------------------------------------------------
# one table: the plan (columns), the row digests, the samples


@dataclass
class TablePlan:
    before: str
    after: str
    pairs: list[tuple[str, str]]  # compared columns: (BEFORE name, AFTER name), BEFORE's order
    only_before: list[Column]
    only_after: list[Column]
    retyped: list[tuple[str, str, str]]  # (AFTER name, BEFORE type, AFTER type)
    ignored: list[str]
    reordered: bool

    @property
    def columns_differ(self) -> bool:
        return bool(self.only_before or self.only_after or self.retyped)


def plan_table(table: str, before: list[Column], after: list[Column],
               mapping: Mapping) -> TablePlan:
    after_by_name = {column.name: column for column in after}
    renamed = {mapping.after_column(table, column.name): column for column in before}

    def skipped(after_name: str) -> bool:
        before_name = renamed[after_name].name if after_name in renamed else after_name
        return mapping.is_ignored(table, before_name) or mapping.is_ignored(table, after_name)

    kept = [name for name in renamed if not skipped(name)]
    common = [name for name in kept if name in after_by_name]
    after_order = [column.name for column in after if column.name in common]
    return TablePlan(
        before=table, after=mapping.after_table(table),
        pairs=[(renamed[name].name, name) for name in common],
        only_before=[renamed[name] for name in kept if name not in after_by_name],
        only_after=[column for column in after
                    if column.name not in renamed and not skipped(column.name)],
        retyped=[(name, renamed[name].type, after_by_name[name].type) for name in common
                 if renamed[name].type != after_by_name[name].type],
        ignored=sorted({name for name in [*renamed, *after_by_name] if skipped(name)}),
        reordered=after_order != common)


def digest_expression(columns: list[str]) -> sql.Composed:
    """md5 of a row's text over `columns`, as 16 bytes."""
    values = sql.SQL(", ").join(sql.Identifier(column) for column in columns)
    return sql.SQL("decode(md5(row({})::text), 'hex')").format(values)


def row_digest_sql(schema: str, table: str, columns: list[str]) -> sql.Composed:
    return sql.SQL("select {} from {}.{}").format(
        digest_expression(columns), sql.Identifier(schema), sql.Identifier(table))


def row_digests(url: str, what: str, query: sql.Composed) -> Counter[bytes]:
    """The multiset of row digests a query returns, streamed by binary COPY."""
    counts: Counter[bytes] = Counter()
    with connect(url, what, read_only=True) as conn, conn.cursor() as cursor:
        copy_sql = sql.SQL("copy ({}) to stdout (format binary)").format(query)
        with cursor.copy(copy_sql) as copy:
            copy.set_types(["bytea"])
            for (digest,) in copy.rows():
                counts[digest] += 1
    return counts


def sample_query(schema: str, table: str, columns: list[str], order_as_text: bool) -> sql.Composed:
    """Rows (digest, values as text) whose digest is in the parameter, ordered by their values
    (their text when a type has no ordering, e.g. json)."""
    native = [sql.Identifier(column) for column in columns]
    qualified = [sql.Identifier("t", column) for column in columns]
    as_text = [sql.SQL("{}::text").format(column) for column in qualified]
    order = (as_text if order_as_text else qualified) or [sql.SQL("1")]
    return sql.SQL("select t.digest{} from (select {} as digest{} from {}.{}) as t "
                   "where t.digest = any(%s) order by {}").format(
        sql.SQL("").join(sql.SQL(", ") + text for text in as_text), digest_expression(columns),
        sql.SQL("").join(sql.SQL(", ") + ident for ident in native), sql.Identifier(schema),
        sql.Identifier(table), sql.SQL(", ").join(order))


def sample_rows(conn: psycopg.Connection, schema: str, table: str, columns: list[str],
                digests: list[bytes], limit: int) -> list[tuple[bytes, tuple]]:
    """Up to `limit` distinct rows whose digest is in `digests`, as text, in the order of their
    values (so both sides list the rows of the same keys in the same order)."""
    if not digests or limit <= 0:
        return []
    try:
        return fetch_samples(conn, sample_query(schema, table, columns, False), digests, limit)
    except psycopg.errors.UndefinedFunction:  # a column type without an ordering operator
        conn.rollback()
        return fetch_samples(conn, sample_query(schema, table, columns, True), digests, limit)


def fetch_samples(conn: psycopg.Connection, query: sql.Composed, digests: list[bytes],
                  limit: int) -> list[tuple[bytes, tuple]]:
    found: dict[bytes, tuple] = {}
    with conn.cursor(name=f"{PROG}_samples") as cursor:
        cursor.execute(query, [digests[:MAX_SAMPLE_DIGESTS]])
        for digest, *values in cursor:
            found.setdefault(digest, tuple(values))
            if len(found) >= limit:
                break
    return list(found.items())


# ---------------------------------------------------------------------------------------------
# comparing


@dataclass
class Side:
    label: str
    url: str
    schema: str
    conn: psycopg.Connection
    tables: dict[str, list[Column]]


@dataclass
class TableResult:
    plan: TablePlan
    before_rows: int
    after_rows: int
    only_before: Counter[bytes]
    only_after: Counter[bytes]
    counts: tuple[Counter[bytes], Counter[bytes]]  # every digest of BEFORE and of AFTER

    @property
    def identical(self) -> bool:
        return not (self.plan.columns_differ or self.only_before or self.only_after)


def open_side(label: str, url: str, schema: str) -> Side:
    conn = connect(url, f"{label} warehouse", read_only=True)
    if not schema_exists(conn, schema):
        conn.close()
        raise BadInput(f"the {label} warehouse ({describe(url)}) has no schema {schema}")
    return Side(label, url, schema, conn, schema_tables(conn, schema))


def compare_rows(before: Side, after: Side, plan: TablePlan) -> TableResult:
    queries = (row_digest_sql(before.schema, plan.before, [pair[0] for pair in plan.pairs]),
               row_digest_sql(after.schema, plan.after, [pair[1] for pair in plan.pairs]))
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(row_digests, side.url, f"{side.label} warehouse", query)
                   for side, query in zip((before, after), queries, strict=True)]
        before_digests, after_digests = (future.result() for future in futures)
    return TableResult(plan, before_digests.total(), after_digests.total(),
                       before_digests - after_digests, after_digests - before_digests,
                       (before_digests, after_digests))


def report_columns(plan: TablePlan) -> Iterator[str]:
    for label, columns in (("before", plan.only_before), ("after", plan.only_after)):
        if columns:
            yield f"columns only in {label}: " + ", ".join(f"{c.name} ({c.type})" for c in columns)
    for name, old, new in plan.retyped:
        yield f"type changed: {name} {old} -> {new}"
    if plan.reordered:
        yield "note: the columns are in another order (not a difference of the rows)"


def format_row(columns: list[str], values: tuple) -> str:
    return ", ".join(f"{name}={'NULL' if value is None else value}"
                     for name, value in zip(columns, values, strict=True))


def report_samples(side: Side, table: str, columns: list[str], extra: Counter[bytes],
                   counts: tuple[Counter[bytes], Counter[bytes]], limit: int) -> Iterator[str]:
    if not extra:
        return
    rows = sample_rows(side.conn, side.schema, table, columns, list(extra), limit)
    yield f"rows only in {side.label} ({extra.total():,}; first {len(rows)} shown):"
    for digest, values in rows:
        before, after = counts[0][digest], counts[1][digest]
        times = f"  [{before}x in before, {after}x in after]" if before and after or \
            extra[digest] > 1 else ""
        yield f"  {format_row(columns, values)}{times}"


def report_table(result: TableResult, before: Side, after: Side, samples: int) -> Iterator[str]:
    plan = result.plan
    name = plan.before if plan.before == plan.after else f"{plan.before} -> {plan.after}"
    ignored = f"  (ignored: {', '.join(plan.ignored)})" if plan.ignored else ""
    if result.identical:
        yield f"OK    {name:<30} {result.before_rows:>10,} rows{ignored}"
        yield from (f"      {line}" for line in report_columns(plan))
        return
    yield (f"DIFF  {name:<30} before {result.before_rows:,} rows, after {result.after_rows:,} "
           f"rows; {result.only_before.total():,} only in before, {result.only_after.total():,} "
           f"only in after{ignored}")
    yield from (f"      {line}" for line in report_columns(plan))
    sides = ((before, plan.before, 0, result.only_before),
             (after, plan.after, 1, result.only_after))
    for side, table, index, extra in sides:
        columns = [pair[index] for pair in plan.pairs]
        yield from (f"      {line}" for line in
                    report_samples(side, table, columns, extra, result.counts, samples))


def selected_tables(before: Side, after: Side, mapping: Mapping, only: list[str]) -> list[str]:
    names = sorted(set(before.tables) | {name for name in after.tables
                                         if name not in mapping.tables.values()})
    unknown = [name for name in only if name not in names]
    if unknown:
        raise BadInput(f"--tables: no table {', '.join(unknown)} in either marts schema")
    return [name for name in names if not only or name in only]


def compare_table(table: str, before: Side, after: Side, mapping: Mapping,
                  samples: int) -> tuple[bool, list[str]]:
    """(identical, report lines) of one table."""
    after_name = mapping.after_table(table)
    if table not in before.tables:
        return False, [f"DIFF  {table:<30} table only in after"]
    if after_name not in after.tables:
        return False, [f"DIFF  {table:<30} table only in before"]
    plan = plan_table(table, before.tables[table], after.tables[after_name], mapping)
    result = compare_rows(before, after, plan)
    return result.identical, list(report_table(result, before, after, samples))


# ---------------------------------------------------------------------------------------------
# build records: what each warehouse was built from


def read_build_info(conn: psycopg.Connection) -> dict | None:
    if conn.execute("select to_regclass(%s)", [f"{BUILD_SCHEMA}.builds"]).fetchone()[0] is None:
        return None
    row = conn.execute(sql.SQL("select info from {}.builds order by built_at desc limit 1")
                       .format(sql.Identifier(BUILD_SCHEMA))).fetchone()
    return row[0] if row else None


def describe_build(info: dict | None) -> str:
    if not info:
        return "not made by this script's build (no build record)"
    dirty = " + uncommitted changes" if info.get("dirty") else ""
    return (f"built {info.get('built_at')} from {info.get('commit')}{dirty}, as of "
            f"{info.get('as_of')}, source {info.get('source')} fingerprint "
            f"{info.get('source_fingerprint')}")


def check_builds(before: Side, after: Side, skip: bool) -> list[str]:
    infos = [read_build_info(side.conn) for side in (before, after)]
    lines = [f"{side.label + ':':<8}{describe(side.url)} schema {side.schema}; "
             f"{describe_build(info)}" for side, info in zip((before, after), infos, strict=True)]
    if skip or not all(infos):
        return lines
    for key in ("as_of", "source_fingerprint"):
        if infos[0].get(key) != infos[1].get(key):
            raise BadInput(f"the warehouses were built from different inputs ({key} "
                           f"{infos[0].get(key)} vs {infos[1].get(key)}); --skip-build-check "
                           "compares them anyway")
    return lines


def compare(args: argparse.Namespace) -> int:
    mapping = build_mapping(args)
    before = open_side("before", args.before_url, args.before_schema or args.schema)
    try:
        after = open_side("after", args.after_url, args.after_schema or args.schema)
    except BadInput:
        before.conn.close()
        raise
    try:
        return run_comparison(args, mapping, before, after)
    finally:
        before.conn.close()
        after.conn.close()


def run_comparison(args: argparse.Namespace, mapping: Mapping, before: Side, after: Side) -> int:
    for line in check_builds(before, after, args.skip_build_check):
        print(line)
    check_renames(mapping, before.tables, after.tables)
    print(f"ignored columns: {', '.join(sorted(mapping.ignored)) or '(none)'}\n", flush=True)
    tables = selected_tables(before, after, mapping, split_list(args.tables))
    differing = 0
    for table in tables:
        identical, lines = compare_table(table, before, after, mapping, args.samples)
        differing += not identical
        print("\n".join(lines), flush=True)
    verdict = f"{differing} of {len(tables)} tables differ" if differing else \
        f"identical ({len(tables)} tables compared)"
    print(f"\nresult: {verdict}")
    return EXIT_DIFF if differing else EXIT_OK


# ---------------------------------------------------------------------------------------------
# build


def source_fingerprint(url: str) -> tuple[str, dict[str, int]]:
    """A digest of every table of the source's public schema (order-insensitive) and its rows."""
    with connect(url, "source", read_only=True) as conn:
        tables = [row[0] for row in conn.execute(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1").fetchall()]
        if not tables:
            raise BadInput(f"the source ({describe(url)}) has no table in schema public")
        parts, counts = [], {}
        for table in tables:
            rows, total = conn.execute(sql.SQL(
                "select count(*), coalesce(sum(('x' || left(md5(t::text), 15))::bit(60)::bigint),"
                " 0) from public.{} as t").format(sql.Identifier(table))).fetchone()
            parts.append(f"{table}:{rows}:{total}")
            counts[table] = rows
        digest = conn.execute("select left(md5(%s), 16)", ["\n".join(parts)]).fetchone()[0]
    return digest, counts


def same_database(first: str, second: str) -> bool:
    keys = ("host", "port", "dbname")
    a, b = conninfo_to_dict(first), conninfo_to_dict(second)
    return all(str(a.get(key) or "") == str(b.get(key) or "") for key in keys)


def prepare_database(url: str, replace: bool) -> None:
    """Create the warehouse database; an existing one must be empty, or is recreated (--replace)."""
    dbname = conninfo_to_dict(url).get("dbname")
    if not dbname:
        raise BadInput("--warehouse-url must name a database")
    with connect(with_dbname(url, "postgres"), "warehouse server", autocommit=True) as admin:
        exists = admin.execute("select 1 from pg_database where datname = %s", [dbname]).fetchone()
        if exists and not replace:
            check_empty(url)
            return
        if exists and is_read_only(admin, dbname):
            raise BadInput(f"{describe(url)} is marked read-only (default_transaction_read_only: a "
                           "kept baseline or source); drop it yourself if you really mean to")
        if exists:
            admin.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(dbname)))
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))


def is_read_only(admin: psycopg.Connection, dbname: str) -> bool:
    """Whether the database defaults to read-only transactions (how the baselines are kept)."""
    row = admin.execute(
        "select 1 from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase "
        "where d.datname = %s and s.setrole = 0 "
        "and 'default_transaction_read_only=on' = any(s.setconfig)", [dbname]).fetchone()
    return row is not None


def check_empty(url: str) -> None:
    with connect(url, "warehouse") as conn:
        schemas = [row[0] for row in conn.execute(
            "select nspname from pg_namespace where nspname not like 'pg\\_%%' "
            "and nspname not in ('public', 'information_schema') order by 1").fetchall()]
    if schemas:
        raise BadInput(f"{describe(url)} already holds schemas ({', '.join(schemas[:5])}): "
                       "choose another database or pass --replace to drop and rebuild it")


def seeds_env(warehouse_url: str, source_url: str, prefix: str, project: Path) -> dict[str, str]:
    """The environment that points `seedsmetrics` (target dev) at the given databases."""
    params = conninfo_to_dict(warehouse_url)
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("WAREHOUSE_") and key not in DROPPED_ENV}
    env.update(
        DO_NOT_TRACK="1", PGTZ="UTC", SEEDS_TARGET="dev", SEEDS_PROJECT_DIR=str(project),
        SOURCE_DATABASE_URL=source_url, WAREHOUSE_HOST=str(params.get("host") or "localhost"),
        WAREHOUSE_PORT=str(params.get("port") or 5432),
        WAREHOUSE_USER=str(params.get("user") or os.environ.get("PGUSER") or "postgres"),
        WAREHOUSE_PASSWORD=str(params.get("password") or ""), WAREHOUSE_DBNAME=params["dbname"],
        WAREHOUSE_SCHEMA=prefix, WAREHOUSE_SSLMODE=str(params.get("sslmode") or "prefer"))
    return env


def seeds_command(project: Path) -> list[str]:
    """The `seedsmetrics` of the project's virtualenv, else the running interpreter's."""
    candidate = project / ".venv" / "bin" / "seedsmetrics"
    return [str(candidate)] if candidate.exists() else [sys.executable, "-m", "seedsmetrics"]


def run_step(title: str, command: list[str], env: dict[str, str], project: Path) -> float:
    print(f"\n==> {title}", flush=True)
    started = time.monotonic()
    result = subprocess.run(command, cwd=project, env=env, check=False)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise Failed(f"{title} failed (exit {result.returncode}) after {seconds:.1f}s")
    print(f"    {title}: {seconds:.1f}s", flush=True)
    return seconds


def git_state(project: Path) -> tuple[str, bool]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(project), *args], capture_output=True, text=True,
                              check=False)
        return done.stdout.strip()

    return git("rev-parse", "--short=12", "HEAD") or "unknown", bool(
        git("status", "--porcelain", "--untracked-files=no"))


def mart_counts(url: str, schema: str) -> dict[str, int]:
    with connect(url, "warehouse") as conn:
        tables = schema_tables(conn, schema)
        return {table: conn.execute(sql.SQL("select count(*) from {}.{}").format(
            sql.Identifier(schema), sql.Identifier(table))).fetchone()[0] for table in tables}


def record_build(url: str, info: dict) -> None:
    with connect(url, "warehouse", autocommit=True) as conn:
        schema = sql.Identifier(BUILD_SCHEMA)
        conn.execute(sql.SQL("create schema if not exists {}").format(schema))
        conn.execute(sql.SQL("create table if not exists {}.builds (built_at timestamptz not null, "
                             "info jsonb not null)").format(schema))
        conn.execute(sql.SQL("insert into {}.builds values (now(), %s)").format(schema),
                     [json.dumps(info)])


def build(args: argparse.Namespace) -> int:
    project = Path(args.project_dir).resolve()
    if not (project / "dbt_project.yml").exists():
        raise BadInput(f"--project-dir {project} holds no dbt_project.yml")
    if same_database(args.source_url, args.warehouse_url):
        raise BadInput("--warehouse-url names the source database")
    prepare_database(args.warehouse_url, args.replace)
    fingerprint, source_rows = source_fingerprint(args.source_url)
    print(f"source {describe(args.source_url)}: fingerprint {fingerprint}, "
          + ", ".join(f"{table} {rows:,}" for table, rows in source_rows.items()), flush=True)
    info = run_build(args, project)
    if source_fingerprint(args.source_url)[0] != fingerprint:
        raise Failed("the source changed during the build: rebuild both warehouses from one source")
    info.update(source=describe(args.source_url), source_fingerprint=fingerprint,
                source_rows=source_rows)
    record_build(args.warehouse_url, info)
    print_build(args.warehouse_url, info)
    return EXIT_OK


def run_build(args: argparse.Namespace, project: Path) -> dict:
    """`seedsmetrics load` and `seedsmetrics dbt build`; what was built and how long it took."""
    env = seeds_env(args.warehouse_url, args.source_url, args.schema_prefix, project)
    seeds, dbname = seeds_command(project), conninfo_to_dict(args.warehouse_url)["dbname"]
    commit, dirty = git_state(project)
    built_at = datetime.now(UTC).isoformat(timespec="seconds")
    load_seconds = run_step("seedsmetrics load --full", [*seeds, "load", "--full"], env, project)
    dbt_args = ["dbt", "build", "--target", "dev", "--vars", json.dumps({"as_of_date": args.as_of}),
                "--target-path", f"target/compare/{dbname}", "--log-path", f"logs/compare/{dbname}"]
    build_seconds = run_step(f"seedsmetrics dbt build (as of {args.as_of})", [*seeds, *dbt_args],
                             env, project)
    marts = f"{args.schema_prefix}_marts"
    return {"built_at": built_at, "commit": commit, "dirty": dirty, "project_dir": str(project),
            "as_of": args.as_of, "schema_prefix": args.schema_prefix, "marts_schema": marts,
            "load_seconds": round(load_seconds, 1), "dbt_build_seconds": round(build_seconds, 1),
            "mart_rows": mart_counts(args.warehouse_url, marts)}


def print_build(url: str, info: dict) -> None:
    print(f"\nbuilt {describe(url)} schema {info['marts_schema']}: {describe_build(info)}")
    print(f"  load {info['load_seconds']}s, dbt build {info['dbt_build_seconds']}s")
    for table, rows in info["mart_rows"].items():
        print(f"  {info['marts_schema']}.{table:<28} {rows:>10,} rows")


# ---------------------------------------------------------------------------------------------
# command line


def iso_day(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {value!r} (expected YYYY-MM-DD)") from None


def add_build_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("build", help="build a fresh warehouse from a source")
    parser.add_argument("--source-url", required=True, help="the Django source (read only)")
    parser.add_argument("--warehouse-url", required=True, help="the warehouse database to build")
    parser.add_argument("--as-of", type=iso_day, default=DEFAULT_AS_OF,
                        help="dbt var as_of_date (default %(default)s)")
    parser.add_argument("--schema-prefix", default=DEFAULT_PREFIX,
                        help="dbt schema prefix: <prefix>_marts, ... (default %(default)s)")
    parser.add_argument("--replace", action="store_true",
                        help="drop and recreate the warehouse database when it exists")
    parser.add_argument("--project-dir", default=str(PROJECT_DIR),
                        help="the checkout whose code is built (default: this script's)")
    parser.set_defaults(func=build)


def add_compare_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("compare", help="compare the marts of two warehouses")
    parser.add_argument("before_url", metavar="BEFORE_URL")
    parser.add_argument("after_url", metavar="AFTER_URL")
    parser.add_argument("--schema", default=f"{DEFAULT_PREFIX}_marts",
                        help="marts schema of both sides (default %(default)s)")
    parser.add_argument("--before-schema", help="marts schema of BEFORE (default --schema)")
    parser.add_argument("--after-schema", help="marts schema of AFTER (default --schema)")
    parser.add_argument("--ignore-columns", action="append", metavar="COL,TABLE.COL",
                        help=f"columns left out (default: {','.join(DEFAULT_IGNORED)})")
    parser.add_argument("--rename", action="append", metavar="TABLE.OLD=NEW|OLD=NEW",
                        help="a BEFORE column (or table) and its AFTER name; repeatable")
    parser.add_argument("--tables", action="append", metavar="T1,T2",
                        help="compare only these tables (BEFORE names)")
    parser.add_argument("--samples", type=int, default=5,
                        help="differing rows shown each way (default %(default)s)")
    parser.add_argument("--skip-build-check", action="store_true",
                        help="compare even when the build records show different inputs")
    parser.set_defaults(func=compare)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_build_parser(subparsers)
    add_compare_parser(subparsers)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return args.func(args)
    except BadInput as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Failed as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_DIFF
    except psycopg.Error as error:
        print(f"{PROG}: error: database error: {first_line(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
