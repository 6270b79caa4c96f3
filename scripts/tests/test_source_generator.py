"""The synthetic Django source: contract, determinism, quirks, bad input, simulate_day.

Everything runs against real PostgreSQL (the source_db / warehouse_db fixtures); scale 0.01 keeps
each generation well under a second."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from seedsmetrics import cli
from seedsmetrics.errors import UserError
from seedsmetrics.source_generator import TABLES, generate, simulate_day
from seedsmetrics.source_generator.calendar import company_holidays, easter_sunday
from seedsmetrics.source_generator.database import contract_ddl, split_statements
from seedsmetrics.source_generator.portfolio import Sizes

from .conftest import SHARED

pytestmark = pytest.mark.integration
AS_OF = date(2025, 11, 20)
# the lender's contract lives next to the repository (../shared), absent in a bare clone
SHARED_DDL = SHARED / "source-contract" / "django_savings.sql" if SHARED else None


def _catalog(url: str) -> dict[str, list[tuple]]:
    """What a client can see of the six tables: columns, constraints, indexes, identity columns."""
    with psycopg.connect(url) as conn:
        return {
            "columns": conn.execute(
                "select table_name, ordinal_position, column_name, data_type,"
                " character_maximum_length, numeric_precision, is_nullable, column_default,"
                " is_identity, identity_generation"
                " from information_schema.columns where table_schema = 'public'"
                " order by table_name, ordinal_position").fetchall(),
            "constraints": conn.execute(
                "select conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
                " from pg_constraint where connamespace = 'public'::regnamespace"
                " order by 1, 2").fetchall(),
            "indexes": conn.execute(
                "select tablename, indexname, indexdef from pg_indexes where schemaname = 'public'"
                " order by 1, 2").fetchall(),
        }


def _run_ddl(url: str, ddl: str) -> None:
    with psycopg.connect(url) as conn:
        for statement in split_statements(ddl):
            conn.execute(statement)


def _table_digests(url: str) -> dict[str, str]:
    """md5 of each table's full COPY text in id order: byte-level equality of the data."""
    digests = {}
    with psycopg.connect(url) as conn:
        conn.execute("set timezone = 'UTC'")
        for table in TABLES:
            digest = hashlib.md5()
            query = sql.SQL("copy (select * from {} order by id) to stdout").format(
                sql.Identifier(table))
            with conn.cursor() as cur, cur.copy(query) as copy:
                for block in copy:
                    digest.update(block)
            digests[table] = digest.hexdigest()
    return digests


def _scalar(url: str, query: str, params: list | None = None):
    with psycopg.connect(url) as conn:
        conn.execute("set timezone = 'UTC'")
        return conn.execute(query, params).fetchone()[0]


def test_contract_copy_matches_shared_and_generated_schema(
        warehouse_db: Callable[[str], str]) -> None:
    if SHARED_DDL is None or not SHARED_DDL.exists():
        pytest.skip("the lender's ../shared/source-contract is not available "
                    "(set SEEDS_SHARED_DIR)")
    shared_url, copy_url, generated_url = (warehouse_db("gen_shared"), warehouse_db("gen_copy"),
                                           warehouse_db("gen_out"))
    _run_ddl(shared_url, SHARED_DDL.read_text())
    _run_ddl(copy_url, contract_ddl())
    generate(generated_url, scale=0.01, seed=3, as_of=AS_OF)
    shared = _catalog(shared_url)
    assert len({row[0] for row in shared["columns"]}) == 6
    assert len(shared["columns"]) > 90
    assert _catalog(copy_url) == shared
    # the generator drops and re-adds foreign keys around the load: the result must be the contract
    assert _catalog(generated_url) == shared


def test_same_inputs_give_identical_bytes_and_simulated_days(
        source_db: Callable[[str], str]) -> None:
    first, second, other = source_db("gen_a"), source_db("gen_b"), source_db("gen_c")
    counts = generate(first, scale=0.01, seed=7, as_of=AS_OF)
    assert generate(second, scale=0.01, seed=7, as_of="2025-11-20") == counts
    generate(other, scale=0.01, seed=8, as_of=AS_OF)
    digests = _table_digests(first)
    assert digests == _table_digests(second)
    different = _table_digests(other)
    assert different["loans_ajoloanrepayment"] != digests["loans_ajoloanrepayment"]
    assert different["ajo_ajouser"] != digests["ajo_ajouser"]
    # one more day on both copies stays identical too
    assert simulate_day(first, date(2025, 11, 21), seed=7) == simulate_day(second, "2025-11-21",
                                                                           seed=7)
    after = _table_digests(first)
    assert after == _table_digests(second)
    assert after["loans_ajoloanrepayment"] != digests["loans_ajoloanrepayment"]


