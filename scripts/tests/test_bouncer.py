"""Project linting (issue 6.5): the dbt-bouncer rules in dbt-bouncer.yml bite.

`make bouncer` runs the rules on the real project (ci target artifacts). This test pins each
rule: it takes the project's manifest (from `dbt parse`) and a catalog made from it, breaks one
rule on one resource at a time, runs dbt-bouncer once on the broken artifacts, and checks that
every injected violation is reported against the resource it was injected into (and was not
reported before)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import PROJECT_ROOT

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PROJECT = "seeds_metrics"
Artifacts = tuple[dict[str, Any], dict[str, Any]]  # manifest, catalog


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    target = tmp_path_factory.mktemp("bouncer-parse")
    result = subprocess.run(
        [sys.executable, "-m", "seedsmetrics", "dbt", "parse", "--target-path", str(target),
         "--log-path", str(target / "logs")], cwd=PROJECT_ROOT, capture_output=True, text=True,
         timeout=600)
    assert result.returncode == 0, f"dbt parse failed:\n{result.stdout[-4000:]}"
    return json.loads((target / "manifest.json").read_text())


def catalog_from(manifest: dict[str, Any]) -> dict[str, Any]:
    """What `dbt docs generate` would find in a warehouse built from this manifest: exactly the
    declared columns of every model, seed and source."""

    def entry(node: dict[str, Any]) -> dict[str, Any]:
        columns = {name: {"type": column.get("data_type") or "text", "index": index, "name": name,
                          "comment": None}
                   for index, (name, column) in enumerate(node["columns"].items(), start=1)}
        return {"metadata": {"type": "BASE TABLE", "schema": node["schema"],
                             "name": node.get("alias") or node.get("identifier") or node["name"],
                             "database": node["database"], "comment": None, "owner": "postgres"},
                "columns": columns, "stats": {}, "unique_id": node["unique_id"]}

    return {
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json",
                     "dbt_version": manifest["metadata"]["dbt_version"],
                     "generated_at": "2025-11-20T00:00:00Z",
                     "invocation_id": manifest["metadata"]["invocation_id"], "env": {}},
        "nodes": {uid: entry(node) for uid, node in manifest["nodes"].items()
                  if node["resource_type"] in ("model", "seed")},
        "sources": {uid: entry(source) for uid, source in manifest["sources"].items()},
        "errors": None,
    }


def bouncer_failures(artifacts: Artifacts, folder: Path,
                     config: dict[str, Any] | None = None) -> set[tuple[str, str]]:
    """(check name, unique id) of every failure dbt-bouncer reports with the project's config
    (or the given one)."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest, catalog = artifacts
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "catalog.json").write_text(json.dumps(catalog))
    config = copy.deepcopy(config) or yaml.safe_load((PROJECT_ROOT / "dbt-bouncer.yml").read_text())
    config["dbt_artifacts_dir"] = str(folder)
    config["custom_checks_dir"] = str(PROJECT_ROOT / config["custom_checks_dir"])
    (folder / "dbt-bouncer.yml").write_text(yaml.safe_dump(config))
    output = folder / "failures.json"
    result = subprocess.run(
        [str(Path(sys.executable).with_name("dbt-bouncer")), "run", "--config-file",
         str(folder / "dbt-bouncer.yml"), "--output-file", str(output), "--output-only-failures"],
        cwd=folder, capture_output=True, text=True, timeout=300)
    assert result.returncode in (0, 1), \
        f"dbt-bouncer did not run:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return {(row["check_run_id"].split(":")[0], row["unique_id"])
            for row in json.loads(output.read_text())}


def first(manifest: dict[str, Any], predicate: Callable[[dict[str, Any]], bool],
          kind: str = "nodes") -> str:
    return next(uid for uid, node in sorted(manifest[kind].items())
                if node.get("package_name") == PROJECT and predicate(node))


