"""rules §4.2: an incremental run of the daily models produces exactly the rows a full refresh
produces, and running it again changes nothing.

End to end on real PostgreSQL, in throw-away databases of the embedded server: a synthetic Django
source generated up to D-3, loaded (`run_load`) and built with as_of_date D-3; then for D-2, D-1
and D one more simulated day of activity (new repayments, repayments backdated up to a week, a
reversal, new loans), an incremental load and an incremental dbt run with as_of_date = that day.
Each day the source also rewrites history without a new repayment (a company holiday declared in
the past, an officer moving branch, a loan changing officer) and, on D-1, two write-off cases
(rules §2.5): a late-loaded recovery, paid on D-3, that closes a written-off loan, and a backdated
payment, paid the day before another loan's write-off day, that pays it off and so undoes the
write-off. A full refresh of the
same models into a second set of schemas, from the same raw tables and
as-of date, must then hold the same rows in every daily model (EXCEPT ALL both ways, every column
but the run metadata computed_at and source_loaded_at), with incremental_lookback_days 0 so that no
safety margin hides a window that starts too late. A second incremental run with nothing new must
leave every row as it was, and one more day with no source change at all (only the new day moves)
must again equal a full refresh. The incremental schemas must also pass the portfolio marts' data
tests.
"""

from __future__ import annotations

from datetime import date, timedelta

import psycopg
import pytest
from psycopg import sql

from seedsmetrics.source_generator import generate, simulate_day

from .conftest import Project

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AS_OF = date(2025, 11, 20)
SCALE = 0.02
SEED = 11
INCREMENTAL = "inc"
FULL = "full"
# every daily model (schema suffix, model)
DAILY_MODELS = [
    ("intermediate", "int_loan_days"),
    ("marts", "officer_metrics_daily"),
    ("marts", "branch_metrics_daily"),
    ("marts", "region_metrics_daily"),
    ("marts", "portfolio_metrics_daily"),
    ("marts", "dpd_transitions"),
    ("marts", "par15_snapshots"),
    ("marts", "roll_rates_monthly"),
]
# run metadata, not data: when the row was written and the raw watermark its run saw (a row kept
# from an earlier run keeps that run's values)
RUN_METADATA_COLUMNS = {"computed_at", "source_loaded_at"}
# the daily marts, everything upstream of them (seeds, staging views, cleaned entities, core marts)
# and the core marts their reconciliation tests read; `build` of models and seeds only (no tests)
SELECT = ["--select", "+path:models/marts/portfolio", "fct_loans", "fct_loan_installments",
          "--resource-type", "model", "--resource-type", "seed"]


def columns(conn: psycopg.Connection, schema: str, table: str) -> list[str]:
    rows = conn.execute("select column_name from information_schema.columns"
                        " where table_schema = %s and table_name = %s order by ordinal_position",
                        [schema, table]).fetchall()
    return [name for (name,) in rows if name not in RUN_METADATA_COLUMNS]


def differences(conn: psycopg.Connection, left: str, right: str) -> dict[str, tuple[int, int, int]]:
    """Per daily model: (rows in left, rows only in left, rows only in right), every column but
    the run metadata; only in left/right must both be 0."""
    found = {}
    for layer, model in DAILY_MODELS:
        left_columns = columns(conn, f"{left}_{layer}", model)
        assert left_columns, f"{left}_{layer}.{model} does not exist"
        assert left_columns == columns(conn, f"{right}_{layer}", model), f"{model}: columns differ"
        listed = sql.SQL(", ").join(map(sql.Identifier, left_columns))
        one = sql.Identifier(f"{left}_{layer}", model)
        other = sql.Identifier(f"{right}_{layer}", model)
        query = sql.SQL(
            "select (select count(*) from {one}), (select count(*) from (select {cols} from {one} "
            "except all select {cols} from {other}) as d), (select count(*) from (select {cols} "
            "from {other} except all select {cols} from {one}) as d)"
        ).format(one=one, other=other, cols=listed)
        found[model] = conn.execute(query).fetchone()
    return found