QUIRKS = {
    "loan with NULL start_date":
        "select count(*) from loans_ajoloan where is_disbursed and start_date is null",
    "customer with blank names":
        "select count(*) from ajo_ajouser where first_name = '' and last_name = ''",
    "customer with NULL names":
        "select count(*) from ajo_ajouser where first_name is null and last_name is null",
    "customer provider 'lite'": "select count(*) from ajo_ajouser where provider = 'lite'",
    "terminated officer (NULL type) with loans":
        "select count(*) from accounts_customuser u where user_type is null and not is_active"
        " and exists (select 1 from loans_ajoloan l where l.agent_id = u.id and l.is_disbursed)",
    "user type 'lite'": "select count(*) from accounts_customuser where user_type = 'lite'",
    "mixed-case agent type":
        "select count(*) from accounts_customuser where user_type <> upper(user_type)"
        " and upper(user_type) in ('AGENT', 'STAFF_AGENT', 'AJO_AGENT')",
    "non-agent user types":
        "select count(distinct user_type) from accounts_customuser"
        " where user_type in ('MERCHANT', 'PERSONAL', 'MICRO_SAVER', 'MERCHANT_AGENT')",
    "non-agent user who is the agent of a disbursed loan":
        "select count(*) from accounts_customuser u where user_type in ('lite', 'MERCHANT_AGENT')"
        " and exists (select 1 from loans_ajoloan l where l.agent_id = u.id and l.is_disbursed)",
    "branch with padding":
        "select count(*) from accounts_customuser where user_branch <> trim(user_branch)",
    "branch in lower case": "select count(*) from accounts_customuser where user_branch = 'ikeja'",
    "branch in upper case":
        "select count(*) from accounts_customuser where user_branch = 'LAGOS CENTRAL'",
    "blank branch": "select count(*) from accounts_customuser where user_branch = ''",
    "officer without branch":
        "select count(*) from accounts_customuser where user_branch is null"
        " and (upper(user_type) like '%AGENT' or user_type is null)",
    "officer performance variety":
        "select count(distinct coalesce(performance_status, '?')) - 2 from accounts_customuser"
        " where upper(user_type) like '%AGENT'",
    "reversal": "select count(*) from loans_ajoloanrepayment where marked_as = 'REVERSAL'",
    "reversal copying a payment of the same loan":
        "select count(*) from loans_ajoloanrepayment r where marked_as = 'REVERSAL'"
        " and exists (select 1 from loans_ajoloanrepayment o"
        " where o.ajo_loan_id = r.ajo_loan_id and o.id <> r.id"
        " and o.repayment_amount = r.repayment_amount"
        " and o.marked_as is distinct from 'REVERSAL')",
    "backdated (created days after paid)":
        "select count(*) from loans_ajoloanrepayment where marked_as = 'BACKDATED'"
        " and created_at::date > paid_date::date",
    "applied_to_loan false":
        "select count(*) from loans_ajoloanrepayment where applied_to_loan = false",
    "applied_to_loan NULL":
        "select count(*) from loans_ajoloanrepayment where applied_to_loan is null",
    "zero repayment": "select count(*) from loans_ajoloanrepayment where repayment_amount = 0",
    "negative repayment": "select count(*) from loans_ajoloanrepayment where repayment_amount < 0",
    "NULL paid_date": "select count(*) from loans_ajoloanrepayment where paid_date is null",
    "double payment after skipped days (late, catching up)":
        "select count(*) from loans_ajoloanrepayment r join loans_ajoloan l on l.id = r.ajo_loan_id"
        " where r.marked_as is null and r.repayment_amount >= 1.9 * l.daily_repayment_amount",
    "partial payment":
        "select count(*) from loans_ajoloanrepayment r join loans_ajoloan l on l.id = r.ajo_loan_id"
                       " where r.marked_as is null and r.repayment_amount between 1 and"
                       " 0.95 * l.daily_repayment_amount",
    "zero-interest loan":
        "select count(*) from loans_ajoloan where is_disbursed and interest_rate = 0",
    "NULL nem_fee": "select count(*) from loans_ajoloan where nem_fee is null",
    "disbursed loan without schedule rows":
        "select count(*) from loans_ajoloan l where is_disbursed and date_disbursed is not null"
        " and not exists (select 1 from loans_ajoloanschedule s where s.loan_id = l.id)",
    "tenor_in_days 0 without schedule":
        "select count(*) from loans_ajoloan l where tenor_in_days = 0"
        " and not exists (select 1 from loans_ajoloanschedule s where s.loan_id = l.id)",
    "repayment_amount 0 with a schedule":
        "select count(*) from loans_ajoloan l where is_disbursed and repayment_amount = 0"
        " and exists (select 1 from loans_ajoloanschedule s where s.loan_id = l.id)",
    "repayment_amount 0 without schedule":
        "select count(*) from loans_ajoloan l where is_disbursed and repayment_amount = 0"
        " and not exists (select 1 from loans_ajoloanschedule s where s.loan_id = l.id)",
    "disbursed loan with status REJECTED":
        "select count(*) from loans_ajoloan where is_disbursed and date_disbursed is not null"
        " and status = 'REJECTED'",
    "loan not disbursed":
        "select count(*) from loans_ajoloan where not is_disbursed and date_disbursed is null",
    "is_disbursed without date":
        "select count(*) from loans_ajoloan where is_disbursed and date_disbursed is null",
    "amount_disbursed 0 on a disbursed loan":
        "select count(*) from loans_ajoloan where is_disbursed and date_disbursed is not null"
        " and amount_disbursed = 0",
    "maturity only in expected_end_date":
        "select count(*) from loans_ajoloan where is_disbursed and end_date is null"
        " and expected_end_date is not null",
    "customer not onboarded with a loan":
        "select count(*) from ajo_ajouser c where not onboarding_complete"
        " and exists (select 1 from loans_ajoloan l where l.borrower_id = c.id and l.is_disbursed)",
    "loan still running at as-of":
        "select count(*) from loans_ajoloan where is_disbursed and status = 'ACTIVE'",
    "loan past maturity or defaulted":
        "select count(*) from loans_ajoloan where status in ('PAST_MATURITY', 'DEFAULTED')",
    "completed loan": "select count(*) from loans_ajoloan where status in ('COMPLETED', 'CLOSED')",
    "overpaid loan":
        "select count(*) from loans_ajoloan l where repayment_amount > 0"
        " and repayment_amount + 1 < (select sum(repayment_amount) from loans_ajoloanrepayment r"
        " where r.ajo_loan_id = l.id and r.paid_date is not null and r.repayment_amount > 0"
        " and r.applied_to_loan is not false and r.marked_as is distinct from 'REVERSAL')",
    "company holidays": "select count(*) - 8 from loans_holiday where type = 'company'",
    "agent holidays":
        "select count(*) from loans_holiday where type = 'agent' and agent_id is not null",
}

