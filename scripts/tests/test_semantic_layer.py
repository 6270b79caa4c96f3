"""The semantic layer (models/semantic/, docs/DESIGN.md "Semantic layer", issue 10 item 10).

Static checks: the semantic model over officer_metrics_daily has a measure for every additive
measure column of the mart's contract, balances are non-additive over time (the period's last
day), and every ratio of the mart is a ratio metric. End to end: `mf query` answers equal the
marts' own values for the PAR1, PAR15, PAR30 ratios and the collection rate at two grains,
region x month (the amounts summed per region on the month's last day; collections over the whole
month) and branch x day (branch_metrics_daily's own ratios), on a synthetic source built into a
throw-away database. The test also shows that its data tell a sum over sum from an average of
ratios, so a metric defined as an average would fail it."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from seedsmetrics import warehouse
from seedsmetrics.dbt_runner import venv_executable
from seedsmetrics.source_generator import generate

from .conftest import PROJECT_ROOT, DatabaseFactory, Project

SEMANTIC_DIR = PROJECT_ROOT / "models" / "semantic"
PORTFOLIO_YAML = PROJECT_ROOT / "models" / "marts" / "portfolio" / "_portfolio__models.yml"
MART = "officer_metrics_daily"
# contract columns that are not measures: keys, dimensions, ratios (ratio metrics) and run metadata
NOT_MEASURES = {"metric_date", "officer_id", "branch", "region", "source_loaded_at", "computed_at"}
# measures the semantic layer leaves out, with the reason
EXCLUDED = {
    # rules §3.5: distinct customers at every level; officer rows do not add up to a branch's
    "active_borrowers": "distinct borrowers do not add up across officers (rules §3.5)",
}
# the flows of the day (added up over a period); every other measure is a balance on the day
FLOWS = {"disbursed_count", "disbursed_amount", "due_amount", "collected_amount",
         "written_off_loans", "written_off_amount", "recovered_amount"}
RATIOS = {  # ratio metric -> (numerator, denominator), besides the PAR levels
    "collection_rate": ("collected_amount", "due_amount"),
}

AS_OF = date(2025, 11, 20)
SCALE = 0.01
SEED = 13
SCHEMA = "sem"
RATIO_METRICS = ["par1_ratio", "par15_ratio", "par30_ratio", "collection_rate"]
TOLERANCE = 1e-9  # mf divides in double precision, the marts in numeric(38, 10)


def load_yaml(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def semantic_model() -> dict[str, Any]:
    models = load_yaml(SEMANTIC_DIR / "officer_days.yml")["semantic_models"]
    return next(model for model in models if model["model"] == f"ref('{MART}')")


def metrics() -> dict[str, dict[str, Any]]:
    return {metric["name"]: metric for metric in load_yaml(SEMANTIC_DIR / "metrics.yml")["metrics"]}


def contract_columns() -> list[dict[str, Any]]:
    models = load_yaml(PORTFOLIO_YAML)["models"]
    return next(model["columns"] for model in models if model["name"] == MART)


def par_levels() -> list[str]:
    return [level["name"] for level in load_yaml(PROJECT_ROOT / "dbt_project.yml")["vars"]
            ["par_levels"]]


def test_every_additive_column_of_the_mart_is_a_measure_with_a_simple_metric() -> None:
    expected = {column["name"] for column in contract_columns()
                if column["name"] not in NOT_MEASURES and not column["name"].endswith("_ratio")}
    measures = {measure["name"]: measure for measure in semantic_model()["measures"]}
    missing = sorted(expected - set(measures) - set(EXCLUDED))
    extra = sorted(set(measures) - expected)
    assert not missing, (
        f"add to models/semantic/officer_days.yml the measures {missing} (a column of {MART}'s "
        "contract): agg sum, with non_additive_dimension {name: metric_date, window_choice: max} "
        "for a balance on the day; and a simple metric of the same name in metrics.yml")
    assert not extra, f"measures {extra} are no column of {MART}'s contract"
    assert not set(EXCLUDED) & set(measures), "an excluded column is a measure"
    simple = {metric["type_params"]["measure"] for metric in metrics().values()
              if metric["type"] == "simple"}
    assert simple == set(measures), "one simple metric per measure"


def test_balances_are_non_additive_over_time_and_flows_add_up() -> None:
    for measure in semantic_model()["measures"]:
        assert measure["agg"] == "sum", measure["name"]
        window = measure.get("non_additive_dimension")
        if measure["name"] in FLOWS:
            assert window is None, f"{measure['name']} is a flow: it adds up over days"
        else:
            assert window == {"name": "metric_date", "window_choice": "max"}, (
                f"{measure['name']} is a balance on the day: a period shows its last day")


def test_every_ratio_is_a_ratio_metric_of_two_sums() -> None:
    expected = {f"{level}_ratio": (f"{level}_amount", "gross_loan_portfolio")
                for level in par_levels()} | RATIOS
    mart_ratios = {column["name"] for column in contract_columns()
                   if column["name"].endswith("_ratio")}
    assert mart_ratios <= set(expected), f"ratios of {MART} without a ratio metric"
    ratio_metrics = {name: (metric["type_params"]["numerator"],
                            metric["type_params"]["denominator"])
                     for name, metric in metrics().items() if metric["type"] == "ratio"}
    assert ratio_metrics == expected


def test_saved_queries_ask_for_known_metrics() -> None:
    known = set(metrics())
    for saved in load_yaml(SEMANTIC_DIR / "saved_queries.yml")["saved_queries"]:
        assert set(saved["query_params"]["metrics"]) <= known, saved["name"]


# ---- end to end: mf query against the marts ------------------------------------------------


@dataclass
class Semantic:
    project: Project
    mf_dir: Path

    def mf_query(self, group_by: str) -> dict[tuple[str, str], dict[str, float | None]]:
        """`mf query` of the ratio metrics: {(day or month start, group): {metric: value}}."""
        out = self.mf_dir / f"{group_by.replace(',', '-')}.csv"
        # mf reads <DBT_PROJECT_DIR>/target/semantic_manifest.json: this build's, not the
        # checkout's
        env = {**os.environ, "DBT_PROJECT_DIR": str(self.mf_dir),
               "WAREHOUSE_SCHEMA": SCHEMA, "DO_NOT_TRACK": "1"}
        done = subprocess.run([venv_executable("mf"), "query", "--metrics",
                               ",".join(RATIO_METRICS), "--group-by", group_by, "--csv", str(out)],
                              cwd=self.mf_dir, env=env, capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0 and out.exists(), \
            f"mf query failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        time_column, group_column = group_by.split(",")
        with out.open(newline="") as handle:
            return {(row[time_column][:10], row[group_column]):
                    {metric: float(row[metric]) if row[metric] != "" else None
                     for metric in RATIO_METRICS}
                    for row in csv.DictReader(handle)}

    def query(self, statement: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.project.warehouse_url, autocommit=True) as conn:
            return conn.execute(statement.replace("{marts}", f"{SCHEMA}_marts")).fetchall()


@pytest.fixture(scope="module")
def semantic(embedded: warehouse.Embedded,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Semantic]:
    """A synthetic source at scale 0.01 built up to the daily marts and the time spine, and a
    folder from which mf reads that build's semantic manifest."""
    factory = DatabaseFactory(embedded.url("postgres"))
    tmp = tmp_path_factory.mktemp("semantic")
    with pytest.MonkeyPatch.context() as monkeypatch:
        project = Project(factory("sem_wh"), factory("sem_src"), tmp, monkeypatch)
        generate(project.source_url, scale=SCALE, seed=SEED, as_of=AS_OF)
        project.load()
        project.dbt("build", SCHEMA, AS_OF, "--select", "+branch_metrics_daily",
                    "metricflow_time_spine", "--resource-type", "model", "--resource-type", "seed")
        mf_dir = tmp / "mf"
        (mf_dir / "target").mkdir(parents=True)
        shutil.copy(PROJECT_ROOT / "dbt_project.yml", mf_dir)
        shutil.copy(tmp / "target" / "semantic_manifest.json", mf_dir / "target")
        yield Semantic(project, mf_dir)
    factory.drop_all()


