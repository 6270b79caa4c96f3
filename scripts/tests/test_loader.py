"""Loader integration tests: a real source server (CI_SOURCE_DATABASE_URL, else the embedded one)
and the embedded warehouse; every check compares the raw copy with the source."""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from seedsmetrics import settings, warehouse
from seedsmetrics.cli import main
from seedsmetrics.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_LOCKED, UserError
from seedsmetrics.loader import LoadResult, run_load
from seedsmetrics.loader.config import load_config, parse_duration
from seedsmetrics.loader.plan import lossless_cast
from seedsmetrics.loader.progress import Progress
from seedsmetrics.redact import scrub

from .conftest import PROJECT_ROOT, SHARED, DatabaseFactory

pytestmark = pytest.mark.integration

TABLES = ("accounts_customuser", "ajo_ajouser", "loans_ajoloan", "loans_ajoloanrepayment",
          "loans_ajoloanschedule", "loans_holiday")
INCREMENTAL = ("accounts_customuser", "ajo_ajouser", "loans_ajoloan", "loans_ajoloanrepayment",
               "loans_ajoloanschedule")
# the fixture's last audit timestamp: the newest row of each big table has updated_at = T0
T0 = datetime(2025, 11, 20, 10, 0, tzinfo=UTC)


def contract_ddl() -> str:
    packaged = PROJECT_ROOT / "scripts" / "seedsmetrics" / "source_contract.sql"
    return (packaged if packaged.exists()
            else SHARED / "source-contract" / "django_savings.sql").read_text()


SEED_SQL = """
insert into accounts_customuser (id, password, is_superuser, username, first_name, last_name,
    email, is_staff, is_active, date_joined, user_type, user_phone, user_branch,
    performance_status, created_at, updated_at)
select g, 'pbkdf2$x', false, 'agent' || g || '@seeds.test', 'Agent' || g, '',
    'agent' || g || '@seeds.test', false, g % 4 <> 0,
    {t0} - interval '400 days' + g * interval '1 day', (array['AGENT', 'lite', null])[1 + g % 3],
    '0803' || lpad(g::text, 7, '0'), (array['Lagos Central', ' ikeja ', null])[1 + g % 3], 'Active',
    {t0} - interval '400 days', {t0} - ({users} - g) * interval '1 hour'
from generate_series(1, {users}) g;

insert into ajo_ajouser (id, user_id, phone_number, first_name, last_name, dob, gender, address,
    bvn, bvn_verified, onboarding_complete, created_at, updated_at)
select g, 1 + g % {users}, '0701' || lpad(g::text, 7, '0'), 'Customer ' || g,
    case when g % 5 = 0 then null else 'Okafor' end, date '1980-01-01' + g,
    (array['MALE', 'FEMALE'])[1 + g % 2], g || ' Market Road, Ikeja',
    lpad(g::text, 11, '2'), g % 2 = 0, g % 3 <> 0, {t0} - interval '300 days',
    {t0} - ({customers} - g) * interval '1 hour'
from generate_series(1, {customers}) g;

insert into loans_ajoloan (id, borrower_id, agent_id, amount, amount_disbursed, interest_rate,
    processing_fee, nem_fee, repayment_amount, daily_repayment_amount, tenor, tenor_in_days,
    status, is_disbursed, date_disbursed, start_date, end_date, created_at, updated_at)
select g, 1 + g % {customers}, 1 + g % {users}, 50000 + g,
    case when g % 7 = 0 then 0 else 50000 + g end, 30,
    500, case when g % 2 = 0 then 100.5 end, 65500 + g, 3275.25, 'ONE_MONTH', 20,
    (array['ACTIVE', 'COMPLETED', 'PAST_MATURITY'])[1 + g % 3], g % 9 <> 0,
    {t0} - interval '90 days' + g * interval '1 hour', date '2025-08-25' + g % 30,
    date '2025-09-25' + g % 30,
    {t0} - interval '90 days', {t0} - ({loans} - g) * interval '10 minutes'
from generate_series(1, {loans}) g;

insert into loans_ajoloanrepayment (id, ajo_loan_id, agent_id, borrower_id, repayment_amount,
    health_insurance, loan_amount, repayment_type, repayment_ref, marked_as, applied_to_loan,
    comment, settlement_status, paid_date, created_at, updated_at)
select g, 1 + g % {loans}, 1 + g % {users}, 1 + g % {customers}, 3275.25 + g % 10, 0, 50000,
    (array['AGENT_DEBIT', 'TRANSFER', null])[1 + g % 3], md5('r' || g)::uuid,
    (array[null, null, 'BACKDATED', 'REVERSAL'])[1 + g % 4], g % 11 <> 0, 'payment ' || g, true,
    {t0} - ({repayments} - g) * interval '1 minute',
    {t0} - ({repayments} - g) * interval '1 minute',
    {t0} - ({repayments} - g) * interval '1 minute'
from generate_series(1, {repayments}) g;

insert into loans_ajoloanschedule (id, loan_id, due_date, due_amount, paid_amount, amount_left,
    fully_paid, is_late, late_days, created_at, updated_at)
select g, 1 + g % {loans}, date '2025-09-01' + g % 60, 3275.25,
    case when g % 3 = 0 then 3275.25 else 0 end, 0, g % 3 = 0, g % 5 = 0, g % 5,
    {t0} - interval '80 days', {t0} - ({schedules} - g) * interval '1 minute'
from generate_series(1, {schedules}) g;

insert into loans_holiday (id, date, name, type, agent_id, created_at, updated_at)
values (1, '2025-10-01', 'Independence Day', 'company', null, {t0}, {t0}),
       (2, '2025-12-25', 'Christmas Day', 'company', null, {t0}, {t0}),
       (3, '2025-11-03', 'Leave', 'agent', 1, {t0}, {t0});
"""