INVARIANTS = {
    "updated_at before created_at": " union all ".join(
        f"select count(*) from {table} where updated_at < created_at" for table in TABLES),
    "timestamp after the snapshot": " union all ".join(
        f"select count(*) from {table}"
        f" where greatest(created_at, updated_at) > '2025-11-20 22:00+00'" for table in TABLES),
    "schedule not summing to repayment_amount":
        "select count(*) from (select l.id from loans_ajoloan l"
        " join loans_ajoloanschedule s on s.loan_id = l.id"
        " where l.repayment_amount > 0 group by l.id, l.repayment_amount"
        " having abs(sum(s.due_amount) - l.repayment_amount) > 0.005) x",
    "installment on a weekend or company holiday":
        "select count(*) from loans_ajoloanschedule s where extract(isodow from due_date) > 5"
        " or due_date in (select date from loans_holiday where type = 'company')",
    "first installment before start_date":
        "select count(*) from loans_ajoloanschedule s join loans_ajoloan l on l.id = s.loan_id"
        " where s.due_date < l.start_date",
    "counted payment outside Lagos working hours":
        "select count(*) from loans_ajoloanrepayment where marked_as is null"
        " and extract(hour from paid_date at time zone 'Africa/Lagos') not between 8 and 19",
    "repayment before disbursement":
        "select count(*) from loans_ajoloanrepayment r join loans_ajoloan l on l.id = r.ajo_loan_id"
        " where r.paid_date < l.date_disbursed or l.date_disbursed is null",
    "loan updated before its last repayment":
        "select count(*) from loans_ajoloan l where updated_at < (select max(created_at)"
        " from loans_ajoloanrepayment r where r.ajo_loan_id = l.id)",
}


