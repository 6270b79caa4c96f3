"""The daily marts' contracts follow the measure list (issue 9, item 3).

The PAR, DPD-bucket and loan-class measures of officer_metrics_daily, branch_metrics_daily,
region_metrics_daily and portfolio_metrics_daily are generated from vars `par_levels`,
`dpd_bucket_columns` and `loan_class_columns` (dbt_project.yml, read by the macros in
macros/portfolio/), but an enforced contract still lists every column in
models/marts/portfolio/_portfolio__models.yml. These tests fail, before any dbt run, when the vars
and the contracts disagree, naming the columns to add or remove, and when such a column is
described by anything but its shared doc block (models/docs/daily_measures.md)."""

from __future__ import annotations

import re
from typing import Any

import yaml

from .conftest import PROJECT_ROOT

PORTFOLIO_YAML = PROJECT_ROOT / "models" / "marts" / "portfolio" / "_portfolio__models.yml"
DAILY_MARTS = (
    "officer_metrics_daily",
    "branch_metrics_daily",
    "region_metrics_daily",
    "portfolio_metrics_daily",
)
# the doc block each generated column's description must be, by column suffix
PAR_DOCS = {"amount": "par_amount", "loans": "par_loans", "ratio": "par_ratio"}
BUCKET_DOCS = {"loans": "dpd_bucket_loans", "amount": "dpd_bucket_amount"}
CLASS_DOCS = {"amount": "loan_class_amount"}
# contract columns that look generated: a PAR column, any ratio, a DPD bucket's loans or amount,
# a loan class's amount
LOOKS_GENERATED = re.compile(
    r"^(par\w*_(amount|loans)|\w+_ratio|(current|dpd_\w+)_(loans|amount)|class_\w+_amount)$"
)


def project_vars() -> dict[str, Any]:
    return yaml.safe_load((PROJECT_ROOT / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]


def generated_columns() -> dict[str, str]:
    """Every column the three vars generate in each daily mart, with the doc block describing it."""
    variables = project_vars()
    columns = {}
    for level in variables["par_levels"]:
        for suffix, doc in PAR_DOCS.items():
            columns[f"{level['name']}_{suffix}"] = doc
    for bucket in variables["dpd_bucket_columns"]:
        for suffix, doc in BUCKET_DOCS.items():
            columns[f"{bucket['column_prefix']}_{suffix}"] = doc
    for loan_class in variables["loan_class_columns"]:
        for suffix, doc in CLASS_DOCS.items():
            columns[f"{loan_class['column_prefix']}_{suffix}"] = doc
    return columns


def contract_columns() -> dict[str, dict[str, str]]:
    """The contract columns of each daily mart: name -> description."""
    models = yaml.safe_load(PORTFOLIO_YAML.read_text(encoding="utf-8"))["models"]
    return {
        model["name"]: {
            column["name"]: column.get("description", "") for column in model["columns"]
        }
        for model in models
        if model["name"] in DAILY_MARTS
    }


def test_every_daily_mart_has_a_contract() -> None:
    assert sorted(contract_columns()) == sorted(DAILY_MARTS)


def test_contracts_list_exactly_the_columns_of_the_measure_vars() -> None:
    expected = generated_columns()
    problems = []
    for model, columns in contract_columns().items():
        missing = [name for name in expected if name not in columns]
        extra = [name for name in columns if LOOKS_GENERATED.match(name) and name not in expected]
        if missing:
            problems.append(f"{model}: add to its contract the columns {', '.join(missing)}")
        if extra:
            problems.append(
                f"{model}: its contract lists {', '.join(extra)}, which no level of var "
                f"par_levels / bucket of var dpd_bucket_columns / class of var "
                f"loan_class_columns generates: remove them"
            )
    assert not problems, (
        "vars par_levels / dpd_bucket_columns / loan_class_columns (dbt_project.yml) and the "
        "contracts of "
        f"{PORTFOLIO_YAML.relative_to(PROJECT_ROOT)} disagree:\n  "
        + "\n  ".join(problems)
        + "\nEach column is `- name: <column>`, `data_type: numeric(38, 10)` (amounts and "
        "ratios) or `integer` (loans), and its doc block as description, e.g. "
        "\"{{ doc('par_amount') }}\"."
    )


def test_generated_columns_are_described_by_their_doc_block() -> None:
    expected = generated_columns()
    wrong = [
        f"{model}.{name}: expected \"{{{{ doc('{expected[name]}') }}}}\", found {description!r}"
        for model, columns in contract_columns().items()
        for name, description in columns.items()
        if name in expected and description.strip() != f"{{{{ doc('{expected[name]}') }}}}"
    ]
    assert not wrong, "describe each generated column with its shared doc block:\n  " + "\n  ".join(
        wrong
    )