SMALL = {"users": 6, "customers": 20, "loans": 30, "repayments": 300, "schedules": 600}
# big enough that the biggest tables stream several 128 KiB blocks (the "copy" crash point is
# mid-stream)
MID = {"users": 20, "customers": 100, "loans": 300, "repayments": 4000, "schedules": 6000}
MODEST = {"users": 200, "customers": 2000, "loans": 3000, "repayments": 40000, "schedules": 60000}


def columns_of(url: str, schema: str, table: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a"
            " where a.attrelid = format('%%I.%%I', %s::text, %s::text)::regclass and a.attnum > 0"
            " and not a.attisdropped order by a.attnum", [schema, table]).fetchall()


def digest_on(conn: psycopg.Connection, schema: str, table: str,
              columns: list[str]) -> tuple[int, str]:
    """Row count and an order-independent checksum of `columns` (text forms, UTC)."""
    row = sql.SQL("row({})").format(sql.SQL(", ").join(map(sql.Identifier, columns)))
    query = sql.SQL("select count(*), coalesce(md5(string_agg(h, '' order by h)), '') from "
                    "(select md5({}::text) as h from {}.{}) s").format(row, sql.Identifier(schema),
                                                                   sql.Identifier(table))
    conn.execute("set timezone = 'UTC'")
    return conn.execute(query).fetchone()


def digest(url: str, schema: str, table: str, columns: list[str]) -> tuple[int, str]:
    with psycopg.connect(url) as conn:
        return digest_on(conn, schema, table, columns)


def warehouse_env(url: str) -> dict[str, str]:
    """WAREHOUSE_* settings that point the dev target at the database of `url`."""
    params = conninfo_to_dict(url)
    return {"WAREHOUSE_HOST": str(params.get("host", "127.0.0.1")),
            "WAREHOUSE_PORT": str(params.get("port", 5432)),
            "WAREHOUSE_USER": str(params.get("user", "postgres")), "WAREHOUSE_PASSWORD": "",
            "WAREHOUSE_DBNAME": str(params["dbname"]), "WAREHOUSE_SSLMODE": "disable"}


@dataclass
class Env:
    """One test's source schema and raw schema, in databases shared by the module (creating and
    dropping a database per test costs a checkpoint each)."""

    source: str  # source database URL
    warehouse: str  # warehouse database URL
    src: str  # source schema
    raw: str  # raw schema

    @property
    def internal(self) -> str:
        return f"_{self.raw}_internal"

    def load(self, **options: object) -> LoadResult:
        options.setdefault("progress", Progress(quiet=True))
        return run_load(options.pop("source_url", self.source), source_schema=self.src,  # type: ignore[arg-type]
                        raw_schema=self.raw, **options)  # type: ignore[arg-type]

    def cli_args(self, *args: str) -> list[str]:
        return ["load", "--source-url", self.source, "--source-schema", self.src, "--raw-schema",
                self.raw, *args]

    def cli(self, *args: str) -> int:
        return main(self.cli_args(*args))

    def source_sql(self, *statements: str, params: list | None = None) -> None:
        with psycopg.connect(self.source, autocommit=True) as conn:
            conn.execute(sql.SQL("set search_path = {}").format(sql.Identifier(self.src)))
            for statement in statements:
                conn.execute(statement, params)

    def warehouse_sql(self, statement: str) -> None:
        with psycopg.connect(self.warehouse, autocommit=True) as conn:
            conn.execute(statement.format(raw=self.raw, internal=self.internal))

    def query(self, statement: str, params: list | None = None) -> list[tuple]:
        with psycopg.connect(self.warehouse) as conn:
            conn.execute("set timezone = 'UTC'")
            return conn.execute(statement.format(raw=self.raw, internal=self.internal),
                                params).fetchall()

    def source_columns(self, table: str) -> list[str]:
        return [name for name, _ in columns_of(self.source, self.src, table)]

    def snapshot(self, columns: dict[str, list[str]] | None = None) -> dict[str, tuple[int, str]]:
        """Digest of every raw table over the source's current columns (or the given ones)."""
        columns = columns or {table: self.source_columns(table) for table in TABLES}
        return {table: digest(self.warehouse, self.raw, table, columns[table]) for table in TABLES}

    def source_snapshot(self) -> dict[str, tuple[int, str]]:
        return {table: digest(self.source, self.src, table, self.source_columns(table))
                for table in TABLES}

    def assert_equal(self) -> None:
        assert self.snapshot() == self.source_snapshot()

    def count(self, table: str) -> int:
        return digest(self.source, self.src, table, ["id"])[0]


def seed_source(env: Env, sizes: dict[str, int]) -> None:
    with psycopg.connect(env.source, autocommit=True) as conn:
        conn.execute(sql.SQL("create schema {0}; set search_path = {0}").format(
            sql.Identifier(env.src)))
        conn.execute(contract_ddl())
        with conn.transaction():
            conn.execute(SEED_SQL.format(t0="timestamptz '2025-11-20 10:00:00+00'", **sizes))
        for table in TABLES:
            conn.execute(sql.SQL("analyze {}").format(sql.Identifier(table)))


@pytest.fixture(scope="module")
def databases(embedded: warehouse.Embedded) -> Iterator[tuple[str, str]]:
    """One source database (on the CI_SOURCE_DATABASE_URL server when set, like conftest's
    source_db) and one warehouse database for the whole module."""
    sources = DatabaseFactory(os.environ.get("CI_SOURCE_DATABASE_URL") or embedded.url("postgres"))
    warehouses = DatabaseFactory(embedded.url("postgres"))
    try:
        yield sources("load"), warehouses("load")
    finally:
        sources.drop_all()
        warehouses.drop_all()