def test_quirks_and_invariants_at_scale_001(source_db: Callable[[str], str]) -> None:
    url = source_db("gen_quirks")
    counts = generate(url, scale=0.01, seed=11, as_of=AS_OF)
    assert counts["accounts_customuser"] == 70 and counts["loans_ajoloan"] == 200
    assert 3000 < counts["loans_ajoloanrepayment"] < 8000
    assert 4000 < counts["loans_ajoloanschedule"] < 8000
    with psycopg.connect(url) as conn:
        conn.execute("set timezone = 'UTC'")
        missing = [name for name, query in QUIRKS.items() if conn.execute(query).fetchone()[0] <= 0]
        broken = {name: total for name, query in INVARIANTS.items()
                  if (total := sum(row[0] for row in conn.execute(query).fetchall())) != 0}
        for table in TABLES:
            # ids dense from 1; the identity sequence continues after them
            assert conn.execute(sql.SQL("select count(*), min(id), max(id) from {}").format(
                sql.Identifier(table))).fetchone() == (counts[table], 1, counts[table])
        new_id = conn.execute("insert into loans_holiday (date, name, type)"
                              " values ('2026-12-31', 'x', 'company') returning id").fetchone()[0]
        assert new_id == counts["loans_holiday"] + 1
        conn.rollback()
    assert missing == []
    assert broken == {}