def in_folder(folder: str) -> Callable[[dict[str, Any]], bool]:
    return lambda node: (node["resource_type"] == "model"
                         and node["original_file_path"].startswith(folder))


def generic_tests_on(manifest: dict[str, Any], model: str, *names: str) -> list[str]:
    return [uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "test"
            and node.get("attached_node") == model
            and node.get("test_metadata", {}).get("name") in names]


def break_rules(manifest: dict[str, Any], catalog: dict[str, Any]) -> set[tuple[str, str]]:
    """Inject one violation per rule, each into a different resource; return what must be
    reported."""
    nodes, expected = manifest["nodes"], set()
    staging = [uid for uid in sorted(nodes) if in_folder("models/staging/")(nodes[uid])]
    intermediate = [uid for uid in sorted(nodes) if in_folder("models/intermediate/")(nodes[uid])]
    marts = [uid for uid in sorted(nodes) if in_folder("models/marts/")(nodes[uid])]
    assert len(staging) >= 4 and len(intermediate) >= 4 and len(marts) >= 3, \
        "the project has its layers"

    def model_with_unique_test(candidates: list[str], taken: set[str]) -> str:
        return next(uid for uid in candidates if uid not in taken
                    and generic_tests_on(manifest, uid, "unique"))

    taken: set[str] = set()

    def pick(candidates: list[str]) -> str:
        uid = next(uid for uid in candidates if uid not in taken)
        taken.add(uid)
        return uid

    # naming by layer
    uid = pick(staging)
    nodes[uid]["name"] = nodes[uid]["name"].removeprefix("stg_")
    expected.add(("check_model_names", uid))
    uid = pick(intermediate)
    nodes[uid]["name"] = nodes[uid]["name"].removeprefix("int_")
    expected.add(("check_model_names", uid))
    uid = pick(marts)
    nodes[uid]["name"] = "officer_report"
    expected.add(("check_model_names", uid))
    # layers and materializations
    uid = pick(staging)
    nodes[uid]["original_file_path"] = nodes[uid]["original_file_path"].replace(
        "models/staging/", "models/reports/")
    nodes[uid]["patch_path"] = f"{PROJECT}://models/reports/_reports.yml"
    expected.add(("check_model_directories", uid))
    uid = pick(staging)
    nodes[uid]["config"]["materialized"] = "table"
    expected.add(("check_model_materialization_permitted", uid))
    # documentation
    uid = pick(intermediate)
    nodes[uid]["description"] = ""
    expected.add(("check_model_description_populated", uid))
    uid = pick(intermediate)
    column = next(iter(nodes[uid]["columns"]))
    nodes[uid]["columns"][column]["description"] = " "
    expected.add(("check_model_column_description_populated", uid))
    source = first(manifest, lambda s: True, "sources")
    manifest["sources"][source]["description"] = ""
    expected.add(("check_source_description_populated", source))
    other_source = first(manifest, lambda s: s["unique_id"] != source and bool(s["columns"]),
                         "sources")
    column = next(iter(manifest["sources"][other_source]["columns"]))
    manifest["sources"][other_source]["columns"][column]["description"] = ""
    expected.add(("check_source_columns_description_populated", other_source))
    seed = first(manifest, lambda n: n["resource_type"] == "seed" and bool(n["columns"]))
    column = next(iter(nodes[seed]["columns"]))
    nodes[seed]["columns"][column]["description"] = ""
    expected.add(("check_seed_columns_description_populated", seed))
    macro = first(manifest, lambda m: m["name"] == "create_access_roles", "macros")
    manifest["macros"][macro]["description"] = ""
    expected.add(("check_macro_description_populated", macro))
    # catalog: a column in the warehouse that the .yml does not declare
    uid = pick(marts)
    catalog["nodes"][uid]["columns"]["undeclared_amount"] = {"type": "numeric", "index": 999,
                                                             "name": "undeclared_amount",
                                                             "comment": None}
    expected |= {("check_columns_are_all_documented", uid),
                 ("check_column_description_populated", uid)}
    # primary key: no unique test; a unique test without not_null
    uid = model_with_unique_test(intermediate, taken)
    taken.add(uid)
    for test in generic_tests_on(manifest, uid, "unique", "unique_combination_of_columns"):
        del nodes[test]
    expected.add(("check_model_has_unique_test", uid))
    uid = model_with_unique_test(staging, taken)
    taken.add(uid)
    for test in generic_tests_on(manifest, uid, "not_null", "unique_combination_of_columns"):
        del nodes[test]
    expected.add(("check_model_has_tests_by_name", uid))
    # a source read outside staging
    uid = pick(intermediate)
    nodes[uid]["depends_on"]["nodes"].append(source)
    nodes[uid]["sources"].append([manifest["sources"][source]["source_name"],
                                  manifest["sources"][source]["name"]])
    expected |= {("check_lineage_source_cannot_be_used", uid),
                 ("check_model_does_not_directly_join_to_source", uid)}
    # a public mart without an enforced contract
    uid = pick([m for m in marts if nodes[m]["access"] == "public"])
    nodes[uid]["config"]["contract"]["enforced"] = False
    nodes[uid]["contract"]["enforced"] = False
    expected.add(("check_model_contract_enforced_for_public_model", uid))
    return expected


