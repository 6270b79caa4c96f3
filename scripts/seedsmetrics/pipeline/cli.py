"""`seedsmetrics run`: the production pipeline, one command for a scheduler to call.

This module: the subcommand's arguments, the run's settings resolved from them once, and the
whole run in its steps (lock, phases, summary). See the package docstring for the phases.
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from seedsmetrics import settings, warehouse
from seedsmetrics.errors import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, UserError
from seedsmetrics.logs import LOG_FORMATS, Log
from seedsmetrics.pipeline.children import Interrupted, signals_interrupt
from seedsmetrics.pipeline.lock import RunLock
from seedsmetrics.pipeline.phases import Run
from seedsmetrics.pipeline.summary import report

DEFAULT_TIMEZONE = "Africa/Lagos"
EPILOG = ("exit codes: 0 ok, 1 failed, 2 bad input, 75 locked (another run is in progress), "
          "130/143 interrupted")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="production run: load, source freshness, dbt build, docs, under one lock",
        description=__doc__.split("\n\n")[0], epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--target", default=None, help="dbt profile target (default $SEEDS_TARGET or dev)")
    add("--source-url", default=None,
        help="the Django source database for the loader (default $SOURCE_DATABASE_URL)")
    add("--raw-schema", default=None,
        help="schema of the raw copies (default $SEEDS_RAW_SCHEMA or raw)")
    add("--as-of", default=None,
        help="day the metrics report on, YYYY-MM-DD (default: today in the business time zone)")
    add("--vars", default=None, help="more dbt vars, a YAML mapping (override the run's own)")
    add("--select", default=None,
        help="build only this dbt selection instead of the production selector (no state saved)")
    add("--full-refresh", action="store_true", help="rebuild incremental models from scratch")
    add("--skip-load", action="store_true", help="do not run the loader")
    add("--skip-freshness", action="store_true", help="do not check source freshness")
    add("--allow-stale", action="store_true",
        help="build even when source freshness is past its error threshold")
    add("--skip-docs", action="store_true", help="do not generate the docs site")
    add("--no-retry", action="store_true", help="never `dbt retry` a failed build")
    add("--target-path", default=os.environ.get("DBT_TARGET_PATH", "target"),
        help="dbt artifacts folder, relative to the project (default target)")
    add("--log-path", default=os.environ.get("DBT_LOG_PATH", "logs"),
        help="dbt log folder, relative to the project (default logs)")
    add("--state-dir", default=os.environ.get("SEEDS_STATE_DIR"),
        help="where a green full build's manifest.json is kept for slim CI "
             "(default .warehouse/state/<target>)")
    add("--log-format", choices=list(LOG_FORMATS),
        default=os.environ.get("SEEDS_LOG_FORMAT", "kv"),
        help="structured log lines on stderr: key=value (default) or JSON")
    parser.set_defaults(func=run)


# ---------------------------------------------------------------------------------------------
# the whole run


def run(args: argparse.Namespace) -> int:
    run_id = new_run_id()
    log = Log(args.log_format, run_id=run_id)
    run_ = prepare(args, log, run_id, started=time.monotonic())
    log("run_start", target=run_.target.name, warehouse=run_.target.describe(),
        raw_schema=run_.raw_schema, as_of_date=run_.as_of.isoformat(), pid=os.getpid())
    lock = run_.take_lock()
    run_.prepare_dbt(lock.server_version())
    return execute(run_, lock)


def execute(run_: Run, lock: RunLock) -> int:
    """The phases under the lock, then the summary whatever happened; the exit code."""
    status, code, propagating = "failed", EXIT_FAILED, False
    try:
        with signals_interrupt():
            status, code = outcome(run_, lock)
        return code
    except UserError as error:  # printed by the CLI as the one error line
        status, code, propagating = "failed", error.exit_code, True
        raise
    finally:
        error_line = code != EXIT_OK and status != "interrupted" and not propagating
        report(run_, code, status, error_line)
        lock.close()


def outcome(run_: Run, lock: RunLock) -> tuple[str, int]:
    """(status, exit code) of the phases; an interruption is an outcome, not an error."""
    try:
        code = run_.execute()
    except Interrupted as interrupted:
        run_.log("interrupted", level="error", signal=str(interrupted))
        return "interrupted", interrupted.exit_code
    if code == EXIT_OK and not lock.held():
        run_.log("lock_lost", level="error")
        return "failed", EXIT_FAILED
    return {EXIT_OK: "success", EXIT_LOCKED: "locked"}.get(code, "failed"), code


# ---------------------------------------------------------------------------------------------
# the run's settings, resolved once from the arguments and the environment


def prepare(args: argparse.Namespace, log: Log, run_id: str, started: float) -> Run:
    as_of = parse_as_of(args.as_of)
    extra_vars = parse_vars(args.vars)
    target = settings.resolve_target(args.target)
    project_dir = warehouse.project_root()
    # resolved once, so freshness, build, a retry after midnight and docs agree on the day
    as_of = as_of or business_today(project_dir)
    raw_schema = args.raw_schema or os.environ.get("SEEDS_RAW_SCHEMA") or "raw"
    return Run(args=args, target=target, log=log, run_id=run_id, project_dir=project_dir,
               target_path=Path(args.target_path), log_path=Path(args.log_path),
               state_dir=state_dir(args.state_dir, target, project_dir),
               raw_schema=raw_schema, as_of=as_of, started=started,
               dbt_vars={"raw_schema": raw_schema, "as_of_date": as_of.isoformat(), **extra_vars})


def new_run_id() -> str:
    return f"run-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def parse_as_of(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        raise UserError(f"invalid --as-of {text!r} (expected YYYY-MM-DD)") from None


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


def business_today(project_dir: Path) -> date:
    """Today in the project's business time zone (dbt var business_timezone)."""
    try:
        project = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
        zone = str((project.get("vars") or {}).get("business_timezone") or DEFAULT_TIMEZONE)
    except (OSError, yaml.YAMLError):
        zone = DEFAULT_TIMEZONE
    return datetime.now(ZoneInfo(zone)).date()


def state_dir(given: str | None, target: settings.Target, project_dir: Path) -> Path:
    """--state-dir (relative to the project), or .warehouse/state/<target>."""
    path = Path(given) if given else warehouse.home() / "state" / target.name
    return path if path.is_absolute() else project_dir / path