def test_cli_bad_inputs_and_replace(source_db: Callable[[str], str],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    secret_url = "postgresql://someone:s3cret-pw@127.0.0.1:1/savings"
    assert cli.main(["generate-source", "--database-url", secret_url, "--scale", "0.01"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("seedsmetrics: error: cannot connect to 127.0.0.1:1/savings")
    assert err.count("\n") == 1 and "s3cret" not in err

    url = source_db("gen_cli")
    assert cli.main(["generate-source", "--database-url", url, "--scale", "0", "--seed", "1"]) == 2
    assert "--scale must be > 0" in capsys.readouterr().err
    assert cli.main(["generate-source", "--database-url", url, "--scale", "0.01",
                     "--as-of", "20-11-2025"]) == 2
    assert "invalid date '20-11-2025'" in capsys.readouterr().err

    assert cli.main(["generate-source", "--database-url", url, "--scale", "0.01",
                     "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "loans_ajoloanrepayment" in out and out.strip().splitlines()[-1].startswith("generated ")
    before = _table_digests(url)
    assert cli.main(["generate-source", "--database-url", url, "--scale", "0.01",
                     "--seed", "2"]) == 2
    err = capsys.readouterr().err
    assert err.strip().endswith("already has table accounts_customuser (use --replace)")
    assert err.count("\n") == 1
    assert _table_digests(url) == before  # refused: nothing touched
    assert cli.main(["generate-source", "--database-url", url, "--scale", "0.01",
                     "--seed", "2", "--replace"]) == 0
    assert _table_digests(url) != before


def test_create_database(source_db: Callable[[str], str]) -> None:
    url = source_db("gen_create")  # the fixture drops it afterwards (if exists)
    params = conninfo_to_dict(url)
    admin_url = make_conninfo(**{**params, "dbname": "postgres"})
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database {}").format(sql.Identifier(str(params["dbname"]))))
    with pytest.raises(UserError, match="cannot connect"):
        generate(url, scale=0.01, seed=1)
    counts = generate(url, scale=0.01, seed=1, create_database=True)
    assert _scalar(url, "select count(*) from loans_ajoloan") == counts["loans_ajoloan"]


def test_simulate_day_appends_one_day(source_db: Callable[[str], str]) -> None:
    url = source_db("gen_day")
    counts = generate(url, scale=0.01, seed=5, as_of=AS_OF)
    day = date(2025, 11, 21)  # a Friday
    result = simulate_day(url, day, seed=5)
    assert result["repayments"] > 5 and result["backdated"] >= 1 and result["reversals"] == 1
    assert result["loans_disbursed"] >= 1 and result["schedule_rows_inserted"] >= 20
    assert result["schedule_rows_updated"] > 0 and result["loans_updated"] > 0
    with psycopg.connect(url) as conn:
        conn.execute("set timezone = 'UTC'")

        def one(query: str):
            return conn.execute(query, {"day": day}).fetchone()

        created_today = "(created_at at time zone 'Africa/Lagos')::date = %(day)s"
        assert one(f"select count(*), min(id), max(id) from loans_ajoloanrepayment"
                   f" where {created_today}") == (
            result["repayments"], counts["loans_ajoloanrepayment"] + 1,
            counts["loans_ajoloanrepayment"] + result["repayments"])
        assert one(f"select count(*) from loans_ajoloanrepayment where {created_today}"
                   " and marked_as = 'BACKDATED'"
                   " and (paid_date at time zone 'Africa/Lagos')::date < %(day)s"
                   " and extract(isodow from paid_date) <= 5")[0] == result["backdated"]
        assert one(f"select count(*) from loans_ajoloanrepayment r where {created_today}"
                   " and marked_as = 'REVERSAL' and exists (select 1 from loans_ajoloanrepayment o"
                   " where o.ajo_loan_id = r.ajo_loan_id and o.id <> r.id"
                   " and o.repayment_amount = r.repayment_amount)")[0] == 1
        # new loans: disbursed that day, with a schedule that sums to the contractual total
        new_loans = conn.execute(
            "select l.id, l.repayment_amount, sum(s.due_amount), min(s.due_date), l.start_date,"
            " count(s.id) from loans_ajoloan l join loans_ajoloanschedule s on s.loan_id = l.id"
            " where (l.date_disbursed at time zone 'Africa/Lagos')::date = %(day)s"
            " group by l.id order by l.id", {"day": day}).fetchall()
        assert len(new_loans) == result["loans_disbursed"]
        assert new_loans[0][0] == counts["loans_ajoloan"] + 1
        for _, total, scheduled, first_due, start, installments in new_loans:
            assert abs(total - scheduled) < 0.005 and first_due >= start
            assert installments in (20, 40, 60)
        updated_today = "(updated_at at time zone 'Africa/Lagos')::date = %(day)s"
        assert one(f"select count(*) from loans_ajoloanschedule where {updated_today}"
                   " and created_at < updated_at")[0] == result["schedule_rows_updated"]
        assert one(f"select count(*) from loans_ajoloan where {updated_today}"
                   " and date_disbursed::date < %(day)s")[0] == result["loans_updated"]
        assert one("select count(*) from loans_ajoloanrepayment"
                   " where updated_at < created_at")[0] == 0
        # Django's next insert gets the next id (sequences reset)
        new_id = conn.execute("insert into loans_ajoloan"
                              " (borrower_id, agent_id, tenor, tenor_in_days, status)"
                              " values (1, 1, 'ONE_MONTH', 20, 'OPEN') returning id").fetchone()[0]
        assert new_id == counts["loans_ajoloan"] + result["loans_disbursed"] + 1
        conn.rollback()
    with pytest.raises(UserError, match="already has repayments recorded on or after 2025-11-21"):
        simulate_day(url, day, seed=5)


def test_calendar_and_sizes() -> None:
    assert easter_sunday(2024) == date(2024, 3, 31) and easter_sunday(2025) == date(2025, 4, 20)
    holidays = dict(company_holidays(2024, 2025))
    assert holidays[date(2025, 4, 18)] == "Good Friday"
    assert holidays[date(2025, 4, 21)] == "Easter Monday"
    assert holidays[date(2024, 6, 12)] == "Democracy Day"
    assert holidays[date(2025, 10, 1)] == "Independence Day"
    # May 1 2027 is a Saturday: observed on Monday May 3
    assert dict(company_holidays(2027, 2027))[date(2027, 5, 3)] == "Workers' Day (observed)"
    assert Sizes.for_scale(1) == Sizes(users=7000, officers=450, customers=25000, loans=20000)
    assert Sizes.for_scale(0.5).loans == 10000 and Sizes.for_scale(0.001).loans == 80
