"""The Run: its phases in order (lock, load, freshness, build with one retry, docs, state), each
logged as one `phase` line with its status and duration (see the package docstring)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from seedsmetrics import dbt_runner, settings
from seedsmetrics.errors import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, RunLocked, UserError
from seedsmetrics.logs import Log, elapsed
from seedsmetrics.pause import pause_at
from seedsmetrics.pipeline.artifacts import (
    Results,
    failed_nodes,
    flat_counts,
    freshness_counts,
    is_transient,
    merge_retry,
    read_results,
    summarize_run_results,
)
from seedsmetrics.pipeline.children import ChildResult, Interrupted, run_child
from seedsmetrics.pipeline.lock import RunLock
from seedsmetrics.redact import describe_url

PRODUCTION_SELECTOR = "production"
PAUSE_HOOK = "SEEDS_PIPELINE"  # seedsmetrics.pause
# the server cancels a query whose client went away within this interval (PostgreSQL >= 14)
CLIENT_CHECK_INTERVAL = "2s"
STALE_REASON = "raw data older than freshness_error_after_hours (--allow-stale builds anyway)"


@dataclass
class PhaseResult:
    status: str  # ok, warn, failed, skipped, locked
    duration_s: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Run:
    args: argparse.Namespace
    target: settings.Target
    log: Log
    run_id: str
    project_dir: Path
    target_path: Path
    log_path: Path
    state_dir: Path
    raw_schema: str
    as_of: date
    dbt_vars: dict[str, Any]
    started: float = field(default_factory=time.monotonic)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    phases: dict[str, PhaseResult] = field(default_factory=dict)
    rows_loaded: int | None = None
    build_results: Results | None = None
    retried: bool = False
    state_saved: Path | None = None
    lock: RunLock | None = None
    dbt_env: dict[str, str] = field(default_factory=dict)

    # -- helpers ----------------------------------------------------------------------------

    @property
    def target_path_abs(self) -> Path:
        if self.target_path.is_absolute():
            return self.target_path
        return self.project_dir / self.target_path

    def dbt_argv(self, *command: str) -> list[str]:
        return [dbt_runner.dbt_executable(), "--no-use-colors", *command,
                "--target", self.target.name, "--target-path", str(self.target_path),
                "--log-path", str(self.log_path)]

    def vars_arg(self) -> list[str]:
        return ["--vars", json.dumps(self.dbt_vars, default=str)]

    def dbt(self, phase: str, *command: str) -> ChildResult:
        return run_child(self.dbt_argv(*command), self.dbt_env, self.project_dir, self.log, phase)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[PhaseResult]:
        """One phase: paused here by the test hook, refused when the lock was lost, timed and
        logged whatever happens inside."""
        pause_at(name, PAUSE_HOOK, self.log, default_seconds=60)
        if self.lock is not None and not self.lock.held():
            raise UserError("the run lock's session was lost; stopping so that no other run "
                            "overlaps", EXIT_FAILED)
        result = PhaseResult("ok")
        started = time.monotonic()
        try:
            yield result
        except Interrupted:
            result.status = "interrupted"
            raise
        except BaseException:
            result.status = "failed"
            raise
        finally:
            result.duration_s = elapsed(started)
            self.phases[name] = result
            self.log("phase", level="info" if result.status in ("ok", "skipped") else "warning",
                     phase=name, status=result.status, duration_s=result.duration_s,
                     **result.details)

    def skip(self, name: str, reason: str) -> None:
        self.phases[name] = PhaseResult("skipped", details={"reason": reason})
        self.log("phase", phase=name, status="skipped", reason=reason)

    # -- before the phases ------------------------------------------------------------------

    def take_lock(self) -> RunLock:
        """The lock phase: the run lock without waiting (RunLocked is logged, then raised)."""
        lock = RunLock(self.target)
        started = time.monotonic()
        try:
            lock.acquire()
        except RunLocked:
            self.log("phase", level="warning", phase="lock", status="locked",
                     duration_s=elapsed(started))
            self.log("summary", level="warning", status="locked", exit_code=EXIT_LOCKED,
                     duration_s=elapsed(self.started))
            raise
        self.lock = lock
        self.phases["lock"] = PhaseResult("ok", elapsed(started), {"lock": lock.name})
        self.log("phase", phase="lock", status="ok", duration_s=self.phases["lock"].duration_s,
                 lock=lock.name)
        return lock

    def prepare_dbt(self, server_version: int) -> None:
        """dbt's environment (the server cancels a killed run's queries) and artifacts folder."""
        env = os.environ.copy()
        if server_version >= 140000:
            check = f"-c client_connection_check_interval={CLIENT_CHECK_INTERVAL}"
            env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} {check}".strip()
        self.dbt_env = env
        self.target_path_abs.mkdir(parents=True, exist_ok=True)

    # -- the phases, in order ---------------------------------------------------------------

    def execute(self) -> int:
        """The phases in order; the exit code of the first that fails (nothing after it runs)."""
        code = self._run_or_skip("load", self.load, self.args.skip_load)
        if not code:
            code = self._run_or_skip("freshness", self.freshness, self.args.skip_freshness)
        if code:
            return code
        code = self.build()
        if code:
            self.skip("docs", "build failed")
            return code
        return self._run_or_skip("docs", self.docs, self.args.skip_docs)

    def _run_or_skip(self, name: str, phase: Callable[[], int], skipped: bool) -> int:
        if skipped:
            self.skip(name, f"--skip-{name}")
            return EXIT_OK
        return phase()

    def load(self) -> int:
        from seedsmetrics.loader import run_load
        from seedsmetrics.loader.progress import LOGGER, Progress

        with self.phase("load") as result:
            source_url = self._source_url()
            result.details.update(source=describe_url(source_url), raw_schema=self.raw_schema)
            try:
                loaded = run_load(source_url=source_url, target=self.target.name,
                                  raw_schema=self.raw_schema,
                                  progress=Progress(log=self.log.named(LOGGER)))
            except UserError as error:
                result.status = "locked" if isinstance(error, RunLocked) else "failed"
                result.details["reason"] = str(error)
                return error.exit_code
            self.rows_loaded = loaded.rows_written
            result.details.update(load_run_id=loaded.run_id, rows_read=loaded.rows_read,
                                  rows_loaded=loaded.rows_written)
        return EXIT_OK

    def _source_url(self) -> str | None:
        return (self.args.source_url or os.environ.get("SOURCE_DATABASE_URL")
                or settings.embedded_source_url())

    def freshness(self) -> int:
        with self.phase("freshness") as result:
            sources_json = self.target_path_abs / "sources.json"
            sources_json.unlink(missing_ok=True)
            child = self.dbt("freshness", "source", "freshness", *self.vars_arg())
            counts, stale = freshness_counts(sources_json)
            result.details.update(exit_code=child.returncode, counts=counts, stale=stale or None)
            return self._judge_freshness(result, counts, child.returncode)

    def _judge_freshness(self, result: PhaseResult, counts: dict[str, int], exit_code: int) -> int:
        """Unreadable or (without --allow-stale) stale at the error level: failed; else a warning
        at most."""
        if counts.get("runtime error") or (exit_code != 0 and not counts):
            result.status = "failed"
            return EXIT_FAILED
        if counts.get("error") and not self.args.allow_stale:
            result.status = "failed"
            result.details["reason"] = STALE_REASON
            return EXIT_FAILED
        if counts.get("error") or counts.get("warn"):
            result.status = "warn"
        return EXIT_OK

    def build(self) -> int:
        with self.phase("build") as result:
            run_results = self.target_path_abs / "run_results.json"
            run_results.unlink(missing_ok=True)  # never read a previous run's results
            command = self._build_command()
            child = self.dbt("build", *command)
            results = read_results(run_results)
            if child.returncode and not self.args.no_retry and is_transient(results, child.tail):
                child, results = self._retry(command, child, results, run_results)
            self._keep_build_results(results)
            return self._judge_build(result, child, results)

    def _build_command(self) -> list[str]:
        if self.args.select:
            selection = ["--select", self.args.select, "--exclude-resource-type", "unit_test"]
        else:
            selection = ["--selector", PRODUCTION_SELECTOR]
        refresh = ["--full-refresh"] if self.args.full_refresh else []
        return ["build", *selection, *self.vars_arg(), *refresh]

    def _retry(self, command: list[str], first: ChildResult, results: Results | None,
               run_results: Path) -> tuple[ChildResult, Results | None]:
        """The one retry of a transiently failed build: `dbt retry` of what did not succeed, or
        the whole build again when dbt died before writing run_results.json."""
        self.log("retry", level="warning", phase="build", first_exit_code=first.returncode,
                 reason="transient error (connection or server)")
        self.retried = True
        if results is None:  # nothing to retry from: build again
            return self.dbt("build", *command), read_results(run_results)
        shutil.copyfile(run_results, self.target_path_abs / "run_results_build_attempt1.json")
        child = self.dbt("build", "retry")
        return child, merge_retry(results, read_results(run_results) or [])

    def _keep_build_results(self, results: Results | None) -> None:
        """The build's results (both attempts merged) as run_results_build.json."""
        self.build_results = results
        if results is not None:
            (self.target_path_abs / "run_results_build.json").write_text(
                json.dumps({"results": results}, default=str))

    def _judge_build(self, result: PhaseResult, child: ChildResult, results: Results | None) -> int:
        counts = summarize_run_results(results or [])
        result.details.update(exit_code=child.returncode, retried=self.retried,
                              **flat_counts(counts))
        if child.returncode != 0:
            result.status = "failed"
            result.details["failed_nodes"] = failed_nodes(results)[:10] or None
            return EXIT_FAILED
        if counts.get("test", {}).get("warn"):
            result.status = "warn"
        self.save_state(result)
        return EXIT_OK

    def save_state(self, result: PhaseResult) -> None:
        """Keep a green full build's manifest for slim CI (written to a temp name, then renamed)."""
        if self.args.select:
            return
        manifest = self.target_path_abs / "manifest.json"
        self.state_dir.mkdir(parents=True, exist_ok=True)
        partial = self.state_dir / f".manifest.json.{self.run_id}"
        shutil.copyfile(manifest, partial)
        os.replace(partial, self.state_dir / "manifest.json")
        self.state_saved = self.state_dir / "manifest.json"
        result.details["state"] = str(self.state_saved)

    def docs(self) -> int:
        with self.phase("docs") as result:
            child = self.dbt("docs", "docs", "generate", "--static", *self.vars_arg())
            result.details["exit_code"] = child.returncode
            if child.returncode != 0:
                result.status = "failed"
                return EXIT_FAILED
        return EXIT_OK