def snapshot(conn: psycopg.Connection, schema: str) -> None:
    """Copy the daily models of `schema` into schema `<schema>_before` (the idempotence
    reference)."""
    conn.execute(sql.SQL("drop schema if exists {} cascade").format(
        sql.Identifier(f"{schema}_before_marts")))
    conn.execute(sql.SQL("drop schema if exists {} cascade").format(
        sql.Identifier(f"{schema}_before_intermediate")))
    for layer in ("marts", "intermediate"):
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(f"{schema}_before_{layer}")))
    for layer, model in DAILY_MODELS:
        conn.execute(sql.SQL("create table {} as table {}").format(
            sql.Identifier(f"{schema}_before_{layer}", model),
            sql.Identifier(f"{schema}_{layer}", model)))


def assert_equal(conn: psycopg.Connection, left: str, right: str, what: str) -> None:
    found = differences(conn, left, right)
    unequal = {model: counts for model, counts in found.items() if counts[1] or counts[2]}
    assert not unequal, f"{what}: (rows, only in {left}, only in {right}) per model: {unequal}"
    empty = [model for model, counts in found.items() if counts[0] == 0]
    assert not empty, f"{what}: no rows in {empty} (the comparison would prove nothing)"


def rewrite_history(source_url: str, day: date, offset: int) -> None:
    """Source edits that change the past without any new repayment, one kind per simulated day so
    none hides another: a company holiday declared on a past business day (derived schedules
    shift), the busiest officer moving to another branch (attribution is current: all their days
    now belong to it), the newest loan of another officer handed to a third one."""
    when = f"{day.isoformat()} 12:00:00+00"
    with psycopg.connect(source_url, autocommit=True) as conn:
        busiest, second, third = (row[0] for row in conn.execute(
            "select agent_id from loans_ajoloan where is_disbursed group by agent_id"
            " order by count(*) desc, agent_id limit 3").fetchall())
        if offset == 2:
            conn.execute("insert into loans_holiday (date, name, type, created_at, updated_at)"
                         " values (%s, 'Declared holiday', 'company', %s, %s)",
                         [day - timedelta(days=20), when, when])
        elif offset == 1:
            conn.execute("update accounts_customuser set user_branch = 'Ibadan Ring Road',"
                         " updated_at = %s where id = %s", [when, busiest])
        else:
            conn.execute("update loans_ajoloan set agent_id = %s, updated_at = %s"
                         " where id = (select max(id) from loans_ajoloan"
                         " where agent_id = %s and is_disbursed)",
                         [third, when, second])