def test_every_rule_reports_its_violation(manifest: dict[str, Any], tmp_path: Path) -> None:
    clean = (manifest, catalog_from(manifest))
    before = bouncer_failures(clean, tmp_path / "clean")
    broken_manifest = copy.deepcopy(manifest)
    broken_catalog = catalog_from(broken_manifest)
    expected = break_rules(broken_manifest, broken_catalog)
    after = bouncer_failures((broken_manifest, broken_catalog), tmp_path / "broken")
    assert not expected & before, \
        f"already failing before the injection: {sorted(expected & before)}"
    missed = sorted(expected - after)
    assert missed == [], f"dbt-bouncer.yml misses these violations: {missed}"



# Issue 9: no daily mart has more than 7 parents (bouncer_checks/manifest/model_parents.py; the
# rule is on in dbt-bouncer.yml, and this test proves the check flags a mart over the limit).
MAX_PARENTS_RULE = {"name": "check_model_max_parents", "include": "^models/marts/portfolio/",
                    "max_parents": 7,
                    "description": "Daily marts have at most 7 direct parents."}


def test_a_daily_mart_with_more_than_seven_parents_is_flagged(
    manifest: dict[str, Any], tmp_path: Path
) -> None:
    broken = copy.deepcopy(manifest)
    nodes = broken["nodes"]
    daily = [uid for uid in sorted(nodes) if in_folder("models/marts/portfolio/")(nodes[uid])]
    core = [uid for uid in sorted(nodes) if in_folder("models/marts/core/")(nodes[uid])]
    parents = [uid for uid in sorted(nodes) if nodes[uid]["resource_type"] in ("model", "seed")
               and uid not in daily and uid not in core]
    assert len(daily) >= 2 and core and len(parents) >= 8
    eight, seven = daily[0], daily[1]
    for uid in daily:  # every daily mart within the limit, except `eight`
        nodes[uid]["depends_on"]["nodes"] = parents[:7]
    nodes[eight]["depends_on"]["nodes"] = parents[:8] + parents[:2]  # 8 distinct parents
    nodes[core[0]]["depends_on"]["nodes"] = parents[:9]  # outside the rule's folder
    config = {"dbt_artifacts_dir": ".", "custom_checks_dir": "bouncer_checks",
              "manifest_checks": [MAX_PARENTS_RULE]}
    failures = bouncer_failures((broken, catalog_from(broken)), tmp_path / "parents", config)
    assert failures == {("check_model_max_parents", eight)}, f"{seven} and {core[0]} must pass"
