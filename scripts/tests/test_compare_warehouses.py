"""scripts/compare_warehouses.py (issue 9) fails when it should and passes on identical data.

Two throw-away databases on a real PostgreSQL (CI_SOURCE_DATABASE_URL, else the server on
127.0.0.1:5432, else the embedded warehouse) get the same small marts schema; the AFTER side is
then changed in one way per test (a changed row, a missing row, a duplicated row, an extra column,
...) and the script, run as a command, must exit 1 and say what differs; on identical data (run
stamps aside) it must exit 0, and on bad input exit 2 with one line.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import pytest

from .conftest import PROJECT_ROOT, DatabaseFactory

pytestmark = pytest.mark.integration

SCRIPT = PROJECT_ROOT / "scripts" / "compare_warehouses.py"
SCHEMA = "cmp_marts"
MARTS = f"""
create schema {SCHEMA};
create table {SCHEMA}.officer_metrics_daily (
    officer_id integer not null,
    metric_date date not null,
    glp_amount numeric not null,
    par15_ratio double precision,
    source_loaded_at timestamptz not null,
    computed_at timestamptz not null
);
insert into {SCHEMA}.officer_metrics_daily
select officer_id, date '2025-11-01' + day, officer_id * 1000 + day * 10.5, day / 7.0, now(),
       clock_timestamp()
from generate_series(1, 20) as officer_id, generate_series(0, 19) as day;
create table {SCHEMA}.fct_loans (
    loan_id integer primary key,
    status text,
    principal_amount numeric(14, 2),
    terms json,  -- a type without an ordering operator
    loaded_at timestamptz not null
);
insert into {SCHEMA}.fct_loans
select loan_id, case when loan_id % 3 = 0 then null else 'OPEN' end, loan_id * 100.25,
       json_build_object('days', loan_id % 4 * 30), now()