@pytest.fixture
def isolated_env() -> Iterator[None]:
    """run_load resolves the dbt target, which exports settings into os.environ: undo that."""
    saved = dict(os.environ)
    for key in ("SOURCE_DATABASE_URL", "SEEDS_RAW_SCHEMA", "SEEDS_LOAD_CONFIG", "SEEDS_TARGET",
                settings.EMBEDDED_MARKER, "SEEDS_LOADER_PAUSE_AT"):
        os.environ.pop(key, None)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def make_env(databases: tuple[str, str], isolated_env: None) -> Callable[..., Env]:
    def make(sizes: dict[str, int] | None = SMALL) -> Env:
        suffix = uuid.uuid4().hex[:10]
        env = Env(source=databases[0], warehouse=databases[1], src=f"src_{suffix}",
                  raw=f"raw_{suffix}")
        if sizes:
            seed_source(env, sizes)
        os.environ.update(warehouse_env(env.warehouse))
        return env

    return make


# --- full copy ------------------------------------------------------------------------------------


def test_full_copy_equals_source_and_keeps_dependent_views(make_env: Callable[..., Env]) -> None:
    env = make_env()
    result = env.load()
    env.assert_equal()
    assert {r.table: r.mode for r in result.tables} == dict.fromkeys(TABLES, "full")
    for r in result.tables:
        assert r.rows_read == r.rows_written == env.count(r.table) > 0
    # same names and types as the source, plus the loader's two columns, read through views
    for table in TABLES:
        assert columns_of(env.warehouse, env.raw, table) == [
            *columns_of(env.source, env.src, table),
            ("_loaded_at", "timestamp with time zone"), ("_run_id", "text")]
    assert env.query("select count(*) from pg_views where schemaname = %s", [env.raw]) == [(6,)]
    assert env.query("select count(*), count(distinct _run_id), min(_run_id)"
                     " from {raw}.loans_ajoloan where _loaded_at is not null") == [
        (30, 1, result.run_id)]
    assert env.query("select table_name, mode, status, rows_read = rows_written"
                     " from {raw}._load_runs where table_name = 'loans_holiday'") == [
        ("loans_holiday", "full", "success", True)]
    # a dbt staging view on a raw table survives every later publish (views follow OIDs)
    env.warehouse_sql("create view {raw}_stg_loans as select id, amount from {raw}.loans_ajoloan")
    env.source_sql("update loans_ajoloan set amount = 1,"
                   " updated_at = timestamptz '2025-11-20 11:00+00' where id = 3")
    env.load(full=True)
    assert env.query("select amount from {raw}_stg_loans where id = 3") == [(1.0,)]
    env.assert_equal()
    # the previous shadow tables were dropped after the publish
    assert env.query("select count(*) from pg_tables where schemaname = %s",
                     [env.internal]) == [(6,)]


def test_incremental_picks_up_inserted_updated_and_backdated_rows(
        make_env: Callable[..., Env]) -> None:
    env = make_env()
    first = env.load()
    env.source_sql(
        # new repayment after the high-water mark
        "insert into loans_ajoloanrepayment (id, ajo_loan_id, repayment_amount, repayment_ref,"
        " paid_date, created_at, updated_at) values (1001, 1, 5000, md5('new')::uuid,"
        " timestamptz '2025-11-20 10:05+00', timestamptz '2025-11-20 10:05+00',"
        " timestamptz '2025-11-20 10:05+00')",
        # backdated repayment: an old paid_date, entered now
        "insert into loans_ajoloanrepayment (id, ajo_loan_id, repayment_amount, repayment_ref,"
        " marked_as, paid_date, created_at, updated_at) values (1002, 2, 700, md5('old')::uuid,"
        " 'BACKDATED', timestamptz '2025-10-01 09:00+00', timestamptz '2025-11-20 10:06+00',"
        " timestamptz '2025-11-20 10:06+00')",
        # committed late: its cursor value is older than the high-water mark, inside the overlap
        "insert into loans_ajoloanrepayment (id, ajo_loan_id, repayment_amount, repayment_ref,"
        " paid_date, created_at, updated_at) values (1003, 3, 800, md5('late')::uuid,"
        " timestamptz '2025-11-20 09:20+00', timestamptz '2025-11-20 09:20+00',"
        " timestamptz '2025-11-20 09:20+00')",
        "update loans_ajoloan set status = 'COMPLETED',"
        " updated_at = timestamptz '2025-11-20 10:07+00' where id = 4",
        "update loans_ajoloanschedule set fully_paid = true,"
        " updated_at = timestamptz '2025-11-20 10:08+00' where id in (10, 11)",
        "update accounts_customuser set user_branch = 'Abuja Main',"
        " updated_at = timestamptz '2025-11-20 10:09+00' where id = 2")
    second = env.load()
    env.assert_equal()
    for table in INCREMENTAL:
        r = second.table(table)
        assert r.mode == "incremental"
        assert r.lower_bound == first.table(table).watermark - timedelta(hours=1), \
            "high-water mark - overlap"
        assert r.rows_read < env.count(table), "reads only the window"
    assert second.table("loans_ajoloanrepayment").lower_bound == T0 - timedelta(hours=1)
    assert second.table("accounts_customuser").rows_written == 1
    # only rows that changed are rewritten: the rest keep the first run's id
    assert second.table("loans_ajoloanrepayment").rows_written == 3
    assert second.table("loans_ajoloan").rows_written == 1
    assert env.query("select count(*) from {raw}.loans_ajoloanschedule where _run_id = %s",
                     [first.run_id]) == [(598,)]
    assert env.query("select id from {raw}.loans_ajoloanrepayment where _run_id = %s order by id",
                     [second.run_id]) == [(1001,), (1002,), (1003,)]
    assert env.query("select watermark from {raw}._load_state"
                     " where table_name = 'loans_ajoloanrepayment'") == [
        (datetime(2025, 11, 20, 10, 6, tzinfo=UTC),)]


