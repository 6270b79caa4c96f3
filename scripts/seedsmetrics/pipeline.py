"""`seedsmetrics run`: the production pipeline, one command for a scheduler to call.

Phases, in order, all under ONE run lock:

    lock       pg_try_advisory_lock(RUN_LOCK_CLASS, crc32(target schema)) on a dedicated session of the
               warehouse database (one run at a time per database and target schema; CI and dev
               schemas do not block production), held until the process ends (a killed runner frees
               it at once: the server ends the session when the socket closes). Taken without
               waiting: a second run exits 75 immediately and touches nothing, not even the
               artifacts under --target-path.
    load       the loader (`seedsmetrics load`, in-process, with its own lock; see LOADER below)
    freshness  `dbt source freshness` on raw._loaded_at (stale raw data stops the run before the build:
               metrics computed from yesterday's repayments would show false arrears)
    build      `dbt build --selector production` (selectors.yml: everything but dbt unit tests, which
               CI runs); once more as `dbt retry` when the first attempt failed transiently (see
               is_transient)
    docs       `dbt docs generate --static`, only after a green build
    state      the build's manifest.json copied to --state-dir, only after a green full build: the
               production state slim CI defers to (`make ci-slim`)

A failed run never publishes half a day of metrics:
  - `dbt build` runs each model's tests right after the model and SKIPS every model downstream of a
    failed (error-severity) test or model, so a bad input never reaches the marts;
  - a table model is rebuilt as `<name>__dbt_tmp` and swapped in by rename inside one transaction, so
    readers see the old table until the commit and a killed build leaves the old table in place;
  - incremental daily models apply their window as delete+insert inside one transaction: a failure
    or a kill rolls both back, and the next run recomputes the window (idempotent);
  - the runner exports PGOPTIONS=-c client_connection_check_interval=2s for dbt (PostgreSQL >= 14),
    and dbt dies with the runner (PR_SET_PDEATHSIG), so a killed run's queries are cancelled within
    seconds instead of holding locks that the re-run would wait on. Re-running needs no manual step.

Exit codes (seedsmetrics.errors; the README's table):
    0    success (freshness or test *warnings* are reported but do not fail the run)
    1    the run failed: load failed, raw data stale (error level), dbt errors or failed tests after
         the retry, docs generation failed
    2    bad input: unknown target, missing settings, unreachable warehouse, bad arguments
    75   another run holds the run lock (or the loader's lock): nothing was done, try again later
    130  interrupted (SIGINT), 143 terminated (SIGTERM): dbt was asked to cancel its queries first

Logs: one structured line per phase on stderr (`--log-format kv` key=value, or `json`), with its
duration, then a `summary` line; the loader's lines (`logger=seedsmetrics.load`) come in the same
format (seedsmetrics.logs); dbt's own output goes to stdout. Connection strings are never
logged (hosts and database names only). Artifacts stay under --target-path: run_results.json
(of the last dbt phase), run_results_build.json, sources.json, manifest.json and
pipeline_summary.json.

LOADER: the run calls the loader's public API (`seedsmetrics.loader.run_load`) in-process, on the
run's target and raw schema. The loader takes its own advisory lock per raw schema with the single
bigint key form (pg_locks.objsubid = 1); the run lock uses the two-int form (objsubid = 2), a
separate key space, and the loader never waits for a lock, so the two can neither collide nor
deadlock. A standalone `seedsmetrics load` holding the loader's lock makes the run exit 75.

Test hooks (never needed in production): SEEDS_PIPELINE_PAUSE_AT=<phase> pauses before that phase
(lock held) while the file named by SEEDS_PIPELINE_PAUSE_FILE exists, or for
SEEDS_PIPELINE_PAUSE_SECONDS (default 60) when no file is named.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from seedsmetrics import dbt_runner, settings, warehouse
from seedsmetrics.errors import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, RunLocked, UserError
from seedsmetrics.logs import Log
from seedsmetrics.pause import pause_at
from seedsmetrics.redact import describe_url, first_line

# Namespace of the run lock in the two-int advisory lock form: pg_try_advisory_lock(0x5EED, key).
RUN_LOCK_CLASS = 0x5EED
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
PRODUCTION_SELECTOR = "production"
PHASES = ("load", "freshness", "build", "docs")
PAUSE_HOOK = "SEEDS_PIPELINE"  # seedsmetrics.pause
# the server cancels a query whose client went away within this interval (PostgreSQL >= 14)
CLIENT_CHECK_INTERVAL = "2s"
# how long dbt gets to cancel its queries after SIGINT before it is killed
CHILD_GRACE_SECONDS = 30

# A failed first `dbt build` is retried (once, with `dbt retry`) only when an error looks like the
# connection or the server, not like our SQL or our data: one of these in an errored node's message,
# or in dbt's output when it died before writing run_results.json. Failed tests are never transient.
TRANSIENT_PATTERNS = (
    "could not connect to server",
    "connection refused",
    "connection timed out",
    "timeout expired",
    "server closed the connection unexpectedly",
    "terminating connection",
    "connection already closed",
    "no connection to the server",
    "could not receive data from server",
    "could not send data to server",
    "ssl syscall error",
    "ssl connection has been closed unexpectedly",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "too many connections",
    "remaining connection slots are reserved",
    "deadlock detected",
    "could not serialize access",
    "canceling statement due to conflict with recovery",
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="production run: load, source freshness, dbt build, docs, under one lock",
        description=__doc__.split("\n\n")[0], epilog="exit codes: 0 ok, 1 failed, 2 bad input, 75 locked "
        "(another run is in progress), 130/143 interrupted", formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", default=None, help="dbt profile target (default $SEEDS_TARGET or dev)")
    parser.add_argument("--source-url", default=None,
                        help="the Django source database for the loader (default $SOURCE_DATABASE_URL)")
    parser.add_argument("--raw-schema", default=None,
                        help="schema of the raw copies (default $SEEDS_RAW_SCHEMA or raw)")
    parser.add_argument("--as-of", default=None,
                        help="day the metrics report on, YYYY-MM-DD (default: today in the business time zone)")
    parser.add_argument("--vars", default=None, help="more dbt vars, a YAML mapping (override the run's own)")
    parser.add_argument("--select", default=None,
                        help="build only this dbt selection instead of the production selector (no state saved)")
    parser.add_argument("--full-refresh", action="store_true", help="rebuild incremental models from scratch")
    parser.add_argument("--skip-load", action="store_true", help="do not run the loader")
    parser.add_argument("--skip-freshness", action="store_true", help="do not check source freshness")
    parser.add_argument("--allow-stale", action="store_true",
                        help="build even when source freshness is past its error threshold")
    parser.add_argument("--skip-docs", action="store_true", help="do not generate the docs site")
    parser.add_argument("--no-retry", action="store_true", help="never `dbt retry` a failed build")
    parser.add_argument("--target-path", default=os.environ.get("DBT_TARGET_PATH", "target"),
                        help="dbt artifacts folder, relative to the project (default target)")
    parser.add_argument("--log-path", default=os.environ.get("DBT_LOG_PATH", "logs"),
                        help="dbt log folder, relative to the project (default logs)")
    parser.add_argument("--state-dir", default=os.environ.get("SEEDS_STATE_DIR"),
                        help="where a green full build's manifest.json is kept for slim CI "
                             "(default .warehouse/state/<target>)")
    parser.add_argument("--log-format", choices=["kv", "json"], default=os.environ.get("SEEDS_LOG_FORMAT", "kv"),
                        help="structured log lines on stderr: key=value (default) or JSON")
    parser.set_defaults(func=run)


# ---------------------------------------------------------------------------------------------
# dbt artifacts


def summarize_run_results(results: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Counts of node statuses per resource type: {"model": {"success": 40}, "test": {"pass": 9, ...}}."""
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for result in results:
        resource_type = str(result.get("unique_id", "unknown.")).split(".", 1)[0]
        counts[resource_type][str(result.get("status"))] += 1
    return {kind: dict(sorted(counter.items())) for kind, counter in sorted(counts.items())}


