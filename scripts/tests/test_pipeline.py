"""`seedsmetrics run`: the production runner, end to end on real PostgreSQL (a synthetic source at
scale 0.01 on the embedded server, a throw-away warehouse database), plus its pure helpers."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from seedsmetrics import warehouse
from seedsmetrics.cli import main
from seedsmetrics.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_LOCKED
from seedsmetrics.loader import raw_layer
from seedsmetrics.pipeline.artifacts import is_transient, merge_retry, summarize_run_results
from seedsmetrics.pipeline.lock import RUN_LOCK_CLASS, lock_key
from seedsmetrics.pipeline.summary import failure_line
from seedsmetrics.source_generator import generate

from .conftest import PROJECT_ROOT, DatabaseFactory

AS_OF = "2025-11-20"
# given as passwords; the servers here trust loopback, so it is never needed
SECRET = "ops-pipeline-s3cret"
PHASE_ORDER = ["lock", "load", "freshness", "build", "docs"]


# ---------------------------------------------------------------------------------------------
# pure helpers


def result(unique_id: str, status: str, message: str = "") -> dict[str, Any]:
    return {"unique_id": unique_id, "status": status, "message": message}


def test_summarize_counts_statuses_per_resource_type() -> None:
    counts = summarize_run_results([
        result("model.p.a", "success"), result("model.p.b", "skipped"),
        result("model.p.c", "success"), result("test.p.t1", "pass"), result("test.p.t2", "warn"),
        result("test.p.t3", "fail"), result("seed.p.s", "success")])
    assert counts == {"model": {"skipped": 1, "success": 2}, "seed": {"success": 1},
                      "test": {"fail": 1, "pass": 1, "warn": 1}}


def test_retry_results_replace_the_first_attempt() -> None:
    first = [result("model.p.a", "success"), result("model.p.b", "error"),
             result("model.p.c", "skipped")]
    retried = [result("model.p.b", "success"), result("model.p.c", "success")]
    merged = {r["unique_id"]: r["status"] for r in merge_retry(first, retried)}
    assert merged == {"model.p.a": "success", "model.p.b": "success", "model.p.c": "success"}


@pytest.mark.parametrize("message", [
    "Database Error in model x\n  terminating connection due to administrator command",
    "server closed the connection unexpectedly\n\tThis probably means the server terminated "
    "abnormally",
    "connection to server at \"10.0.0.5\", port 5432 failed: Connection refused",
    "Database Error: deadlock detected",
    "FATAL: the database system is shutting down",
])
def test_connection_errors_are_transient(message: str) -> None:
    assert is_transient([result("model.p.ok", "success"), result("model.p.x", "error", message)])


@pytest.mark.parametrize("results", [
    [result("model.p.x", "error", "Database Error in model x\n  division by zero")],
    [result("model.p.x", "error", 'column "amount" does not exist')],
    # a failed data test is the data speaking, never the network
    [result("test.p.unique_x", "fail", "Got 3 results, configured to fail if != 0")],
    [result("model.p.x", "skipped", "terminating connection")],
])
def test_sql_and_data_failures_are_not_transient(results: list[dict[str, Any]]) -> None:
    assert not is_transient(results)


def test_without_run_results_the_output_decides() -> None:
    assert is_transient(None,
                        "Encountered an error:\nDatabase Error\n  could not connect to server")
    assert not is_transient(None, "Compilation Error in model x: 'ref' is undefined")


def test_lock_key_is_stable() -> None:
    # the key must not depend on the process (Python's hash() is salted per process)
    assert lock_key("analytics") == lock_key("analytics") == 1791157896
    assert lock_key("analytics") != lock_key("ci")
    assert 0 <= lock_key("x") < 2**31


def test_failure_line_names_the_phase_and_what_failed() -> None:
    summary = {"status": "failed", "exit_code": 1, "models": {"error": 1, "skipped": 4},
               "tests": {"fail": 2}, "phases": {"lock": {"status": "ok"}, "build": {
                   "status": "failed", "failed_nodes": ["test.p.unique_loans"]}}}
    line = failure_line(summary)
    assert line.startswith("run failed in phase build: 1 model errors, 2 tests failed")
    assert "test.p.unique_loans" in line and "last good data stays published" in line


@pytest.mark.parametrize("argv, message", [
    (["run", "--as-of", "2025-13-01"], "invalid --as-of"),
    (["run", "--vars", "[1, 2]"], "--vars must be a YAML mapping"),
    (["run", "--vars", "{a: [}"], "--vars is not valid YAML"),
    (["run", "--target", "nosuchtarget"], "unknown target"),
])
def test_bad_input_exits_2_with_one_line(argv: list[str], message: str,
                                         capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("SEEDS_TARGET", "DBT_PROFILES_DIR", "DBT_PROJECT_DIR", "PGTZ", "DO_NOT_TRACK"):
        monkeypatch.delenv(key, raising=False)  # restored after the test: the CLI exports them
    assert main(argv) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("seedsmetrics: error: ") and message in err[-1]


# ---------------------------------------------------------------------------------------------
# end to end


def child_env(**overrides: str) -> dict[str, str]:
    """The test process's environment without any warehouse/source/dbt setting of its own."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("WAREHOUSE_", "SEEDS_", "DBT_", "SOURCE_DATABASE_URL",
                                  "PGOPTIONS"))}
    env.update(DO_NOT_TRACK="1", PGTZ="UTC", SEEDS_HOME=str(warehouse.home()))
    env.update(overrides)
    return env


