"""The seeds ship the defaults of rules §0.1 (the lender may change them later; the dbt tests check
their structure on the warehouse, this checks the values we ship)."""

from __future__ import annotations

import csv

from .conftest import PROJECT_ROOT

SEEDS = PROJECT_ROOT / "seeds"


def rows(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_dpd_buckets_are_metrics_md_section_2() -> None:
    found = [(row["bucket_name"], row["min_dpd"], row["max_dpd"], row["loan_state"]) for row in
             sorted(rows("dpd_buckets"), key=lambda row: int(row["sort_order"]))]
    assert found == [("current", "0", "0", "active"), ("1-6", "1", "6", "active"),
                     ("7-15", "7", "15", "active"), ("16-30", "16", "30", "active"),
                     ("31-60", "31", "60", "active"), ("61-90", "61", "90", "active"),
                     ("91+", "91", "", "active"), ("closed", "", "", "closed"),
                     ("written_off", "", "", "written_off")]


def test_loan_classes_are_metrics_md_section_5_1() -> None:
    # the CBN prudential classes: Performing DPD 0 (1 %), Pass & Watch 1 to 30 (5 %), Substandard
    # 31 to 60 (20 %), Doubtful 61 to 90 (50 %), Lost 91 and more (100 %)
    found = [(row["class_name"], row["min_dpd"], row["max_dpd"], float(row["provision_rate"]))
             for row in sorted(rows("loan_classes"), key=lambda row: int(row["sort_order"]))]
    assert found == [("Performing", "0", "0", 0.01), ("Pass & Watch", "1", "30", 0.05),
                     ("Substandard", "31", "60", 0.20), ("Doubtful", "61", "90", 0.50),
                     ("Lost", "91", "", 1.00)]


def test_region_patterns_are_metrics_md_section_1() -> None:
    # "contains Lagos -> Lagos, Abuja -> FCT, Ogun -> Ogun, Oyo or Ibadan -> Oyo, Kano -> Kano,
    # Port Harcourt -> Rivers", tried in that order
    found = [(row["pattern"], row["region"]) for row in
             sorted(rows("region_patterns"), key=lambda row: int(row["priority"]))]
    assert found == [("lagos", "Lagos"), ("abuja", "FCT"), ("ogun", "Ogun"), ("oyo", "Oyo"),
                     ("ibadan", "Oyo"), ("kano", "Kano"), ("port harcourt", "Rivers")]


def test_branch_regions_map_each_branch_once() -> None:
    branches = [row["branch"].strip().lower() for row in rows("branch_regions")]
    assert branches and len(branches) == len(set(branches)), \
        "one region per branch (compared case-insensitively)"
    assert all(row["region"].strip() for row in rows("branch_regions"))
