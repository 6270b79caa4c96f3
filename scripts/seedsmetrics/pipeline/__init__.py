"""`seedsmetrics run`: the production pipeline, one command for a scheduler to call.

Phases, in order, all under ONE run lock:

    lock       pg_try_advisory_lock(RUN_LOCK_CLASS, crc32(target schema)) on a dedicated session
               of the warehouse database (one run at a time per database and target schema; CI
               and dev schemas do not block production), held until the process ends (a killed
               runner frees it at once: the server ends the session when the socket closes).
               Taken without waiting: a second run exits 75 immediately and touches nothing, not
               even the artifacts under --target-path.
    load       the loader (`seedsmetrics load`, in-process, with its own lock; see LOADER below)
    freshness  `dbt source freshness` on raw._loaded_at (stale raw data stops the run before the
               build: metrics computed from yesterday's repayments would show false arrears)
    build      `dbt build --selector production` (selectors.yml: everything but dbt unit tests,
               which CI runs); once more as `dbt retry` when the first attempt failed transiently
               (see is_transient)
    docs       `dbt docs generate --static`, only after a green build
    state      the build's manifest.json copied to --state-dir, only after a green full build: the
               production state slim CI defers to (`make ci-slim`)

A failed run never publishes half a day of metrics:
  - `dbt build` runs each model's tests right after the model and SKIPS every model downstream of a
    failed (error-severity) test or model, so a bad input never reaches the marts;
  - a table model is rebuilt as `<name>__dbt_tmp` and swapped in by rename inside one transaction,
    so readers see the old table until the commit and a killed build leaves the old table in place;
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
logged (user, host and database names only). Artifacts stay under --target-path: run_results.json
(of the last dbt phase), run_results_build.json, sources.json, manifest.json and
pipeline_summary.json.

LOADER: the run calls the loader's public API (`seedsmetrics.loader.run_load`) in-process, on the
run's target and raw schema. The loader takes its own advisory lock per raw schema with the single
bigint key form (pg_locks.objsubid = 1); the run lock uses the two-int form (objsubid = 2), a
separate key space, and the loader never waits for a lock, so the two can neither collide nor
deadlock. A standalone `seedsmetrics load` holding the loader's lock makes the run exit 75.

Test hooks (never needed in production; seedsmetrics.pause): SEEDS_PIPELINE_PAUSE_AT=<phase>
pauses before that phase (lock held) while the file named by SEEDS_PIPELINE_PAUSE_FILE exists, or
for SEEDS_PIPELINE_PAUSE_SECONDS (default 60) when no file is named.

Modules, one concern each:
    cli        the `run` subcommand: its arguments, the run's settings, the whole run in steps
    lock       the run lock (an advisory lock on a session kept for the whole run)
    phases     the Run: its phases (load, freshness, build with retry, docs, state) in order
    artifacts  reading and judging dbt's artifacts (run_results.json, sources.json)
    children   dbt as a child process: output streamed, killed with the runner, cancelled on signals
    summary    the run summary: pipeline_summary.json, the summary log line, the human summary
Shared with the loader: seedsmetrics.logs (the structured logger), seedsmetrics.redact (text safe
to print), seedsmetrics.pause (the test hook).
"""

from seedsmetrics.pipeline.cli import register, run

__all__ = ["register", "run"]