def test_equal_timestamp_ties_are_not_lost(make_env: Callable[..., Env]) -> None:
    env = make_env()
    env.load(overlap="0")
    # rows carrying exactly the stored high-water mark (T0), with no overlap to hide a `>` bug
    env.source_sql("insert into loans_ajoloanrepayment (id, ajo_loan_id, repayment_amount,"
                   " repayment_ref, paid_date, created_at, updated_at)"
                   " values (2001, 1, 10, md5('tie1')::uuid, %s, %s, %s),"
                   " (2002, 1, 20, md5('tie2')::uuid, %s, %s, %s)", params=[T0] * 6)
    env.source_sql("update loans_ajoloanschedule set paid_amount = 1, updated_at = %s where id = 7",
                   params=[T0])
    log = io.StringIO()
    result = env.load(overlap="0", progress=Progress(stream=log, tty=False))
    assert "event=warning" in log.getvalue() and "overlap 0:00:00 is shorter" in log.getvalue()
    assert result.table("loans_ajoloanrepayment").lower_bound == T0
    assert result.table("loans_ajoloanrepayment").rows_written == 2
    assert result.table("loans_ajoloanschedule").rows_written == 1
    env.assert_equal()


def test_hard_deletes_are_removed_by_full(make_env: Callable[..., Env]) -> None:
    env = make_env()
    env.load()
    env.source_sql("delete from loans_ajoloanrepayment where id in (5, 6, 7)",
                   "delete from loans_ajoloanschedule where id between 100 and 199",
                   # like Django's QuerySet.update(): auto_now does not move updated_at
                   "update ajo_ajouser set trade = 'Tailor' where id = 4")
    env.load()
    # incremental cannot see deletes, nor changes that leave the cursor alone ...
    assert env.query("select count(*) from {raw}.loans_ajoloanrepayment"
                     " where id in (5, 6, 7)") == [(3,)]
    assert env.query("select trade from {raw}.ajo_ajouser where id = 4") == [(None,)]
    result = env.load(full=True)
    # ... the periodic full copy removes them
    assert {r.mode for r in result.tables} == {"full"}
    env.assert_equal()
    assert env.query("select count(*) from {raw}.loans_ajoloanrepayment"
                     " where id in (5, 6, 7)") == [(0,)]
    assert env.query("select trade from {raw}.ajo_ajouser where id = 4") == [("Tailor",)]


def test_modest_volume_full_then_incremental(make_env: Callable[..., Env]) -> None:
    env = make_env(MODEST)
    env.load(jobs=2)
    env.source_sql("update loans_ajoloanschedule set paid_amount = due_amount, fully_paid = true,"
                   " updated_at = timestamptz '2025-11-20 10:30+00' where id % 50 = 0",
                   "insert into loans_ajoloanrepayment (id, ajo_loan_id, repayment_amount,"
                   " repayment_ref, paid_date, created_at, updated_at)"
                   " select 100000 + g, 1 + g % 3000, 100, md5('m' || g)::uuid,"
                   " timestamptz '2025-11-20 10:30+00', timestamptz '2025-11-20 10:30+00',"
                   " timestamptz '2025-11-20 10:30+00' from generate_series(1, 500) g")
    result = env.load(jobs=2)
    assert result.table("loans_ajoloanschedule").rows_written == 1200
    assert result.table("loans_ajoloanrepayment").rows_written == 500
    env.assert_equal()


# --- schema drift ---------------------------------------------------------------------------------


def test_new_source_column_is_added_and_dependent_views_survive(
        make_env: Callable[..., Env]) -> None:
    env = make_env()
    env.load()
    env.warehouse_sql("create view {raw}_loan_amounts as"
                      " select id, amount from {raw}.loans_ajoloan")
    env.source_sql("alter table loans_ajoloan"
                   " add column risk_grade varchar(5) not null default 'B'",
                   "update loans_ajoloan set risk_grade = 'A' where id < 5")
    result = env.load()
    assert result.table("loans_ajoloan").mode == "full", "old rows need the new column's values"
    assert "risk_grade" in result.table("loans_ajoloan").reason
    assert columns_of(env.warehouse, env.raw, "loans_ajoloan")[-3:] == [
        ("_loaded_at", "timestamp with time zone"), ("_run_id", "text"),
        ("risk_grade", "character varying(5)")]
    assert env.query("select count(*) filter (where risk_grade = 'A')"
                     " from {raw}.loans_ajoloan") == [(4,)]
    assert env.query("select count(*) from {raw}_loan_amounts") == [(30,)]
    env.assert_equal()