def merge_retry(first: list[dict[str, Any]], retried: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The build's results with the nodes `dbt retry` ran again replaced by their new results."""
    by_id = {result["unique_id"]: result for result in first}
    by_id.update({result["unique_id"]: result for result in retried})
    return list(by_id.values())


def is_transient(results: list[dict[str, Any]] | None, output_tail: str = "") -> bool:
    """Whether a failed build is worth one `dbt retry` (see TRANSIENT_PATTERNS)."""
    if results is None:  # dbt died before writing run_results.json: judge by its output
        return _matches_transient(output_tail)
    return any(result.get("status") in ("error", "runtime error")
               and _matches_transient(str(result.get("message") or "")) for result in results)


def _matches_transient(text: str) -> bool:
    lowered = text.lower()
    return any(pattern in lowered for pattern in TRANSIENT_PATTERNS)


def read_results(path: Path) -> list[dict[str, Any]] | None:
    try:
        return list(json.loads(path.read_text()).get("results", []))
    except (OSError, ValueError):
        return None


def freshness_counts(sources_json: Path) -> tuple[dict[str, int], list[str]]:
    """Counts of freshness statuses and the names of the sources not passing."""
    results = read_results(sources_json) or []
    counts = collections.Counter(str(result.get("status")) for result in results)
    stale = sorted(f"{result.get('unique_id', '').removeprefix('source.seeds_metrics.')}:{result.get('status')}"
                   for result in results if result.get("status") != "pass")
    return dict(sorted(counts.items())), stale


# ---------------------------------------------------------------------------------------------
# child processes (loader, dbt): streamed, killed with the runner, cancelled on SIGINT/SIGTERM


class Interrupted(Exception):
    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.exit_code = EXIT_INTERRUPTED if signum == signal.SIGINT else EXIT_TERMINATED


def _raise_interrupted(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


def _child_setup(parent_pid: int) -> None:
    """In the child before exec: die with the runner (Linux), even when it is SIGKILLed."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent_pid:  # the runner died before prctl took effect
            os._exit(EXIT_TERMINATED)


@dataclass
class ChildResult:
    returncode: int
    tail: str
    pid: int


def run_child(argv: list[str], env: dict[str, str], cwd: Path, log: Log, phase: str) -> ChildResult:
    """Run a child, copy its output to our stdout and keep the last lines for diagnosis."""
    parent = os.getpid()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, text=True, errors="replace", bufsize=1,
                               start_new_session=True, preexec_fn=lambda: _child_setup(parent))
    words = [Path(argv[0]).name, *(arg for arg in argv[1:4] if not arg.startswith("-"))][:3]
    log("child_started", phase=phase, pid=process.pid, command=" ".join(words))
    tail: collections.deque[str] = collections.deque(maxlen=200)
    sink = sys.stdout
    try:
        assert process.stdout is not None
        for line in process.stdout:
            sink.write(line)
            sink.flush()  # live in a log file or the journal, not only at the end
            tail.append(line)
        returncode = process.wait()
    except BaseException:
        _stop_child(process, log, phase)
        raise
    return ChildResult(returncode, "".join(tail), process.pid)


def _stop_child(process: subprocess.Popen[str], log: Log, phase: str) -> None:
    if process.poll() is not None:
        return
    log("child_cancel", level="warning", phase=phase, pid=process.pid)
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(signal.SIGINT)  # dbt cancels its open queries on SIGINT
    try:
        process.wait(timeout=CHILD_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# ---------------------------------------------------------------------------------------------
# the run lock


def lock_key(schema: str) -> int:
    """Second half of the run lock: stable across processes, hosts and PostgreSQL versions."""
    return zlib.crc32(schema.encode()) & 0x7FFFFFFF


class RunLock:
    """pg_try_advisory_lock(RUN_LOCK_CLASS, lock_key(schema)) on a session kept for the whole run."""

    def __init__(self, target: settings.Target):
        self.target = target
        # what the run writes: the prefixed schemas of dev/ci (<schema>_marts, ...), or on prod the
        # plain schema names whatever WAREHOUSE_SCHEMA says (macros/generate_schema_name.sql)
        self.key = lock_key("prod" if target.name == "prod" else target.schema)
        self.conn: Any = None

    def acquire(self) -> None:
        import psycopg

        try:
            # keepalives: a dead runner host frees the lock within minutes, and no middlebox drops
            # the idle lock session during a long build
            self.conn = psycopg.connect(self.target.conninfo("seedsmetrics run lock"), autocommit=True,
                                        keepalives=1, keepalives_idle=30, keepalives_interval=10,
                                        keepalives_count=6)
        except psycopg.OperationalError as error:
            hidden = [self.target.password] if self.target.password else []
            raise UserError(f"cannot connect to the warehouse {self.target.describe()}: "
                            f"{first_line(error, hidden)}") from None
        # the lock session idles for hours: no server-side timeout may end it
        for setting in ("idle_session_timeout", "idle_in_transaction_session_timeout", "statement_timeout"):
            with contextlib.suppress(psycopg.Error):
                self.conn.execute(f"set {setting} = 0")
        got = self.conn.execute("select pg_try_advisory_lock(%s::int4, %s::int4)",
                                [RUN_LOCK_CLASS, self.key]).fetchone()[0]
        if not got:
            holder = self.holder()
            self.close()
            raise RunLocked(f"another run holds the run lock on {self.target.dbname} (schema "
                            f"{self.target.schema}{holder}); nothing was done, try again later")

    def holder(self) -> str:
        with contextlib.suppress(Exception):
            row = self.conn.execute(
                """select a.pid, a.backend_start, a.client_addr
                   from pg_locks as l join pg_stat_activity as a on a.pid = l.pid
                   where l.locktype = 'advisory' and l.granted and l.objsubid = 2
                     and l.classid::bigint = %s and l.objid::bigint = %s""", [RUN_LOCK_CLASS, self.key]).fetchone()
            if row:
                return f", held by backend {row[0]} since {row[1]:%Y-%m-%d %H:%M:%S %Z} from {row[2] or 'local'}"
        return ""

    def held(self) -> bool:
        """Whether our session still holds the lock (it is lost only if the session died)."""
        try:
            return bool(self.conn.execute(
                """select exists (select 1 from pg_locks where locktype = 'advisory' and granted
                   and pid = pg_backend_pid() and objsubid = 2 and classid::bigint = %s and objid::bigint = %s)""",
                [RUN_LOCK_CLASS, self.key]).fetchone()[0])
        except Exception:  # noqa: BLE001 - a dead session holds nothing
            return False

    def server_version(self) -> int:
        return int(self.conn.info.server_version)

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None


# ---------------------------------------------------------------------------------------------
# the run


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
    build_results: list[dict[str, Any]] | None = None
    retried: bool = False
    state_saved: Path | None = None
    lock: RunLock | None = None
    dbt_env: dict[str, str] = field(default_factory=dict)

    # -- helpers ----------------------------------------------------------------------------

    def dbt_argv(self, *command: str) -> list[str]:
        return [dbt_runner.dbt_executable(), "--no-use-colors", *command, "--target", self.target.name,
                "--target-path", str(self.target_path), "--log-path", str(self.log_path)]

    def vars_arg(self) -> list[str]:
        return ["--vars", json.dumps(self.dbt_vars, default=str)]

    def dbt(self, phase: str, *command: str) -> ChildResult:
        return run_child(self.dbt_argv(*command), self.dbt_env, self.project_dir, self.log, phase)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[PhaseResult]:
        pause(name, self.log)
        if self.lock is not None and not self.lock.held():
            raise UserError("the run lock's session was lost; stopping so that no other run overlaps",
                            EXIT_FAILED)
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
            result.duration_s = round(time.monotonic() - started, 2)
            self.phases[name] = result
            self.log("phase", level="info" if result.status in ("ok", "skipped") else "warning",
                     phase=name, status=result.status, duration_s=result.duration_s, **result.details)

    def skip(self, name: str, reason: str) -> None:
        self.phases[name] = PhaseResult("skipped", details={"reason": reason})
        self.log("phase", phase=name, status="skipped", reason=reason)

    # -- phases -----------------------------------------------------------------------------

    def load(self) -> int:
        from seedsmetrics.loader import run_load
        from seedsmetrics.loader.progress import LOGGER, Progress

        with self.phase("load") as result:
            source_url = (self.args.source_url or os.environ.get("SOURCE_DATABASE_URL")
                          or settings.embedded_source_url())
            result.details.update(source=describe_url(source_url), raw_schema=self.raw_schema)
            try:
                loaded = run_load(source_url=source_url, target=self.target.name, raw_schema=self.raw_schema,
                                  progress=Progress(log=self.log.named(LOGGER)))
            except RunLocked as error:
                result.status = "locked"
                result.details["reason"] = str(error)
                return EXIT_LOCKED
            except UserError as error:
                result.status = "failed"
                result.details["reason"] = str(error)
                return error.exit_code
            self.rows_loaded = loaded.rows_written
            result.details.update(load_run_id=loaded.run_id, rows_read=loaded.rows_read,
                                  rows_loaded=loaded.rows_written)
        return EXIT_OK

    def freshness(self) -> int:
        with self.phase("freshness") as result:
            sources_json = self.target_path_abs / "sources.json"
            sources_json.unlink(missing_ok=True)
            child = self.dbt("freshness", "source", "freshness", *self.vars_arg())
            counts, stale = freshness_counts(sources_json)
            result.details.update(exit_code=child.returncode, counts=counts, stale=stale or None)
            if counts.get("runtime error") or (child.returncode != 0 and not counts):
                result.status = "failed"
                return EXIT_FAILED
            if counts.get("error"):
                if not self.args.allow_stale:
                    result.status = "failed"
                    result.details["reason"] = ("raw data older than freshness_error_after_hours "
                                                "(--allow-stale builds anyway)")
                    return EXIT_FAILED
                result.status = "warn"
            elif counts.get("warn"):
                result.status = "warn"
        return EXIT_OK

    def build(self) -> int:
        with self.phase("build") as result:
            run_results = self.target_path_abs / "run_results.json"
            run_results.unlink(missing_ok=True)  # never read a previous run's results
            if self.args.select:
                selection = ["--select", self.args.select, "--exclude-resource-type", "unit_test"]
            else:
                selection = ["--selector", PRODUCTION_SELECTOR]
            command = ["build", *selection, *self.vars_arg()]
            if self.args.full_refresh:
                command.append("--full-refresh")
            child = self.dbt("build", *command)
            results = read_results(run_results)
            if child.returncode != 0 and not self.args.no_retry and is_transient(results, child.tail):
                self.log("retry", level="warning", phase="build", first_exit_code=child.returncode,
                         reason="transient error (connection or server)")
                self.retried = True
                if results is None:  # nothing to retry from: build again
                    child = self.dbt("build", *command)
                    results = read_results(run_results)
                else:
                    shutil.copyfile(run_results, self.target_path_abs / "run_results_build_attempt1.json")
                    child = self.dbt("build", "retry")
                    retried = read_results(run_results)
                    results = merge_retry(results, retried or [])
            self.build_results = results
            if results is not None:
                (self.target_path_abs / "run_results_build.json").write_text(
                    json.dumps({"results": results}, default=str))
            counts = summarize_run_results(results or [])
            result.details.update(exit_code=child.returncode, retried=self.retried, **_flat_counts(counts))
            if child.returncode != 0:
                result.status = "failed"
                failed = [r["unique_id"] for r in results or [] if r.get("status") in ("error", "fail")]
                result.details["failed_nodes"] = failed[:10] or None
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

    @property
    def target_path_abs(self) -> Path:
        return self.target_path if self.target_path.is_absolute() else self.project_dir / self.target_path

    # -- the whole run ----------------------------------------------------------------------

    def execute(self) -> int:
        if self.args.skip_load:
            self.skip("load", "--skip-load")
        else:
            code = self.load()
            if code:
                return code
        if self.args.skip_freshness:
            self.skip("freshness", "--skip-freshness")
        else:
            code = self.freshness()
            if code:
                return code
        code = self.build()
        if code:
            self.skip("docs", "build failed")
            return code
        if self.args.skip_docs:
            self.skip("docs", "--skip-docs")
            return EXIT_OK
        return self.docs()

    def summary(self, exit_code: int, status: str) -> dict[str, Any]:
        counts = summarize_run_results(self.build_results or [])
        return {
            "run_id": self.run_id,
            "status": status,
            "exit_code": exit_code,
            "target": self.target.name,
            "warehouse": self.target.describe(),
            "raw_schema": self.raw_schema,
            "as_of_date": self.as_of.isoformat(),
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "duration_s": round(time.monotonic() - self.started, 2),
            "rows_loaded": self.rows_loaded,
            "models": counts.get("model", {}),
            "tests": counts.get("test", {}),
            "seeds": counts.get("seed", {}),
            "snapshots": counts.get("snapshot", {}),
            "retried": self.retried,
            "phases": {name: {"status": phase.status, "duration_s": phase.duration_s, **phase.details}
                       for name, phase in self.phases.items()},
            "state_manifest": str(self.state_saved) if self.state_saved else None,
            "artifacts": str(self.target_path_abs),
        }


def _flat_counts(counts: dict[str, dict[str, int]]) -> dict[str, int]:
    """{"model": {"success": 3}} -> {"model_success": 3} (one log field per count)."""
    return {f"{kind}_{status}".replace(" ", "_").replace("-", "_"): number
            for kind, statuses in counts.items() for status, number in statuses.items()}


def pause(phase: str, log: Log) -> None:
    """Test hook: hold the run (and its lock) before `phase` (see the module docstring)."""
    pause_at(phase, PAUSE_HOOK, log, default_seconds=60)


def business_today(project_dir: Path) -> date:
    """Today in the project's business time zone (dbt var business_timezone)."""
    try:
        project = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
        zone = str((project.get("vars") or {}).get("business_timezone") or "Africa/Lagos")
    except (OSError, yaml.YAMLError):
        zone = "Africa/Lagos"
    return datetime.now(ZoneInfo(zone)).date()


def parse_vars(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UserError(f"--vars is not valid YAML: {str(error).splitlines()[0]}") from None
    if not isinstance(value, dict):
        raise UserError("--vars must be a YAML mapping, e.g. '{incremental_lookback_days: 5}'")
    return value


def new_run_id() -> str:
    return f"run-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def run(args: argparse.Namespace) -> int:
    run_id = new_run_id()
    log = Log(args.log_format, run_id=run_id)
    started = time.monotonic()
    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        raise UserError(f"invalid --as-of {args.as_of!r} (expected YYYY-MM-DD)") from None
    extra_vars = parse_vars(args.vars)
    target = settings.resolve_target(args.target)
    project_dir = warehouse.project_root()
    # resolved once, so freshness, build, a retry after midnight and docs agree on the day
    as_of = as_of or business_today(project_dir)
    raw_schema = args.raw_schema or os.environ.get("SEEDS_RAW_SCHEMA") or "raw"
    state_dir = Path(args.state_dir) if args.state_dir else warehouse.home() / "state" / target.name
    run_ = Run(args=args, target=target, log=log, run_id=run_id, project_dir=project_dir,
               target_path=Path(args.target_path), log_path=Path(args.log_path),
               state_dir=state_dir if state_dir.is_absolute() else project_dir / state_dir,
               raw_schema=raw_schema, as_of=as_of,
               dbt_vars={"raw_schema": raw_schema, "as_of_date": as_of.isoformat(), **extra_vars})
    log("run_start", target=target.name, warehouse=target.describe(), raw_schema=raw_schema,
        as_of_date=as_of.isoformat(), pid=os.getpid())

    lock = RunLock(target)
    lock_started = time.monotonic()
    try:
        lock.acquire()
    except RunLocked:
        log("phase", level="warning", phase="lock", status="locked",
            duration_s=round(time.monotonic() - lock_started, 2))
        log("summary", level="warning", status="locked", exit_code=EXIT_LOCKED,
            duration_s=round(time.monotonic() - started, 2))
        raise
    run_.lock = lock
    run_.phases["lock"] = PhaseResult("ok", round(time.monotonic() - lock_started, 2),
                                      {"lock": f"{RUN_LOCK_CLASS},{lock.key}"})
    log("phase", phase="lock", status="ok", duration_s=run_.phases["lock"].duration_s,
        lock=f"{RUN_LOCK_CLASS},{lock.key}")

    env = os.environ.copy()
    if lock.server_version() >= 140000:
        check = f"-c client_connection_check_interval={CLIENT_CHECK_INTERVAL}"
        env["PGOPTIONS"] = f"{env.get('PGOPTIONS', '')} {check}".strip()
    run_.dbt_env = env
    run_.target_path_abs.mkdir(parents=True, exist_ok=True)

    previous = {sig: signal.signal(sig, _raise_interrupted) for sig in (signal.SIGTERM, signal.SIGINT)}
    status, code, propagating = "failed", EXIT_FAILED, False
    try:
        code = run_.execute()
        status = {EXIT_OK: "success", EXIT_LOCKED: "locked"}.get(code, "failed")
        if code == EXIT_OK and not lock.held():
            status, code = "failed", EXIT_FAILED
            log("lock_lost", level="error")
        return code
    except Interrupted as interrupted:
        status, code = "interrupted", interrupted.exit_code
        log("interrupted", level="error", signal=str(interrupted))
        return code
    except UserError as error:  # printed by the CLI as the one error line
        status, code, propagating = "failed", error.exit_code, True
        raise
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        summary = run_.summary(code, status)
        with contextlib.suppress(OSError):
            (run_.target_path_abs / "pipeline_summary.json").write_text(json.dumps(summary, indent=2, default=str))
        log("summary", level="info" if code == EXIT_OK else "error", status=status, exit_code=code,
            duration_s=summary["duration_s"], rows_loaded=summary["rows_loaded"],
            **_flat_counts({"model": summary["models"], "test": summary["tests"]}), retried=run_.retried)
        print_summary(summary)
        if code != EXIT_OK and status != "interrupted" and not propagating:
            print(f"seedsmetrics: error: {failure_line(summary)}", file=sys.stderr, flush=True)
        lock.close()


def failure_line(summary: dict[str, Any]) -> str:
    """One line saying where and why a run failed (for the operator and the scheduler's mail)."""
    failed = [(name, phase) for name, phase in summary["phases"].items() if phase["status"] in ("failed", "locked")]
    if not failed:
        return f"run {summary['status']} (exit {summary['exit_code']})"
    name, phase = failed[-1]
    if phase.get("reason") and name != "freshness":
        why = phase["reason"]
    elif name == "freshness":
        why = f"raw data stale or unreadable: {', '.join(phase.get('stale') or []) or 'see dbt output'}"
    elif name == "build":
        models, tests = summary["models"], summary["tests"]
        why = (f"{models.get('error', 0)} model errors, {tests.get('fail', 0)} tests failed, "
               f"{tests.get('error', 0)} test errors, {models.get('skipped', 0)} models skipped "
               f"(first: {', '.join(phase.get('failed_nodes') or ['-'])}); the last good data stays published")
    else:
        why = f"dbt exit {phase.get('exit_code')}"
    return f"run failed in phase {name}: {why}"


def print_summary(summary: dict[str, Any]) -> None:
    models, tests = summary["models"], summary["tests"]
    lines = [
        "",
        f"Run {summary['run_id']}: {summary['status']} (exit {summary['exit_code']}) in {summary['duration_s']:.1f}s",
        f"  warehouse:    {summary['warehouse']}, as of {summary['as_of_date']}",
        f"  rows loaded:  {summary['rows_loaded'] if summary['rows_loaded'] is not None else '-'}",
        f"  models:       {models.get('success', 0)} built, {models.get('error', 0)} errors, "
        f"{models.get('skipped', 0)} skipped",
        f"  tests:        {tests.get('pass', 0)} passed, {tests.get('warn', 0)} warned, "
        f"{tests.get('fail', 0)} failed, {tests.get('error', 0)} errors, {tests.get('skipped', 0)} skipped",
        "  phases:       " + ", ".join(f"{name} {phase['status']} {phase['duration_s']:.1f}s"
                                        for name, phase in summary["phases"].items()),
        f"  artifacts:    {summary['artifacts']}" + (f" (state: {summary['state_manifest']})"
                                                     if summary["state_manifest"] else ""),
    ]
    print("\n".join(lines), flush=True)