def late_write_off_payments(source_url: str, warehouse_url: str, day: date) -> dict[str, int]:
    """Two late-loaded counted repayments on loans written off in the incremental build of the
    day before (rules §2.5, §4.2), recorded on `day`: one paying the rest of a written-off loan
    on day - 2 (a recovery after its write-off day: the loan closes then), one paying a whole total
    due on another the day before its write-off day (it closes then, overpaid: no write-off)."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        written_off = conn.execute(
            "select loan_id, write_off_date, outstanding_balance_amount, total_due_amount"
            " from inc_intermediate.int_loan_days"
            " where metric_date = %s and is_written_off and write_off_date < %s"
            " order by write_off_date desc, loan_id limit 2",
            [day - timedelta(days=1), day - timedelta(days=2)]).fetchall()
    assert len(written_off) == 2, "the source must have loans written off (DPD above 180) by D-2"
    (recovered, _, recovered_rest, _), (undone, undone_date, _, undone_total) = written_off
    when = f"{day.isoformat()} 12:00:00+00"
    with psycopg.connect(source_url, autocommit=True) as conn:
        for loan_id, paid_day, amount in ((recovered, day - timedelta(days=2), recovered_rest),
                                          (undone, undone_date - timedelta(days=1), undone_total)):
            conn.execute(
                "insert into loans_ajoloanrepayment (id, ajo_loan_id, agent_id, borrower_id,"
                " repayment_amount, health_insurance, loan_amount, repayment_type, repayment_ref,"
                " marked_as, applied_to_loan, comment, settlement_status, paid_date, created_at,"
                " updated_at)"
                " select (select max(id) + 1 from loans_ajoloanrepayment), l.id, l.agent_id,"
                " l.borrower_id, %s, 0, l.amount, 'AGENT_DEBIT', gen_random_uuid(), null, true,"
                " null, false, %s::date + time '10:00' - interval '1 hour', %s, %s"
                " from loans_ajoloan as l where l.id = %s",
                [amount, paid_day, when, when, loan_id])
    return {"recovered": recovered, "undone": undone}


def test_incremental_runs_equal_a_full_refresh_and_are_idempotent(project: Project) -> None:
    # no lookback: the safety margin would hide a window that starts a day too late
    project.dbt_vars["incremental_lookback_days"] = 0
    start = AS_OF - timedelta(days=3)
    generate(project.source_url, scale=SCALE, seed=SEED, as_of=start)
    project.load()
    project.dbt("build", INCREMENTAL, start, *SELECT)

    backdated = 0
    for offset in (2, 1, 0):
        day = AS_OF - timedelta(days=offset)
        counts = simulate_day(project.source_url, day, seed=SEED)
        backdated += counts["backdated"]
        rewrite_history(project.source_url, day, offset)
        if offset == 1:
            write_off_cases = late_write_off_payments(project.source_url,
                                                      project.warehouse_url, day)
        project.load()
        project.dbt("build", INCREMENTAL, day, *SELECT)
    assert backdated > 0, "the simulated days must include backdated repayments (late data)"

    with psycopg.connect(project.warehouse_url, autocommit=True) as conn:
        # the incremental runs rewrote history before their own new day (late data reached back)
        first_rewritten, = conn.execute(
            "select min(metric_date) from inc_intermediate.int_loan_days"
            " where computed_at = (select max(computed_at)"
            " from inc_intermediate.int_loan_days)").fetchone()
        assert first_rewritten < AS_OF - timedelta(days=3)

        project.dbt("build", FULL, AS_OF, *SELECT, "--full-refresh")
        assert_equal(conn, INCREMENTAL, FULL, "incremental up to D vs full refresh at D")
        # the write-off cases did what they say: a recovery closed the first loan after its
        # write-off day, the backdated payment left the second without any write-off
        recovered, = conn.execute(
            "select count(*) from inc_intermediate.int_loan_days where loan_id = %s"
            " and not is_active and not is_written_off and write_off_date < metric_date"
            " and recovered_amount > 0", [write_off_cases["recovered"]]).fetchone()
        assert recovered == 1, "the late recovery must close the written-off loan"
        undone, = conn.execute(
            "select count(*) from inc_intermediate.int_loan_days where loan_id = %s"
            " and write_off_date is not null", [write_off_cases["undone"]]).fetchone()
        assert undone == 0, "the backdated payment must undo the write-off"

        snapshot(conn, INCREMENTAL)
        project.dbt("build", INCREMENTAL, AS_OF, *SELECT)
        assert_equal(conn, INCREMENTAL, f"{INCREMENTAL}_before",
                     "second incremental run with nothing new")

        # a quiet new day (no source change at all): only the new day's window moves
        quiet = AS_OF + timedelta(days=1)
        project.dbt("build", INCREMENTAL, quiet, *SELECT)
        project.dbt("build", FULL, quiet, *SELECT, "--full-refresh")
        assert_equal(conn, INCREMENTAL, FULL, "incremental on a quiet new day vs full refresh")

    # the incremental state also passes every data test of the portfolio marts and reconciliations
    project.dbt("test", INCREMENTAL, AS_OF + timedelta(days=1), "--select",
                "path:models/marts/portfolio", "path:tests/reconciliation", "path:tests/portfolio",
                "--exclude", "test_type:unit")