def json_events(stderr: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


@dataclass
class Warehouse:
    """One warehouse database + a source, and how to run the pipeline against them."""

    env: dict[str, str]
    conninfo: str
    schema: str
    tmp: Path

    @property
    def target_path(self) -> Path:
        return self.tmp / "target"

    @property
    def state_dir(self) -> Path:
        return self.tmp / "state"

    def argv(self, *extra: str) -> list[str]:
        return [sys.executable, "-m", "seedsmetrics", "run", "--target", "dev", "--as-of", AS_OF,
                "--log-format", "json", "--target-path", str(self.target_path), "--log-path",
                str(self.tmp / "logs"), "--state-dir", str(self.state_dir), *extra]

    def run(self, *extra: str, timeout: float = 600,
            **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(*extra), env={**self.env, **env}, cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=timeout)

    def start(self, *extra: str, **env: str) -> tuple[subprocess.Popen[bytes], Path, Path]:
        out, err = self.tmp / f"out-{time.monotonic_ns()}", self.tmp / f"err-{time.monotonic_ns()}"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(self.argv(*extra), env={**self.env, **env}, cwd=PROJECT_ROOT,
                                       stdout=stdout, stderr=stderr)
        return process, out, err

    def summary(self) -> dict[str, Any]:
        return json.loads((self.target_path / "pipeline_summary.json").read_text())

    def query(self, statement: str | sql.Composable,
              params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            return conn.execute(statement, params).fetchall()

    def marts(self) -> dict[str, tuple[int, int]]:
        """(oid, rows) of every table in the marts schema: a rebuilt table gets a new oid."""
        names = self.query("select c.relname, c.oid::bigint from pg_class c join pg_namespace n on "
                           "n.oid = c.relnamespace where n.nspname = %s and c.relkind = 'r'",
                           [f"{self.schema}_marts"])
        return {name: (oid, self.query(sql.SQL("select count(*) from {}.{}").format(
            sql.Identifier(f"{self.schema}_marts"), sql.Identifier(name)))[0][0])
            for name, oid in names}


def assert_success(done: subprocess.CompletedProcess[str]) -> None:
    assert done.returncode == 0, \
        f"run failed ({done.returncode}):\n{done.stderr[-4000:]}\n{done.stdout[-4000:]}"


def manifest_descendants(manifest: dict[str, Any], unique_id: str) -> set[str]:
    seen: set[str] = set()
    stack = [unique_id]
    while stack:
        for child in manifest["child_map"].get(stack.pop(), []):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen


@pytest.fixture(scope="module")
def source_url(embedded: warehouse.Embedded) -> Iterator[tuple[str, dict[str, int]]]:
    factory = DatabaseFactory(embedded.url("postgres"))
    url = factory("ops_src")
    counts = generate(url, scale=0.01, seed=7, as_of=AS_OF)
    yield url, counts
    factory.drop_all()


def wait_for(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def process_gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in state  # exited, not yet reaped by its new parent


@dataclass
class Scenario:
    """What happened to a fresh warehouse: run 1 paused holding the lock, run 2 started meanwhile,
    run 1 resumed and was SIGKILLed in the middle of `dbt build`, run 3 re-ran the same command."""

    wh: Warehouse
    locked: subprocess.CompletedProcess[str]
    locked_seconds: float
    summary_while_locked: bool
    dbt_pid: int
    killed_stdout: str
    after_kill: dict[str, bool]
    recovered: subprocess.CompletedProcess[str]


def kill_during_build_then_rerun(wh: Warehouse) -> Scenario:
    pause_file = wh.tmp / "paused"
    pause_file.touch()
    runner, out, err = wh.start(SEEDS_PIPELINE_PAUSE_AT="build",
                                SEEDS_PIPELINE_PAUSE_FILE=str(pause_file))
    try:
        wait_for(lambda: '"event":"paused"' in err.read_text(), 120,
                 "the first run to hold the lock")
        started = time.monotonic()
        locked = wh.run()
        locked_seconds = time.monotonic() - started
        summary_while_locked = (wh.target_path / "pipeline_summary.json").exists()
        pause_file.unlink()  # the first run goes on into dbt build: kill it there
        dbt_pid = wait_for(lambda: next((e["pid"] for e in json_events(err.read_text())
                                         if e["event"] == "child_started"
                                         and e["phase"] == "build"), None),
                           60, "dbt build to start")
        wait_for(lambda: " OK created sql " in out.read_text(), 120, "dbt to have built a model")
        runner.send_signal(signal.SIGKILL)
        runner.wait(10)
    finally:
        if runner.poll() is None:
            runner.kill()
    key = lock_key(wh.schema)
    after_kill = {"dbt died": bool(wait_for(lambda: process_gone(dbt_pid), 15,
                                            "dbt to die with the runner"))}
    with psycopg.connect(wh.conninfo, autocommit=True) as conn:
        after_kill["lock freed"] = wait_for(lambda: conn.execute(
            "select pg_try_advisory_lock(%s::int4, %s::int4)", [RUN_LOCK_CLASS, key]).fetchone()[0],
            15, "the run lock to be freed")
        conn.execute("select pg_advisory_unlock(%s::int4, %s::int4)", [RUN_LOCK_CLASS, key])
        after_kill["dbt sessions ended"] = wait_for(lambda: conn.execute(
            "select count(*) = 0 from pg_stat_activity where datname = current_database()"
            " and application_name = 'dbt'").fetchone()[0], 20, "dbt's sessions to end")
    return Scenario(wh, locked, locked_seconds, summary_while_locked, dbt_pid, out.read_text(),
                    after_kill, recovered=wh.run())


@pytest.fixture(scope="module")
def e2e(embedded: warehouse.Embedded, source_url: tuple[str, dict[str, int]],
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    """A fresh warehouse database after the kill-and-rerun scenario: its last run was green."""
    factory = DatabaseFactory(embedded.url("postgres"))
    conninfo = factory("ops")
    env = child_env(WAREHOUSE_DBNAME=conninfo_to_dict(conninfo)["dbname"], WAREHOUSE_SCHEMA="e2e",
                    SOURCE_DATABASE_URL=make_conninfo(source_url[0], password=SECRET))
    scenario = kill_during_build_then_rerun(Warehouse(env, conninfo, "e2e",
                                                      tmp_path_factory.mktemp("e2e")))
    assert_success(scenario.recovered)
    yield scenario
    factory.drop_all()


@pytest.mark.integration
@pytest.mark.slow
def test_second_run_exits_75_at_once_and_touches_nothing(e2e: Scenario) -> None:
    assert e2e.locked.returncode == EXIT_LOCKED, e2e.locked.stderr
    assert e2e.locked_seconds < 15, "a locked run exits at once"
    assert "another run holds the run lock" in e2e.locked.stderr.splitlines()[-1]
    assert not e2e.summary_while_locked, \
        "a locked run writes no artifact into the running one's target path"


@pytest.mark.integration
@pytest.mark.slow
def test_run_killed_during_dbt_recovers_with_a_plain_rerun(e2e: Scenario) -> None:
    assert " OK created sql " in e2e.killed_stdout and "Done. PASS=" not in e2e.killed_stdout, \
        "the first run was killed in the middle of dbt build"
    assert e2e.after_kill == {"dbt died": True, "lock freed": True, "dbt sessions ended": True}
    summary = e2e.wh.summary()
    assert summary["status"] == "success" and not summary["models"].get("error")
    assert not summary["models"].get("skipped") and not summary["tests"].get("fail")


@pytest.mark.integration
@pytest.mark.slow
def test_run_end_to_end(e2e: Scenario, source_url: tuple[str, dict[str, int]]) -> None:
    wh, done = e2e.wh, e2e.recovered
    summary = wh.summary()
    manifest = json.loads((wh.state_dir / "manifest.json").read_text())
    models = [uid for uid, node in manifest["nodes"].items()
              if node["resource_type"] == "model" and node["config"]["materialized"] != "ephemeral"]
    assert summary["status"] == "success" and summary["exit_code"] == 0
    assert summary["models"] == {"success": len(models)}, "every model of the project is built"
    assert summary["tests"].get("pass", 0) > len(models) and not summary["tests"].get("fail")
    assert summary["as_of_date"] == AS_OF and summary["retried"] is False
    assert list(summary["phases"]) == PHASE_ORDER
    assert all(phase["status"] in ("ok", "warn") for phase in summary["phases"].values())
    # rows loaded: what the loader reports having written (the killed run had loaded
    # everything once)
    published = [e for e in json_events(done.stderr) if e["event"] == "run_published"]
    assert len(published) == 1 and published[0]["rows_written"] == summary["rows_loaded"]
    # production selector: data tests yes, dbt unit tests no (CI runs them)
    build = json.loads((wh.target_path / "run_results_build.json").read_text())["results"]
    assert manifest["unit_tests"], "the project has unit tests the production run must leave out"
    assert not [r for r in build if r["unique_id"].startswith("unit_test.")]
    # artifacts: docs site, freshness results, the state manifest kept for slim CI
    assert (wh.target_path / "static_index.html").stat().st_size > 100_000
    sources = json.loads((wh.target_path / "sources.json").read_text())["results"]
    assert {r["status"] for r in sources} == {"pass"} and len(sources) == 6
    assert summary["state_manifest"] == str(wh.state_dir / "manifest.json")
    # one structured line per phase, with its duration, then the summary; no credential anywhere
    events = json_events(done.stderr)
    assert [e["phase"] for e in events if e["event"] == "phase"] == PHASE_ORDER
    assert all(isinstance(e["duration_s"], float | int) for e in events if e["event"] == "phase")
    assert events[-1]["event"] == "summary" and events[-1]["rows_loaded"] == summary["rows_loaded"]
    assert SECRET not in done.stderr + done.stdout
    # the marts are there and readable
    marts = wh.marts()
    assert marts and all(rows > 0 for _, rows in marts.values()), marts


@pytest.mark.integration
def test_load_problems_stop_the_run_before_dbt(e2e: Scenario) -> None:
    wh = e2e.wh
    unreachable = wh.run("--source-url", f"postgresql://loader:{SECRET}@127.0.0.1:9/savings")
    assert unreachable.returncode == EXIT_BAD_INPUT, unreachable.stderr
    assert unreachable.stderr.splitlines()[-1].startswith("seedsmetrics: error: run failed in "
                                                          "phase load: ")
    assert SECRET not in unreachable.stderr + unreachable.stdout
    assert list(wh.summary()["phases"]) == ["lock", "load"], "nothing after a failed load"

    # a standalone `seedsmetrics load` holds the loader's lock: the run says "locked", not "failed"
    with psycopg.connect(wh.conninfo, autocommit=True) as conn:
        assert raw_layer.try_lock(conn, "raw") is None
        locked = wh.run()
    assert locked.returncode == EXIT_LOCKED, locked.stderr
    assert wh.summary()["phases"]["load"]["status"] == "locked"
    assert "another load into schema raw" in locked.stderr.splitlines()[-1]


@pytest.mark.integration
@pytest.mark.slow
def test_failed_test_skips_children_and_keeps_last_good_marts(e2e: Scenario) -> None:
    """A duplicate loan id in the raw data fails stg_django__loans's primary-key test: the run exits
    1, every model downstream is skipped, and the marts built from them keep the last good
    tables."""
    wh = e2e.wh
    state_before = (wh.state_dir / "manifest.json").read_bytes()
    raw = ("accounts_customuser", "ajo_ajouser", "loans_ajoloan", "loans_ajoloanrepayment",
           "loans_ajoloanschedule", "loans_holiday")
    with psycopg.connect(wh.conninfo, autocommit=True) as conn:
        conn.execute("create schema bad_raw")
        for table in raw:
            body = sql.SQL("select * from raw.{t}").format(t=sql.Identifier(table))
            if table == "loans_ajoloan":
                body = sql.SQL("{b} union all select * from raw.loans_ajoloan where id = "
                               "(select min(id) from raw.loans_ajoloan)").format(b=body)
            conn.execute(sql.SQL("create view bad_raw.{} as {}").format(
                sql.Identifier(table), body))
    before = wh.marts()

    # bad_raw is not written by the loader (no _load_state): there is no freshness to read
    done = wh.run("--skip-load", "--skip-freshness", "--raw-schema", "bad_raw")
    assert done.returncode == EXIT_FAILED, done.stderr[-3000:]
    assert done.stderr.splitlines()[-1].startswith(
        "seedsmetrics: error: run failed in phase build:")
    summary = wh.summary()
    assert summary["status"] == "failed" and summary["tests"].get("fail", 0) >= 1
    assert summary["phases"]["docs"]["status"] == "skipped"
    results = {r["unique_id"]: r["status"] for r in
               json.loads((wh.target_path / "run_results_build.json").read_text())["results"]}
    primary_key_test = next(uid for uid in results
                            if uid.startswith("test.seeds_metrics.unique_stg_django__loans_"))
    assert results[primary_key_test] == "fail"
    manifest = json.loads((wh.target_path / "manifest.json").read_text())
    downstream = sorted(uid for uid in manifest_descendants(
        manifest, "model.seeds_metrics.stg_django__loans") if uid.startswith("model."))
    assert downstream and all(results[uid] == "skipped" for uid in downstream), \
        {uid: results[uid] for uid in downstream}
    protected = {manifest["nodes"][uid]["alias"] for uid in downstream
                 if manifest["nodes"][uid]["schema"] == f"{wh.schema}_marts"}
    assert protected, "some marts depend on the loans"
    after = wh.marts()
    assert {name: after[name] for name in protected} == {
        name: before[name] for name in protected}, \
        "the marts downstream of the failed test are the same tables (same oid, same rows)"
    assert (wh.state_dir / "manifest.json").read_bytes() == state_before, \
        "a failed run saves no state"


# ---------------------------------------------------------------------------------------------
# --log-format json: every line of every phase, the loader's included


def not_json_objects(text: str) -> list[str]:
    """The lines of `text` that do not parse as a JSON object."""
    bad = []
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            if isinstance(json.loads(line), dict):
                continue
        bad.append(line)
    return bad


@pytest.mark.integration
def test_json_log_format_holds_for_every_phase(embedded: warehouse.Embedded,
                                               source_url: tuple[str, dict[str, int]],
                                               tmp_path: Path) -> None:
    """GIVEN a fresh warehouse and a source, WHEN `seedsmetrics run --log-format json` loads it and
    builds the staging views, THEN every stderr line is a JSON object (the loader's lines too) and
    stdout (dbt's output, the human summary) holds no key=value log line."""
    factory = DatabaseFactory(embedded.url("postgres"))
    try:
        conninfo = factory("ops")
        env = child_env(WAREHOUSE_DBNAME=conninfo_to_dict(conninfo)["dbname"],
                        WAREHOUSE_SCHEMA="jsonlog",
                        SOURCE_DATABASE_URL=make_conninfo(source_url[0], password=SECRET))
        done = Warehouse(env, conninfo, "jsonlog", tmp_path).run(
            "--skip-docs", "--select", "path:models/staging")
        assert_success(done)
    finally:
        factory.drop_all()
    not_json = not_json_objects(done.stderr)
    assert not not_json, f"stderr lines that are not JSON: {not_json[:5]}"
    records = json_events(done.stderr)
    assert [r["phase"] for r in records if r["event"] == "phase"] == PHASE_ORDER
    loader = [r["event"] for r in records if r.get("logger") == "seedsmetrics.load"]
    assert loader == ["run_started", *["table_copied"] * len(source_url[1]), "run_published"]
    assert all(r["ts"].endswith("Z") and r["level"] in ("info", "warning") for r in records)
    assert records[-1]["event"] == "summary" and records[-1]["status"] == "success"
    stdout_logs = [line for line in done.stdout.splitlines()
                   if line.startswith("ts=") or " event=" in line]
    assert not stdout_logs, stdout_logs[:5]
    assert SECRET not in done.stderr + done.stdout


# ---------------------------------------------------------------------------------------------
# retry, SQL errors and SIGTERM, on a throw-away copy of the project with three extra models

IGNORED = shutil.ignore_patterns(".venv", ".warehouse", ".git", "target", "logs", "__pycache__",
                                 "*.egg-info", ".pytest_cache", ".ruff_cache", "artifacts",
                                 "dbt_packages")

FLAKY_MODEL = """
{{ config(materialized='table') }}
-- the first build of this model loses its connection (the server ends its own session), the
-- second one succeeds: nextval() is not rolled back with the failed transaction
select 1 as id
from (
    select case when nextval('public.ops_flaky_attempts') = 1
        then pg_terminate_backend(pg_backend_pid()) end as killed
) as attempt
"""

BROKEN_MODEL = "{{ config(materialized='table') }}\nselect 1 / 0 as id\n"

SLOW_MODEL = ("{{ config(materialized='table') }}\n"
              "select 1 as id from (select pg_sleep(120)) as nap\n")


@dataclass
class Scratch:
    project: Path
    conninfo: str
    env: dict[str, str]
    tmp: Path

    def argv(self, select: str) -> list[str]:
        return [sys.executable, "-m", "seedsmetrics", "run", "--skip-load", "--skip-freshness",
                "--skip-docs", "--log-format", "json", "--target-path", str(self.tmp / "target"),
                "--log-path", str(self.tmp / "logs"), "--state-dir", str(self.tmp / "state"),
                "--select", select]

    def run(self, select: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(select), env=self.env, cwd=self.project,
                              capture_output=True, text=True, timeout=300)

    def summary(self) -> dict[str, Any]:
        return json.loads((self.tmp / "target" / "pipeline_summary.json").read_text())


@pytest.fixture(scope="module")
def scratch(embedded: warehouse.Embedded,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scratch]:
    tmp = tmp_path_factory.mktemp("scratch")
    project = tmp / "project"
    shutil.copytree(PROJECT_ROOT, project, ignore=IGNORED)
    for name, body in (("ops_flaky", FLAKY_MODEL), ("ops_broken", BROKEN_MODEL),
                       ("ops_slow", SLOW_MODEL)):
        (project / "models" / f"{name}.sql").write_text(body)
    factory = DatabaseFactory(embedded.url("postgres"))
    conninfo = factory("ops")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("create sequence public.ops_flaky_attempts")
    env = child_env(WAREHOUSE_DBNAME=conninfo_to_dict(conninfo)["dbname"],
                    WAREHOUSE_SCHEMA="scratch", SEEDS_PROJECT_DIR=str(project))
    yield Scratch(project, conninfo, env, tmp)
    factory.drop_all()


@pytest.mark.integration
@pytest.mark.slow
def test_transient_failure_is_retried_once(scratch: Scratch) -> None:
    flaky = scratch.run("ops_flaky")
    assert flaky.returncode == 0, flaky.stderr[-3000:] + flaky.stdout[-3000:]
    retries = [e for e in json_events(flaky.stderr) if e["event"] == "retry"]
    assert len(retries) == 1 and retries[0]["first_exit_code"] == 1
    attempt1_json = scratch.tmp / "target" / "run_results_build_attempt1.json"
    attempt1 = json.loads(attempt1_json.read_text())["results"]
    assert [(r["unique_id"], r["status"]) for r in attempt1
            if r["unique_id"].startswith("model.")] == [("model.seeds_metrics.ops_flaky", "error")]
    summary = scratch.summary()
    assert summary["retried"] is True and summary["models"] == {"success": 1}
    assert summary["status"] == "success"
    with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
        attempts = conn.execute("select last_value from public.ops_flaky_attempts").fetchone()
        assert attempts == (2,), "built twice"
        assert conn.execute("select count(*) from scratch.ops_flaky").fetchone() == (1,)


@pytest.mark.integration
@pytest.mark.slow
def test_sql_errors_are_not_retried(scratch: Scratch) -> None:
    broken = scratch.run("ops_broken")
    assert broken.returncode == EXIT_FAILED
    assert not [e for e in json_events(broken.stderr) if e["event"] == "retry"], \
        "division by zero is not transient"
    summary = scratch.summary()
    assert summary["retried"] is False and summary["models"] == {"error": 1}
    assert "ops_broken" in broken.stderr.splitlines()[-1]
    assert not (scratch.tmp / "state" / "manifest.json").exists(), \
        "partial (--select) runs save no state"


@pytest.mark.integration
@pytest.mark.slow
def test_sigterm_cancels_dbt_and_frees_the_lock(scratch: Scratch) -> None:
    """What `systemctl stop` does (KillMode=mixed): SIGTERM to the runner, which asks dbt to
    cancel."""
    err_file = scratch.tmp / "sigterm.err"
    with err_file.open("w") as err:
        runner = subprocess.Popen(scratch.argv("ops_slow"), env=scratch.env, cwd=scratch.project,
                                  stdout=subprocess.DEVNULL, stderr=err)
    try:
        with psycopg.connect(scratch.conninfo, autocommit=True) as conn:
            wait_for(lambda: conn.execute("select count(*) from pg_stat_activity"
                                          " where datname = current_database()"
                                          " and query like '%%pg_sleep(120)%%' and state = 'active'"
                                          " and pid <> pg_backend_pid()").fetchone()[0], 120,
                     "the slow model")
            runner.send_signal(signal.SIGTERM)
            assert runner.wait(60) == 143
            assert conn.execute("select count(*) from pg_stat_activity"
                                " where datname = current_database()"
                                " and query like '%%pg_sleep(120)%%' and pid <> pg_backend_pid()"
                                " and state = 'active'").fetchone()[0] == 0, \
                "dbt cancelled its query"
            key = lock_key("scratch")
            assert conn.execute("select pg_try_advisory_lock(%s::int4, %s::int4)",
                                [RUN_LOCK_CLASS, key]).fetchone()[0], "the lock is free"
    finally:
        if runner.poll() is None:
            runner.kill()
    events = json_events(err_file.read_text())
    assert events[-1]["event"] == "summary" and events[-1]["status"] == "interrupted"


# ---------------------------------------------------------------------------------------------
# the same run against another server given by WAREHOUSE_* (the PostgreSQL 15 on 127.0.0.1:5432)


def second_server() -> str | None:
    if url := os.environ.get("CI_SOURCE_DATABASE_URL"):
        return url
    with socket.socket() as probe:
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", 5432)) == 0:
            return "postgresql://postgres@127.0.0.1:5432/postgres"
    return None


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.source_server
def test_run_on_a_warehouse_given_by_environment(source_url: tuple[str, dict[str, int]],
                                                 tmp_path: Path) -> None:
    admin = second_server()
    if admin is None:
        pytest.skip("no second PostgreSQL (CI_SOURCE_DATABASE_URL or 127.0.0.1:5432)")
    factory = DatabaseFactory(admin)
    try:
        conninfo = factory("ops")
        params = conninfo_to_dict(conninfo)
        env = child_env(WAREHOUSE_HOST=params.get("host", "127.0.0.1"),
                        WAREHOUSE_PORT=str(params.get("port", 5432)),
                        WAREHOUSE_USER=params.get("user", "postgres"), WAREHOUSE_PASSWORD=SECRET,
                        WAREHOUSE_DBNAME=params["dbname"], WAREHOUSE_SCHEMA="given",
                        SOURCE_DATABASE_URL=source_url[0])
        wh = Warehouse(env, conninfo, "given", tmp_path)
        done = wh.run("--skip-docs")
        assert_success(done)
        summary = wh.summary()
        user, host = params.get("user", "postgres"), params.get("host")
        assert summary["warehouse"].startswith(f"{user}@{host}:")
        assert summary["rows_loaded"] == sum(source_url[1].values())
        assert not summary["models"].get("error") and not summary["tests"].get("fail")
        assert SECRET not in done.stderr + done.stdout
        assert wh.marts(), "the marts are built on the given server"
    finally:
        factory.drop_all()
