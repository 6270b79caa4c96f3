"""The loans snapshot (SCD type 2 with hard deletes) and source freshness, end to end on real
PostgreSQL: a synthetic source at scale 0.01, loaded by the loader into a throw-away warehouse
database, then dbt."""

from __future__ import annotations

import json
from datetime import date

import psycopg
import pytest
from psycopg import sql

from seedsmetrics.source_generator import TABLES, generate

from .conftest import Project

pytestmark = pytest.mark.integration

AS_OF = date(2025, 11, 20)
SCHEMA = "hist"


def test_loans_snapshot_keeps_status_history_and_records_hard_deletes(project: Project) -> None:
    generate(project.source_url, scale=0.01, seed=5, as_of=AS_OF)
    project.load()
    project.dbt("run", SCHEMA, AS_OF, "--select", "stg_django__loans")
    project.dbt("snapshot", SCHEMA, AS_OF, "--select", "loans_snapshot")
    assert project.dbt_warnings() == [], \
        "dbt itself warns about nothing (snapshot timestamp types included)"

    with psycopg.connect(project.source_url, autocommit=True) as src:
        changed, deleted, untouched = (row[0] for row in src.execute(
            "select id from loans_ajoloan where is_disbursed and status <> 'DEFAULTED'"
            " order by id limit 3").fetchall())
        src.execute("update loans_ajoloan set status = 'DEFAULTED',"
                    " performance_status = 'DEFAULTED', updated_at = now() where id = %s",
                    [changed])
        for table, column in (("loans_ajoloanrepayment", "ajo_loan_id"),
                              ("loans_ajoloanschedule", "loan_id"), ("loans_ajoloan", "id")):
            src.execute(sql.SQL("delete from {} where {} = %s").format(sql.Identifier(table),
                                                                       sql.Identifier(column)),
                        [deleted])
    project.load(full=True)  # a full reconciliation removes the hard-deleted loan from the raw copy
    project.dbt("snapshot", SCHEMA, AS_OF, "--select", "loans_snapshot")
    assert project.dbt_warnings() == [], \
        "dbt itself warns about nothing (snapshot timestamp types included)"

    with psycopg.connect(project.warehouse_url, autocommit=True) as conn:
        def versions(loan_id: int) -> list[tuple]:
            return conn.execute(
                "select status, dbt_is_deleted, dbt_valid_from,"
                " dbt_valid_to = '9999-12-31 00:00:00+00' as is_current"
                " from hist_snapshots.loans_snapshot where loan_id = %s order by dbt_valid_from",
                [loan_id]).fetchall()

        old, new = versions(changed)
        assert new[0] == "DEFAULTED" and new[3] and new[1] == "False", "the new version is current"
        assert old[0] != "DEFAULTED" and not old[3], "the old status is kept, closed"
        assert conn.execute("select dbt_valid_to from hist_snapshots.loans_snapshot"
                            " where loan_id = %s order by dbt_valid_from limit 1",
                            [changed]).fetchone()[0] == new[2]
        was, gone = versions(deleted)
        assert not was[3] and was[1] == "False"
        assert gone[1] == "True" and gone[3], "the deletion is a current version flagged deleted"
        assert len(versions(untouched)) == 1 and versions(untouched)[0][3]


def test_freshness_follows_the_loaders_publishes_not_the_age_of_rows(project: Project) -> None:
    """A quiet source (no row changed for hours) is fresh as long as the loader keeps publishing;
    stale only once loads stop (freshness_error_after_hours, default 6)."""
    generate(project.source_url, scale=0.01, seed=5, as_of=AS_OF)
    project.load()
    with psycopg.connect(project.warehouse_url, autocommit=True) as conn:
        for table in TABLES:
            conn.execute(sql.SQL("update raw.{} set _loaded_at = now() - interval '7 hours'")
                         .format(sql.Identifier(table)))
    project.load()  # an incremental load with nothing new rewrites no row

    def statuses() -> tuple[int, dict[str, str]]:
        code = project.dbt("source freshness", SCHEMA, AS_OF, check=False)
        results = json.loads((project.tmp_path / "target" / "sources.json").read_text())["results"]
        return code, {result["unique_id"].split(".")[-1]: result["status"] for result in results}

    code, quiet = statuses()
    assert code == 0 and quiet == dict.fromkeys(TABLES, "pass"), quiet

    with psycopg.connect(project.warehouse_url, autocommit=True) as conn:
        conn.execute("update raw._load_state set published_at = now() - interval '7 hours'")
    code, stopped = statuses()
    assert code != 0 and stopped == dict.fromkeys(TABLES, "error"), stopped