from generate_series(1, 50) as loan_id;
"""


def admin_url(request: pytest.FixtureRequest) -> str:
    if url := os.environ.get("CI_SOURCE_DATABASE_URL"):
        return url
    with socket.socket() as probe:
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", 5432)) == 0:
            return "postgresql://postgres@127.0.0.1:5432/postgres"
    return request.getfixturevalue("embedded").url("postgres")


@dataclass
class Pair:
    before: str
    after: str

    def change_after(self, statement: str) -> None:
        with psycopg.connect(self.after, autocommit=True) as conn:
            conn.execute(statement)

    def compare(self, *options: str) -> subprocess.CompletedProcess[str]:
        return run_script("compare", self.before, self.after, *options)


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture
def pair(request: pytest.FixtureRequest) -> Iterator[Pair]:
    """BEFORE and AFTER: two databases with the same marts (run stamps taken at different times)."""
    factory = DatabaseFactory(admin_url(request))
    try:
        urls = [factory("cmp_before"), factory("cmp_after")]
        for url in urls:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(MARTS)
        yield Pair(*urls)
    finally:
        factory.drop_all()


def assert_diff(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 1, result.stdout + result.stderr
    for text in expected:
        assert text in result.stdout, f"{text!r} not in:\n{result.stdout}"


def test_identical_marts_pass_with_their_run_stamps_ignored(pair: Pair) -> None:
    result = pair.compare()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK    fct_loans" in result.stdout and "(ignored: loaded_at)" in result.stdout
    assert "OK    officer_metrics_daily" in result.stdout
    assert "(ignored: computed_at, source_loaded_at)" in result.stdout
    assert "result: identical (2 tables compared)" in result.stdout
    # the run stamps really differ: comparing them too finds every row changed
    assert_diff(pair.compare("--ignore-columns", ""), "400 only in before, 400 only in after")


def test_a_changed_row_fails_and_shows_both_versions(pair: Pair) -> None:
    pair.change_after(f"update {SCHEMA}.officer_metrics_daily set glp_amount = glp_amount + 0.01 "
                      "where officer_id = 7 and metric_date = date '2025-11-03'")
    result = pair.compare()
    assert_diff(result, "DIFF  officer_metrics_daily", "before 400 rows, after 400 rows; "
                "1 only in before, 1 only in after",
                "officer_id=7, metric_date=2025-11-03, glp_amount=7021.0, ",
                "officer_id=7, metric_date=2025-11-03, glp_amount=7021.01, ",
                "OK    fct_loans", "result: 1 of 2 tables differ")


def test_a_missing_row_fails(pair: Pair) -> None:
    pair.change_after(f"delete from {SCHEMA}.fct_loans where loan_id = 12")
    assert_diff(pair.compare(), "DIFF  fct_loans", "before 50 rows, after 49 rows; 1 only in "
                "before, 0 only in after", "rows only in before (1; first 1 shown):",
                'loan_id=12, status=NULL, principal_amount=1203.00, terms={"days" : 0}')


def test_a_duplicated_row_fails(pair: Pair) -> None:
    pair.change_after(f"insert into {SCHEMA}.officer_metrics_daily select * from "
                      f"{SCHEMA}.officer_metrics_daily where officer_id = 3 and metric_date = "
                      "date '2025-11-05'")
    assert_diff(pair.compare(), "before 400 rows, after 401 rows; 0 only in before, 1 only in "
                "after", "officer_id=3, metric_date=2025-11-05",
                "[1x in before, 2x in after]")


def test_an_extra_column_fails_but_the_common_columns_are_still_compared(pair: Pair) -> None:
    pair.change_after(f"alter table {SCHEMA}.fct_loans add column branch_id integer")
    assert_diff(pair.compare(), "DIFF  fct_loans", "before 50 rows, after 50 rows; 0 only in "
                "before, 0 only in after", "columns only in after: branch_id (integer)")


def test_null_and_empty_text_differ(pair: Pair) -> None:
    pair.change_after(f"update {SCHEMA}.fct_loans set status = '' where loan_id = 3")
    assert_diff(pair.compare(), "1 only in before, 1 only in after", "loan_id=3, status=NULL",
                "loan_id=3, status=, ")


def test_a_changed_type_fails(pair: Pair) -> None:
    pair.change_after(f"alter table {SCHEMA}.officer_metrics_daily alter column officer_id "
                      "type bigint")
    assert_diff(pair.compare(), "type changed: officer_id integer -> bigint",
                "0 only in before, 0 only in after")


def test_a_renamed_column_passes_with_its_mapping(pair: Pair) -> None:
    pair.change_after(f"alter table {SCHEMA}.fct_loans rename column status to loan_status")
    assert_diff(pair.compare(), "columns only in before: status (text)",
                "columns only in after: loan_status (text)")
    result = pair.compare("--rename", "fct_loans.status=loan_status")
    assert result.returncode == 0, result.stdout + result.stderr
    result = pair.compare("--rename", "fct_loans.stat=loan_status")
    assert result.returncode == 2 and "--rename fct_loans.stat=loan_status" in result.stderr


def test_a_missing_table_fails(pair: Pair) -> None:
    pair.change_after(f"drop table {SCHEMA}.fct_loans")
    assert_diff(pair.compare(), "DIFF  fct_loans", "table only in before",
                "OK    officer_metrics_daily")


def test_a_missing_schema_or_server_is_bad_input(pair: Pair) -> None:
    result = pair.compare("--after-schema", "dev_marts")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"compare_warehouses: error: the after warehouse ({describe(pair.after)}) has no schema "
        "dev_marts"]
    result = run_script("compare", pair.before, "postgresql://postgres@127.0.0.1:1/nowhere")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("compare_warehouses: error: cannot connect to the after")


def test_builds_from_different_sources_are_not_compared(pair: Pair) -> None:
    for url, fingerprint in ((pair.before, "aaaa"), (pair.after, "bbbb")):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("create schema compare_warehouses; create table compare_warehouses.builds "
                         "(built_at timestamptz not null, info jsonb not null)")
            conn.execute("insert into compare_warehouses.builds values (now(), %s)",
                         [f'{{"as_of": "2025-11-20", "source_fingerprint": "{fingerprint}"}}'])
    result = pair.compare()
    assert result.returncode == 2 and "source_fingerprint aaaa vs bbbb" in result.stderr
    assert pair.compare("--skip-build-check").returncode == 0


def test_build_refuses_a_warehouse_that_is_not_empty(pair: Pair) -> None:
    result = run_script("build", "--source-url", pair.before, "--warehouse-url", pair.after)
    assert result.returncode == 2
    assert "already holds schemas (cmp_marts)" in result.stderr
    result = run_script("build", "--source-url", pair.before, "--warehouse-url", pair.before)
    assert result.returncode == 2 and "names the source database" in result.stderr
    # a kept baseline is marked read-only: even --replace leaves it alone
    dbname = psycopg.conninfo.conninfo_to_dict(pair.after)["dbname"]
    with psycopg.connect(pair.after, autocommit=True) as conn:
        conn.execute(f'alter database "{dbname}" set default_transaction_read_only = on')
    result = run_script("build", "--source-url", pair.before, "--warehouse-url", pair.after,
                        "--replace")
    assert result.returncode == 2 and "is marked read-only" in result.stderr
    assert pair.compare().returncode == 0  # still there, untouched


def describe(url: str) -> str:
    params = psycopg.conninfo.conninfo_to_dict(url)
    port = params.get("port") or 5432
    return f"{params.get('user')}@{params.get('host')}:{port}/{params['dbname']}"