def ratio(numerator: Decimal | None, denominator: Decimal | None) -> float | None:
    return None if not denominator else float(numerator / denominator)


def assert_equal(got: dict[tuple[str, str], dict[str, float | None]],
                 expected: dict[tuple[str, str], dict[str, float | None]], grain: str) -> None:
    assert set(got) == set(expected), (
        f"{grain}: mf rows {sorted(set(got) ^ set(expected))[:5]} differ from the marts' rows")
    wrong = [(key, metric, got[key][metric], value)
             for key, values in expected.items() for metric, value in values.items()
             if (value is None) != (got[key][metric] is None)
             or (value is not None and abs(got[key][metric] - value) > TOLERANCE)]
    assert not wrong, f"{grain}: {len(wrong)} values differ, e.g. {wrong[:5]}"


def differs(averages: dict[Any, float | None], expected: dict[Any, float | None]) -> int:
    """How many groups' average of ratios is not the sum over sum."""
    return sum(1 for key, value in expected.items() if value is not None
               and averages.get(key) is not None and abs(averages[key] - value) > 1e-6)


@pytest.mark.integration
@pytest.mark.slow
def test_mf_query_equals_the_marts_by_region_and_month(semantic: Semantic) -> None:
    # the month's last day (the as-of date for the running month) of the branch mart's amounts,
    # summed per region; collections and dues over the whole month
    rows = semantic.query("""
        with months as (
            select date_trunc('month', metric_date)::date as month, max(metric_date) as last_day
            from {marts}.branch_metrics_daily group by 1
        ),
        balances as (
            select months.month, branch.region, sum(branch.gross_loan_portfolio) as glp,
                sum(branch.par1_amount) as par1, sum(branch.par15_amount) as par15,
                sum(branch.par30_amount) as par30
            from {marts}.branch_metrics_daily as branch
            inner join months on branch.metric_date = months.last_day
            group by 1, 2
        ),
        flows as (
            select date_trunc('month', metric_date)::date as month, region,
                sum(collected_amount) as collected, sum(due_amount) as due
            from {marts}.branch_metrics_daily group by 1, 2
        )
        select flows.month, flows.region, balances.glp, balances.par1, balances.par15,
            balances.par30, flows.collected, flows.due
        from flows inner join balances using (month, region)
    """)
    expected = {(month.isoformat(), region): {
        "par1_ratio": ratio(par1, glp), "par15_ratio": ratio(par15, glp),
        "par30_ratio": ratio(par30, glp), "collection_rate": ratio(collected, due)}
        for month, region, glp, par1, par15, par30, collected, due in rows}
    assert len(expected) >= 20 and sum(1 for v in expected.values() if v["par15_ratio"]) >= 5, \
        "the data have months, regions and late loans enough to compare"

    assert_equal(semantic.mf_query("metric_time__month,officer__region"), expected,
                 "region x month")

    # an average of ratios (of the officers on the month's last day, or of the region's days)
    # would give other values: the comparison above tells them apart
    officer_average = dict(((month.isoformat(), region), float(value)) for month, region, value
                           in semantic.query("""
        select date_trunc('month', metric_date)::date, region, avg(par1_ratio)
        from {marts}.officer_metrics_daily
        where metric_date in (select max(metric_date) from {marts}.officer_metrics_daily
                              group by date_trunc('month', metric_date))
        group by 1, 2 having avg(par1_ratio) is not null"""))
    daily_average = dict(((month.isoformat(), region), float(value)) for month, region, value
                         in semantic.query("""
        select date_trunc('month', metric_date)::date, region,
            avg(collected_amount / nullif(due_amount, 0))
        from {marts}.branch_metrics_daily group by 1, 2
        having avg(collected_amount / nullif(due_amount, 0)) is not null"""))
    # (PAR1: at scale 0.01 few officers per region carry loans 16-180 days late at a month end)
    assert differs(officer_average, {k: v["par1_ratio"] for k, v in expected.items()}) >= 3
    assert differs(daily_average, {k: v["collection_rate"] for k, v in expected.items()}) >= 3


@pytest.mark.integration
@pytest.mark.slow
def test_mf_query_equals_the_marts_by_branch_and_day(semantic: Semantic) -> None:
    rows = semantic.query("""
        select metric_date, branch, par1_ratio, par15_ratio, par30_ratio, collected_amount,
            due_amount
        from {marts}.branch_metrics_daily""")
    expected = {(day.isoformat(), branch): {
        "par1_ratio": None if par1 is None else float(par1),
        "par15_ratio": None if par15 is None else float(par15),
        "par30_ratio": None if par30 is None else float(par30),
        "collection_rate": ratio(collected, due)}
        for day, branch, par1, par15, par30, collected, due in rows}
    assert len(expected) >= 500

    assert_equal(semantic.mf_query("metric_time__day,officer__branch"), expected, "branch x day")

    officer_average = dict(((day.isoformat(), branch), float(value)) for day, branch, value
                           in semantic.query("""
        select metric_date, branch, avg(par15_ratio) from {marts}.officer_metrics_daily
        group by 1, 2 having avg(par15_ratio) is not null"""))
    assert differs(officer_average, {k: v["par15_ratio"] for k, v in expected.items()}) >= 3, \
        "branches whose officers' average PAR15 is not the branch's PAR15"
