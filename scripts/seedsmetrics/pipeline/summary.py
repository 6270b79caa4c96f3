"""The run summary, said three ways at the end of every run that took the lock:
pipeline_summary.json under --target-path, the `summary` log line on stderr, and a short human
summary on stdout; a failed run adds its one `seedsmetrics: error:` line."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any

from seedsmetrics.errors import EXIT_OK
from seedsmetrics.logs import elapsed
from seedsmetrics.pipeline.artifacts import flat_counts, summarize_run_results
from seedsmetrics.pipeline.phases import Run

Summary = dict[str, Any]


def report(run: Run, exit_code: int, status: str, error_line: bool) -> Summary:
    """Write, log and print the summary; with `error_line`, the one error line of a failed run."""
    summary = build_summary(run, exit_code, status)
    with contextlib.suppress(OSError):
        (run.target_path_abs / "pipeline_summary.json").write_text(
            json.dumps(summary, indent=2, default=str))
    run.log("summary", level="info" if exit_code == EXIT_OK else "error", status=status,
            exit_code=exit_code, duration_s=summary["duration_s"],
            rows_loaded=summary["rows_loaded"],
            **flat_counts({"model": summary["models"], "test": summary["tests"]}),
            retried=run.retried)
    print_summary(summary)
    if error_line:
        print(f"seedsmetrics: error: {failure_line(summary)}", file=sys.stderr, flush=True)
    return summary


def build_summary(run: Run, exit_code: int, status: str) -> Summary:
    counts = summarize_run_results(run.build_results or [])
    return {
        "run_id": run.run_id,
        "status": status,
        "exit_code": exit_code,
        "target": run.target.name,
        "warehouse": run.target.describe(),
        "raw_schema": run.raw_schema,
        "as_of_date": run.as_of.isoformat(),
        "started_at": run.started_at.isoformat(timespec="seconds"),
        "duration_s": elapsed(run.started),
        "rows_loaded": run.rows_loaded,
        "models": counts.get("model", {}),
        "tests": counts.get("test", {}),
        "seeds": counts.get("seed", {}),
        "snapshots": counts.get("snapshot", {}),
        "retried": run.retried,
        "phases": {name: {"status": phase.status, "duration_s": phase.duration_s, **phase.details}
                   for name, phase in run.phases.items()},
        "state_manifest": str(run.state_saved) if run.state_saved else None,
        "artifacts": str(run.target_path_abs),
    }


def failure_line(summary: Summary) -> str:
    """One line saying where and why a run failed (for the operator and the scheduler's mail)."""
    failed = [(name, phase) for name, phase in summary["phases"].items()
              if phase["status"] in ("failed", "locked")]
    if not failed:
        return f"run {summary['status']} (exit {summary['exit_code']})"
    name, phase = failed[-1]
    return f"run failed in phase {name}: {_why(name, phase, summary)}"


def _why(name: str, phase: dict[str, Any], summary: Summary) -> str:
    if phase.get("reason") and name != "freshness":
        return str(phase["reason"])
    if name == "freshness":
        stale = ", ".join(phase.get("stale") or []) or "see dbt output"
        return f"raw data stale or unreadable: {stale}"
    if name == "build":
        models, tests = summary["models"], summary["tests"]
        first = ", ".join(phase.get("failed_nodes") or ["-"])
        return (f"{models.get('error', 0)} model errors, {tests.get('fail', 0)} tests failed, "
                f"{tests.get('error', 0)} test errors, {models.get('skipped', 0)} models skipped "
                f"(first: {first}); the last good data stays published")
    return f"dbt exit {phase.get('exit_code')}"


def print_summary(summary: Summary) -> None:
    models, tests = summary["models"], summary["tests"]
    phases = ", ".join(f"{name} {phase['status']} {phase['duration_s']:.1f}s"
                       for name, phase in summary["phases"].items())
    state = f" (state: {summary['state_manifest']})" if summary["state_manifest"] else ""
    rows = summary["rows_loaded"] if summary["rows_loaded"] is not None else "-"
    lines = [
        "",
        f"Run {summary['run_id']}: {summary['status']} (exit {summary['exit_code']}) "
        f"in {summary['duration_s']:.1f}s",
        f"  warehouse:    {summary['warehouse']}, as of {summary['as_of_date']}",
        f"  rows loaded:  {rows}",
        f"  models:       {models.get('success', 0)} built, {models.get('error', 0)} errors, "
        f"{models.get('skipped', 0)} skipped",
        f"  tests:        {tests.get('pass', 0)} passed, {tests.get('warn', 0)} warned, "
        f"{tests.get('fail', 0)} failed, {tests.get('error', 0)} errors, "
        f"{tests.get('skipped', 0)} skipped",
        f"  phases:       {phases}",
        f"  artifacts:    {summary['artifacts']}{state}",
    ]
    print("\n".join(lines), flush=True)