@pytest.mark.parametrize(("change", "message"), [
    ("alter table loans_ajoloan drop column nem_fee",
     "schema drift: column loans_ajoloan.nem_fee is missing in the source"),
    ("alter table loans_ajoloan alter column tenor_in_days type bigint",
     "schema drift: column loans_ajoloan.tenor_in_days changed type from integer to bigint"),
])
def test_incompatible_drift_fails_and_publishes_nothing(make_env: Callable[..., Env], change: str,
                                                        message: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    env = make_env()
    env.load()
    columns = {table: env.source_columns(table) for table in TABLES}
    before = env.snapshot(columns)
    state = env.query("select * from {raw}._load_state order by 1")
    env.source_sql(change,
                   "update loans_ajoloanrepayment set comment = 'changed', updated_at = now()")
    assert env.cli() == EXIT_FAILED
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and "nothing was published" in err
    assert env.snapshot(columns) == before
    assert env.query("select * from {raw}._load_state order by 1") == state
    assert env.query("select count(*) from pg_tables where schemaname = %s",
                     [env.internal]) == [(6,)]
    assert env.query("select count(*), min(error) from {raw}._load_runs"
                     " where status = 'failed'") == [
        (6, err.removeprefix("seedsmetrics: error: "))]


def test_failure_during_copy_publishes_nothing_and_cleans_up(
        make_env: Callable[..., Env], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = make_env()
    config = tmp_path / "tables.yml"
    config.write_text("tables:\n  - {name: loans_holiday, primary_key: [id]}\n"
                      "  - {name: loans_ajoloanschedule, primary_key: [id]}\n")
    env.load(config_path=str(config))
    before = env.query("select count(*), max(_run_id) from {raw}.loans_ajoloanschedule")
    env.source_sql("delete from loans_holiday where id = 1")
    # a primary key that is not unique: the copy succeeds, building the key fails
    config.write_text(config.read_text().replace("loans_ajoloanschedule, primary_key: [id]",
                                                 "loans_ajoloanschedule, primary_key: [loan_id]"))
    assert env.cli("--config", str(config)) == EXIT_FAILED
    err = capsys.readouterr().err.strip().splitlines()[-1]  # after the run's log lines
    assert "load failed: loans_ajoloanschedule:" in err and "nothing was published" in err
    assert env.query("select count(*), max(_run_id) from {raw}.loans_ajoloanschedule") == before
    assert env.query("select count(*) from {raw}.loans_holiday") == [(3,)], \
        "the other table is not published either"
    assert env.query("select table_name, status from {raw}._load_runs"
                     " where status <> 'success' order by 1") == [
        ("loans_ajoloanschedule", "failed"), ("loans_holiday", "failed")]
    assert env.query("select count(*) from pg_tables where schemaname = %s",
                     [env.internal]) == [(2,)]


def test_lossless_type_change_is_accepted(make_env: Callable[..., Env]) -> None:
    env = make_env()
    env.load()
    # narrower in the source: still fits the raw column, which keeps its type (dependent views)
    env.source_sql("alter table loans_ajoloanrepayment alter column comment type varchar(50)",
                   "alter table loans_ajoloanschedule alter column late_days type smallint")
    env.load(full=True)
    assert ("comment", "character varying(300)") in columns_of(env.warehouse, env.raw,
                                                               "loans_ajoloanrepayment")
    assert ("late_days", "integer") in columns_of(env.warehouse, env.raw, "loans_ajoloanschedule")
    env.assert_equal()


def test_readers_see_a_complete_copy_across_a_publish(make_env: Callable[..., Env]) -> None:
    env = make_env()
    env.load()
    columns = {table: env.source_columns(table) for table in TABLES}
    old = env.snapshot(columns)
    with psycopg.connect(env.warehouse) as reader:
        # a reader whose snapshot predates the publish, but who reads the raw views after it
        reader.execute("begin isolation level repeatable read")
        reader.execute("select 1")
        env.source_sql(*CHANGES)
        new = env.source_snapshot()
        env.load()
        # a re-pointed view, a merged copy
        for table in ("loans_holiday", "loans_ajoloanrepayment"):
            seen = digest_on(reader, env.raw, table, columns[table])
            assert seen in (old[table], new[table]) and seen[0] > 0
        reader.rollback()
    env.assert_equal()


def test_publish_waits_for_readers_then_gives_up_publishing_nothing(
        make_env: Callable[..., Env], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = make_env()
    config = tmp_path / "tables.yml"
    packaged = Path(load_config().path).read_text()
    config.write_text(packaged.replace("publish_lock_timeout: 5s", "publish_lock_timeout: 100ms")
                      .replace("publish_attempts: 12", "publish_attempts: 2"))
    env.load(config_path=str(config))
    columns = {table: env.source_columns(table) for table in TABLES}
    before = env.snapshot(columns)
    env.source_sql(*CHANGES)
    with psycopg.connect(env.warehouse) as reader:
        # holds the view until rollback
        reader.execute(f"select count(*) from {env.raw}.loans_holiday")
        assert env.cli("--config", str(config)) == EXIT_FAILED
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert "could not publish: readers kept the raw views locked (2 attempts" in err
        reader.rollback()
    assert env.snapshot(columns) == before, "the merges were rolled back with the blocked view"
    assert env.query("select count(*) from pg_tables where schemaname = %s",
                     [env.internal]) == [(6,)]
    env.load(config_path=str(config))
    env.assert_equal()


# --- roles, configuration, operator experience ----------------------------------------------------


def test_source_role_with_select_only(make_env: Callable[..., Env]) -> None:
    env = make_env()
    role, password = f"load_ro_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    dbname = conninfo_to_dict(env.source)["dbname"]
    env.source_sql(f"create role {role} login password '{password}'",
                   f'grant connect on database "{dbname}" to {role}',
                   f"grant usage on schema {env.src} to {role}",
                   f"grant select on all tables in schema {env.src} to {role}")
    try:
        ro_url = make_conninfo(env.source, user=role, password=password)
        with psycopg.connect(ro_url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"insert into {env.src}.loans_holiday (date, name, type)"
                         " values ('2025-01-01', 'x', 'c')")
        env.load(source_url=ro_url)
        env.source_sql("update loans_ajoloan set amount = 7, updated_at = now() where id = 1")
        assert env.load(source_url=ro_url).table("loans_ajoloan").rows_written == 1
        env.assert_equal()
    finally:
        env.source_sql(f"drop owned by {role}", f"drop role {role}")


@contextlib.contextmanager
def warehouse_login(env: Env, granted: str, revoked_from_public: str) -> Iterator[tuple[str, str]]:
    """A login role with the database privileges `granted` on the test warehouse database while
    PUBLIC loses `revoked_from_public` there; the loader's WAREHOUSE_USER/PASSWORD point at it.
    Everything is undone afterwards. Yields (role, password)."""
    role, password = f"load_wh_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    dbname = conninfo_to_dict(env.warehouse)["dbname"]
    env.warehouse_sql(f"create role {role} login password '{password}'")
    env.warehouse_sql(f'grant {granted} on database "{dbname}" to {role}')
    env.warehouse_sql(f'revoke {revoked_from_public} on database "{dbname}" from public')
    try:
        os.environ.update(WAREHOUSE_USER=role, WAREHOUSE_PASSWORD=password)
        yield role, password
    finally:
        env.warehouse_sql(f'grant {revoked_from_public} on database "{dbname}" to public')
        env.warehouse_sql(f"drop owned by {role}")
        env.warehouse_sql(f"drop role {role}")


def test_warehouse_role_without_temp_privilege(make_env: Callable[..., Env]) -> None:
    # a hardened warehouse may revoke TEMP: deltas then go to unlogged tables of the internal schema
    env = make_env()
    with warehouse_login(env, granted="connect, create",
                         revoked_from_public="temporary") as (role, _):
        assert env.query("select has_database_privilege(%s, current_database(), 'TEMP')",
                         [role]) == [(False,)]
        env.load()
        env.source_sql(*CHANGES)
        result = env.load()
        assert result.table("loans_ajoloanrepayment").mode == "incremental"
        env.assert_equal()


def test_tables_config_and_text_format(make_env: Callable[..., Env], tmp_path: Path) -> None:
    env = make_env()
    config = tmp_path / "tables.yml"
    config.write_text("tables:\n"
                      "  - {name: loans_holiday, primary_key: [id], format: text}\n"
                      "  - {name: loans_ajoloanrepayment, primary_key: id, mode: incremental,"
                      " cursor: [date_modified, updated_at], format: text}\n")
    result = env.load(config_path=str(config))
    assert [r.table for r in result.tables] == ["loans_holiday", "loans_ajoloanrepayment"]
    for table in ("loans_holiday", "loans_ajoloanrepayment"):
        columns = env.source_columns(table)
        assert digest(env.warehouse, env.raw, table, columns) == digest(env.source, env.src, table,
                                                                        columns)
    assert env.query("select count(*) from pg_views where schemaname = %s", [env.raw]) == [(2,)]
    # --tables selects among the configured tables
    result = env.load(config_path=str(config), tables=["loans_holiday"])
    assert [r.table for r in result.tables] == ["loans_holiday"]


def test_views_and_partitioned_tables_as_sources(make_env: Callable[..., Env],
                                                 tmp_path: Path) -> None:
    # COPY refuses views and partitioned tables in table form: the loader reads them by query
    env = make_env()
    env.source_sql("create view holiday_view as select * from loans_holiday",
                   "create table holiday_parts (like loans_holiday) partition by range (date)",
                   "create table holiday_parts_all partition of holiday_parts default",
                   "insert into holiday_parts select * from loans_holiday")
    config = tmp_path / "tables.yml"
    config.write_text("tables:\n  - {name: holiday_view, primary_key: [id]}\n  - {name: "
                      "holiday_parts, primary_key: [id], mode: incremental, cursor: "
                      "[updated_at]}\n")
    for _ in range(2):  # a first (full) load, then an incremental one
        env.load(config_path=str(config))
        for table in ("holiday_view", "holiday_parts"):
            columns = env.source_columns(table)
            assert digest(env.warehouse, env.raw, table, columns) == digest(
                env.source, env.src, "loans_holiday", columns)


def test_warehouse_privilege_errors_are_one_line(make_env: Callable[..., Env],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    env = make_env()
    with warehouse_login(env, granted="connect", revoked_from_public="create") as (_, password):
        assert env.cli() == EXIT_BAD_INPUT
        err = _one_line_error(capsys)
        assert "permission denied" in err and password not in err


def test_dry_run_prints_the_plan_and_writes_nothing(make_env: Callable[..., Env],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    env = make_env()
    assert env.cli("--dry-run") == 0
    out = capsys.readouterr().out
    assert "loans_ajoloanrepayment     full" in out and "first load" in out
    assert env.query("select count(*) from pg_namespace where nspname in (%s, %s)",
                     [env.raw, env.internal]) == [(0,)]
    env.load()
    assert env.cli("--dry-run", "--tables", "loans_ajoloanschedule") == 0
    out = capsys.readouterr().out
    assert "loans_ajoloanschedule      incremental" in out
    assert "rows where updated_at >= 2025-11-20 09:00:00+0000" in out
    assert "loans_holiday" not in out


def test_progress_log_lines_are_structured(make_env: Callable[..., Env],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    env = make_env()
    assert env.cli("--tables", "loans_holiday,loans_ajoloan") == 0
    lines = capsys.readouterr().err.strip().splitlines()
    copied = [line for line in lines if "event=table_copied" in line]
    assert len(copied) == 2 and all("rows=" in line and "mb_per_s=" in line for line in copied)
    assert "event=run_published" in lines[-1]


# --- bad inputs: one line, non-zero, no secrets ---------------------------------------------------


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("seedsmetrics: error: ")
    return err


def test_bad_inputs(make_env: Callable[..., Env], capsys: pytest.CaptureFixture[str]) -> None:
    env = make_env()
    assert main(["load", "--source-url",
                 "postgresql://postgres@127.0.0.1:1/nowhere"]) == EXIT_BAD_INPUT
    assert "cannot connect to the source database" in _one_line_error(capsys)
    assert env.cli("--target", "nope") == EXIT_BAD_INPUT
    assert "unknown target 'nope'" in _one_line_error(capsys)
    os.environ.pop("SEEDS_TARGET")  # settings exports the requested target name even when unknown
    assert env.cli("--tables", "loans_nothing") == EXIT_BAD_INPUT
    assert "unknown table(s) loans_nothing" in _one_line_error(capsys)
    env.source_sql("drop table loans_holiday")
    assert env.cli() == EXIT_BAD_INPUT
    assert f"source table {env.src}.loans_holiday does not exist" in _one_line_error(capsys)
    # refused before copying anything; the audit says why
    assert env.query("select count(*) from pg_views where schemaname = %s", [env.raw]) == [(0,)]
    assert env.query("select count(*) from {raw}._load_runs where status = 'failed'"
                     " and error like '%%loans_holiday does not exist%%'") == [(6,)]
    with pytest.raises(UserError, match="SOURCE_DATABASE_URL"):
        run_load(None, progress=Progress(quiet=True))


def test_wrong_password_is_reported_without_the_password(embedded: warehouse.Embedded,
                                                        make_env: Callable[..., Env],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    # the embedded server checks passwords (scram) for every role but postgres over TCP
    env = make_env()
    role = f"load_pw_{uuid.uuid4().hex[:8]}"
    password, wrong = "Right-" + uuid.uuid4().hex, "Wr0ng-" + uuid.uuid4().hex
    admin = embedded.url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"create role {role} login password '{password}'")
    try:
        bad_source = f"postgresql://{role}:{wrong}@127.0.0.1:{embedded.port}/postgres"
        assert main(["load", "--source-url", bad_source]) == EXIT_BAD_INPUT
        err = _one_line_error(capsys)
        assert "password authentication failed" in err and wrong not in err
        os.environ.update(WAREHOUSE_USER=role, WAREHOUSE_PASSWORD=wrong)
        assert env.cli() == EXIT_BAD_INPUT
        err = _one_line_error(capsys)
        assert "cannot connect to the warehouse" in err and "password authentication failed" in err
        assert wrong not in err
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"drop role {role}")


# --- units ----------------------------------------------------------------------------------------


def test_lossless_casts() -> None:
    assert lossless_cast("integer", "bigint") and lossless_cast("smallint", "integer")
    assert not lossless_cast("bigint", "integer")
    assert lossless_cast("character varying(50)", "character varying(300)")
    assert not lossless_cast("character varying(500)", "character varying(300)")
    assert not lossless_cast("text", "character varying(300)")
    assert lossless_cast("character varying(20)", "text")
    assert lossless_cast("numeric(18,2)", "numeric")
    assert not lossless_cast("timestamp without time zone", "timestamp with time zone")


def test_shadow_names_fit_and_never_collide() -> None:
    from seedsmetrics.loader import raw_layer

    run_id = "20261201t150723_a665ae"
    assert raw_layer.shadow_name("loans_ajoloan", run_id) == f"loans_ajoloan__{run_id}"
    long_a, long_b = "x" * 40 + "_repayments", "x" * 40 + "_schedules"
    names = {raw_layer.shadow_name(long_a, run_id), raw_layer.shadow_name(long_b, run_id),
             raw_layer.delta_name(long_a, run_id), raw_layer.delta_name(long_b, run_id)}
    assert len(names) == 4 and all(len(name) <= 63 for name in names)


def test_durations_and_scrubbing() -> None:
    assert parse_duration("1h", "x") == timedelta(hours=1)
    assert parse_duration("90", "x") == timedelta(seconds=90)
    assert parse_duration("250ms", "x") == timedelta(milliseconds=250)
    with pytest.raises(UserError, match="not a duration"):
        parse_duration("soon", "--overlap")
    text = scrub("postgresql://u:hunter2@h/db password=hunter2 password='a b'", ["hunter2"])
    assert "hunter2" not in text and "a b" not in text
    assert [t.name for t in load_config().tables] == list(TABLES)


# --- locking and crash safety (the CLI in a subprocess, killed with SIGKILL)
# -------------------------


def start_paused(env: Env, phase: str, *args: str) -> subprocess.Popen[str]:
    """Run `seedsmetrics load` in a subprocess that stops at `phase` (the loader's test hook)."""
    child_env = {key: value for key, value in os.environ.items() if key != settings.EMBEDDED_MARKER}
    child_env.update(warehouse_env(env.warehouse), SEEDS_LOADER_PAUSE_AT=phase,
                     SEEDS_LOADER_PAUSE_SECONDS="60", PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "seedsmetrics", *env.cli_args(*args)],
                            env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stderr is not None
    seen = []
    while line := proc.stderr.readline():
        seen.append(line)
        if " event=paused " in line and f" phase={phase}" in line:
            return proc
    proc.wait()
    raise AssertionError(f"the loader ended (exit {proc.returncode}) before {phase}: "
                         f"{''.join(seen)[-500:]}")


def kill(env: Env, proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.wait()
    # the server notices the dead client (and releases its lock) a moment later
    deadline = time.monotonic() + 15
    while env.query("select count(*) from pg_stat_activity"
                    " where application_name = 'seedsmetrics-load'"
                    " and datname = current_database()") != [(0,)]:
        assert time.monotonic() < deadline, "the killed loader's sessions did not end"
        time.sleep(0.05)


def test_a_second_concurrent_run_exits_at_once_with_75(make_env: Callable[..., Env],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    env = make_env()
    holder = start_paused(env, "locked")
    try:
        started = time.monotonic()
        assert env.cli() == EXIT_LOCKED
        assert time.monotonic() - started < 5
        err = _one_line_error(capsys)
        assert f"another load into schema {env.raw}" in err and "try again later" in err
    finally:
        kill(env, holder)
    assert env.cli() == 0
    env.assert_equal()


CHANGES = (
    "update loans_ajoloan set status = 'CLOSED', updated_at = timestamptz '2025-11-20 10:30+00'"
    " where id % 3 = 0",
    "insert into loans_ajoloanrepayment (id, ajo_loan_id, repayment_amount, repayment_ref,"
    " paid_date, created_at, updated_at) select 900000 + g, g, 99, md5('k' || g)::uuid,"
    " timestamptz '2025-11-20 10:30+00', timestamptz '2025-11-20 10:30+00',"
    " timestamptz '2025-11-20 10:30+00' from generate_series(1, 20) g",
    "update loans_ajoloanschedule set paid_amount = 1,"
    " updated_at = timestamptz '2025-11-20 10:31+00' where id < 50",
    "delete from loans_holiday where id = 3",
    "update ajo_ajouser set first_name = 'Renamed', updated_at = timestamptz '2025-11-20 10:32+00'"
    " where id % 2 = 0",
    "update accounts_customuser set performance_status = 'Suspended',"
    " updated_at = timestamptz '2025-11-20 10:33+00' where id = 1",
)


@pytest.mark.slow
@pytest.mark.parametrize(("phase", "sizes"), [("copy", MID), ("copied", SMALL), ("publish", SMALL),
                                              ("published", SMALL)],
                                              ids=["copy", "copied", "publish", "published"])
def test_sigkill_at_any_phase_leaves_old_or_new_copy(make_env: Callable[..., Env], phase: str,
                                                     sizes: dict[str, int]) -> None:
    # "copy" stops mid-stream (after the first 128 KiB block of the biggest tables), the others
    # between the steps of the run; the publish is one transaction, so old or new, never a mix
    env = make_env(sizes)
    env.load()
    columns = {table: env.source_columns(table) for table in TABLES}
    old = env.snapshot(columns)
    env.source_sql(*CHANGES)
    new = env.source_snapshot()
    assert all(old[table] != new[table] for table in TABLES)
    proc = start_paused(env, phase)
    kill(env, proc)
    run_id = env.query("select run_id from {raw}._load_runs order by started_at desc limit 1")[0][0]
    after = env.snapshot(columns)
    # all or nothing: the publish is one transaction
    assert after == (new if phase == "published" else old)
    result = env.load()
    env.assert_equal()
    status = env.query("select distinct status from {raw}._load_runs where run_id = %s", [run_id])
    assert status == ([("success",)] if phase == "published" else [("abandoned",)])
    assert result.table("loans_ajoloanrepayment").mode == "incremental"
    # leftovers (unpublished shadows and deltas, or old shadows) are gone
    assert env.query("select count(*) from pg_tables where schemaname = %s",
                     [env.internal]) == [(6,)]


def test_progress_on_a_terminal_and_in_logs() -> None:
    terminal = io.StringIO()
    progress = Progress(stream=terminal, tty=True)
    progress.table_started("loans_ajoloan", "full")
    progress.table_progress("loans_ajoloan", 500, 2 * 1024 * 1024)
    progress.table_done("loans_ajoloan", "full", 1000, 4 * 1024 * 1024, 2.0)
    text = terminal.getvalue()
    assert "copying: loans_ajoloan 500 rows" in text and "\r\033[K" in text, \
        "a live line while copying"
    last = text.splitlines()[-1].replace("\033[K", "").split()
    assert last == ["loans_ajoloan", "full", "1,000", "rows", "4.0", "MB", "2.0", "MB/s",
                    "2.00", "s"]
    log = io.StringIO()
    Progress(stream=log, tty=False).table_done("loans_ajoloan", "incremental", 7, 1024, 0.5,
                                               run_id="r1")
    assert re.fullmatch(r"ts=\S+Z level=info logger=seedsmetrics.load event=table_copied"
                        r" table=loans_ajoloan mode=incremental rows=7 mb=0.0 mb_per_s=0.0"
                        r" seconds=0.50 run_id=r1\n", log.getvalue())


def test_parallel_workers_read_one_consistent_snapshot(make_env: Callable[..., Env],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables copied on several connections all read the coordinator's exported snapshot: changes
    committed after it was taken (before the workers even connect) are in none of the copies, and
    the next run has them."""
    import threading

    from seedsmetrics.loader import engine

    env = make_env(MID)
    before = env.source_snapshot()
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)  # every table is "big": a worker each
    monkeypatch.setenv("SEEDS_LOADER_PAUSE_AT", "snapshot")  # pause once the snapshot is exported
    monkeypatch.setenv("SEEDS_LOADER_PAUSE_SECONDS", "3")
    outcome: dict[str, object] = {}

    def load() -> None:
        try:
            outcome["result"] = env.load(jobs=3)
        except BaseException as error:  # noqa: BLE001 - re-raised in the test thread below
            outcome["error"] = error

    def source_readers(conn: psycopg.Connection) -> int:
        return conn.execute("select count(*) from pg_stat_activity"
                            " where application_name = 'seedsmetrics-load'"
                            " and datname = current_database()").fetchone()[0]

    loader = threading.Thread(target=load)
    loader.start()
    with psycopg.connect(env.source, autocommit=True) as conn:
        deadline = time.monotonic() + 30
        while source_readers(conn) < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert source_readers(conn) == 1, "only the coordinator is connected while paused"
        env.source_sql(*CHANGES)  # committed after the snapshot, before any worker connects
        peak = 1
        while loader.is_alive() and peak < 3:
            peak = max(peak, source_readers(conn))
            time.sleep(0.02)
    loader.join(120)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    assert peak == 3, "three source connections: the coordinator and two workers"
    assert env.snapshot() == before, \
        "every table is the source as of the snapshot, none has the later changes"
    monkeypatch.delenv("SEEDS_LOADER_PAUSE_AT")
    env.load()
    env.assert_equal()
