"""Slim CI (`make ci-slim`): after a production run saved its manifest, a change to one model
builds exactly that model and its children, deferring every unchanged parent to the production
relations."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from seedsmetrics import slim_ci, warehouse
from seedsmetrics.errors import EXIT_BAD_INPUT

from .conftest import PROJECT_ROOT, DatabaseFactory
from .test_pipeline import (
    AS_OF,
    IGNORED,
    Warehouse,
    assert_success,
    child_env,
    manifest_descendants,
    source_url,
)

__all__ = ["source_url"]  # the module-scoped synthetic source fixture, shared with test_pipeline

BUILT_TYPES = ("model.", "seed.", "snapshot.", "test.")


def test_slim_ci_defers_to_the_state_and_selects_modified_children(tmp_path: Path) -> None:
    args = slim_ci.dbt_args("build", tmp_path, "ci", "target/slim-ci", "logs/slim-ci")
    assert args[args.index("--selector") + 1] == "slim_ci" and "--defer" in args
    assert args[args.index("--state") + 1] == str(tmp_path)
    selectors = (PROJECT_ROOT / "selectors.yml").read_text()
    assert "name: slim_ci" in selectors and "value: modified" in selectors
    assert "children: true" in selectors
    listing = slim_ci.dbt_args("ls", tmp_path, "ci", "t", "l")
    assert "--defer" not in listing and "ls" in listing


def test_missing_production_manifest_is_a_clear_error(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert slim_ci.main(["--state", str(tmp_path)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert err.startswith("slim-ci: error: no production manifest at") and "seedsmetrics run" in err


def test_make_ci_slim_runs_the_helper_against_the_saved_state() -> None:
    dry = subprocess.run(["make", "-n", "ci-slim"], cwd=PROJECT_ROOT, capture_output=True,
                         text=True)
    assert dry.returncode == 0, dry.stderr
    assert "-m seedsmetrics.slim_ci --state .warehouse/state/prod" in dry.stdout
    # the default state folder is the one `seedsmetrics run --target prod` writes
    assert Path(".warehouse") / "state" / "prod" == slim_ci.DEFAULT_STATE


def pick_model(manifest: dict[str, Any]) -> str:
    """A model with at least one child model and the fewest descendants: a change that must not
    rebuild the whole project."""
    candidates = []
    for unique_id, node in manifest["nodes"].items():
        if node["resource_type"] != "model":
            continue
        below = manifest_descendants(manifest, unique_id)
        if any(uid.startswith("model.") for uid in below):
            candidates.append((len(below), unique_id))
    assert candidates, "the project has models with children"
    return min(candidates)[1]


def slim(project: Path, env: dict[str, str], tmp: Path,
         *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "seedsmetrics.slim_ci", "--state",
                           str(tmp / "state"), "--target", "dev", "--target-path",
                           str(tmp / "slim-target"), "--log-path", str(tmp / "slim-logs"), "--vars",
                           f"{{as_of_date: '{AS_OF}'}}", *extra],
                          env=env, cwd=project, capture_output=True, text=True, timeout=600)


@pytest.mark.integration
@pytest.mark.slow
def test_slim_ci_builds_only_the_modified_model_and_its_children(
        embedded: warehouse.Embedded, source_url: tuple[str, dict[str, int]],
        tmp_path: Path) -> None:
    factory = DatabaseFactory(embedded.url("postgres"))
    try:
        conninfo = factory("ops")
        dbname = conninfo_to_dict(conninfo)["dbname"]
        # production: load, build every model and seed (its ~600 data tests are test_pipeline's
        # business: they take most of a build and change nothing here), keep the manifest
        prod = Warehouse(child_env(WAREHOUSE_DBNAME=dbname, WAREHOUSE_SCHEMA="prod",
                                   SOURCE_DATABASE_URL=source_url[0]),
                         conninfo, "prod", tmp_path)
        assert_success(prod.run("--skip-docs", "--skip-freshness", "--select",
                                "resource_type:model resource_type:seed"))
        (tmp_path / "state").mkdir()
        shutil.copyfile(prod.target_path / "manifest.json", tmp_path / "state" / "manifest.json")
        state = json.loads((tmp_path / "state" / "manifest.json").read_text())

        project = tmp_path / "project"
        shutil.copytree(PROJECT_ROOT, project, ignore=IGNORED)
        env = child_env(WAREHOUSE_DBNAME=dbname, WAREHOUSE_SCHEMA="pr",
                        SEEDS_PROJECT_DIR=str(project))
        unchanged = slim(project, env, tmp_path, "--list")
        assert unchanged.returncode == 0, unchanged.stderr + unchanged.stdout
        assert unchanged.stdout.strip() == "", "an unchanged project selects nothing"

        chosen = pick_model(state)
        model_file = project / state["nodes"][chosen]["original_file_path"]
        model_file.write_text(model_file.read_text()
                              + "\n-- slim CI test: a change to this model\n")
        done = slim(project, env, tmp_path)
        assert done.returncode == 0, done.stderr[-3000:] + done.stdout[-3000:]

        results = json.loads((tmp_path / "slim-target" / "run_results.json").read_text())["results"]
        ran = {r["unique_id"] for r in results}
        expected = {uid for uid in {chosen} | manifest_descendants(state, chosen)
                    if uid.startswith(BUILT_TYPES)}
        assert {uid for uid in ran if uid.startswith(BUILT_TYPES)} == expected
        tested_models = {state["unit_tests"][uid]["depends_on"]["nodes"][0] for uid in ran
                         if uid.startswith("unit_test.")}
        assert tested_models <= expected, "unit tests run only for the models that changed"

        # only the selected models exist in the PR's schemas: their parents were read
        # from production
        built = {state["nodes"][uid]["alias"] for uid in expected if uid.startswith("model.")}
        with psycopg.connect(conninfo) as conn:
            in_pr = {row[0] for row in conn.execute(
                "select table_name from information_schema.tables where table_schema like 'pr\\_%'"
                " and table_schema <> 'pr_test_failures'").fetchall()}
        assert in_pr == built, f"PR schemas hold {sorted(in_pr)}, expected {sorted(built)}"
        parents = [uid for uid in state["nodes"][chosen]["depends_on"]["nodes"]
                   if uid.startswith("model.")]
        compiled_dir = tmp_path / "slim-target" / "compiled"
        compiled = next(compiled_dir.rglob(Path(model_file).name)).read_text()
        schemas = [state["nodes"][uid]["schema"].removeprefix("prod_") for uid in parents]
        assert all(f'"prod_{schema}"' in compiled for schema in schemas), \
            "unchanged parents are read from the production schemas (--defer)"
        assert parents, "the chosen model reads other models"
    finally:
        factory.drop_all()
