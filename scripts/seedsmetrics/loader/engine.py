"""One load run: lock, snapshot, plan, copy (concurrently), publish atomically, clean up.

Sequence and why:
1. Session advisory lock on the warehouse (per database and raw schema): one run at a time; a
   second run exits at once with code 75.
2. A coordinator transaction on the source, REPEATABLE READ READ ONLY, exports its snapshot; every
   worker imports it (SET TRANSACTION SNAPSHOT), so all tables are read at one point in time even
   on several connections. Nothing is ever written to the source.
3. Each table is copied into a new table on a worker's warehouse connection: full mode into a new
   shadow table of the internal schema (COPY ... FREEZE into a table created in the same
   transaction, primary key built after the load, then ANALYZE), incremental mode into a delta
   table (temporary on the coordinator's session, unlogged on the others). Those commits publish
   nothing: no view points at them yet. Big full copies get a worker each (--jobs); worker 0 uses
   the coordinator's own connections, so a small incremental run opens no other connection.
4. One warehouse transaction publishes everything: views re-pointed to the new shadows, deltas
   MERGEd into the current shadows, high-water marks and audit rows updated. A failure or a kill
   at any earlier point leaves the previous copies untouched; the next run drops the leftovers.
5. Old shadows and deltas are dropped after the commit (postponed if a reader still has them open).

Incremental window: rows with cursor >= (stored high-water mark - overlap). The stored mark is
least(max(cursor) in the snapshot, the snapshot's start on the source clock): rows committed after
the snapshot with an earlier cursor value (long transactions, app-server clock skew) fall inside the
next run's overlap, and `>=` with a primary-key upsert makes equal timestamps harmless. Hard deletes
and updates that bypass Django's auto_now are caught by the periodic full copy (`--full`, or
automatically when the last full copy is older than `reconcile_after`).

Test hook (seedsmetrics.pause): SEEDS_LOADER_PAUSE_AT=<phase> makes the process log
`event=paused phase=<phase>` and wait (SEEDS_LOADER_PAUSE_SECONDS, default 120) at that point, so
the crash tests can SIGKILL it there. Phases: locked, snapshot, copy (mid-COPY, after the first
block), copied, publish (inside the publish transaction, before COMMIT), published (after COMMIT,
before cleanup). Unset in production.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TextIO

import psycopg
from psycopg import IsolationLevel, sql

from seedsmetrics import settings
from seedsmetrics.errors import EXIT_FAILED, RunLocked, UserError
from seedsmetrics.loader import raw_layer
from seedsmetrics.loader.config import LoadConfig, load_config, parse_duration
from seedsmetrics.loader.connections import (
    APPLICATION_NAME,
    connect,
    millis,
    prepare_source_session,
    source_conninfo,
)
from seedsmetrics.loader.plan import LOADED_AT, RUN_ID, TablePlan, build_plan, read_source
from seedsmetrics.loader.progress import Progress
from seedsmetrics.loader.relay import Cancelled, Copied, relay
from seedsmetrics.pause import pause_at
from seedsmetrics.redact import describe_url, first_line, secrets_of

PAUSE_HOOK = "SEEDS_LOADER"
PAUSE_PHASES = ("locked", "snapshot", "copy", "copied", "publish", "published")
DEFAULT_JOBS = 2
# an incremental window reaching back less than this can miss rows committed late (warned)
MIN_SAFE_OVERLAP = timedelta(minutes=1)
# full copies smaller than this do not get a worker of their own
PARALLEL_MIN_BYTES = 32 * 1024 * 1024


def pause_point(phase: str, progress: Progress) -> None:
    """Test hook (see module docstring); a no-op unless SEEDS_LOADER_PAUSE_AT names `phase`."""
    pause_at(phase, PAUSE_HOOK, progress.log, default_seconds=120)


@dataclass
class TableResult:
    table: str
    mode: str
    reason: str
    rows_read: int = 0
    rows_written: int = 0
    bytes: int = 0
    seconds: float = 0.0
    lower_bound: datetime | None = None
    watermark: datetime | None = None


@dataclass
class LoadResult:
    run_id: str
    raw_schema: str
    tables: list[TableResult]
    plans: list[TablePlan]
    seconds: float = 0.0
    dry_run: bool = False
    published: bool = False

    def table(self, name: str) -> TableResult:
        return next(result for result in self.tables if result.table == name)

    @property
    def rows_read(self) -> int:
        return sum(result.rows_read for result in self.tables)

    @property
    def rows_written(self) -> int:
        return sum(result.rows_written for result in self.tables)


@dataclass
class _Loaded:
    """One table copied into the internal schema, not yet published."""

    plan: TablePlan
    table: str  # new shadow (full) or delta (incremental)
    relation: sql.Composable  # its qualified name
    temporary: bool  # a delta in the coordinator's session (dropped with it)
    copied: Copied
    seconds: float
    watermark: datetime | None


def new_run_id() -> str:
    # sortable, lower case (it becomes part of table names), unique across hosts
    return datetime.now(UTC).strftime("%Y%m%dt%H%M%S") + "_" + secrets.token_hex(3)


@dataclass
class _Context:
    config: LoadConfig
    raw_schema: str
    run_id: str
    loaded_at: datetime
    snapshot_start: datetime
    snapshot_id: str
    source_conninfo: str
    warehouse_conninfo: str
    progress: Progress
    temporary_ok: bool = True  # may create temporary tables in the warehouse (TEMP privilege)
    cancel: threading.Event = field(default_factory=threading.Event)
    created: list[str] = field(default_factory=list)
    created_lock: threading.Lock = field(default_factory=threading.Lock)


def _copy_out(plan: TablePlan, ctx: _Context) -> sql.Composable:
    """The source COPY: the plain table form when it can be (a heap scan without the executor's
    projection, measurably cheaper on the source), a query for casts, the incremental window and
    relations that are not plain tables (COPY refuses views and partitioned tables in table
    form)."""
    fmt = sql.SQL(plan.config.format)
    casts = any(column.cast for column in plan.source_columns)
    if plan.source_relkind == "r" and not casts and not _windowed(plan):
        return sql.SQL("copy {}.{} ({}) to stdout (format {})").format(
            sql.Identifier(ctx.config.source_schema), sql.Identifier(plan.name),
            raw_layer.column_list(plan.source_columns), fmt)
    return sql.SQL("copy ({}) to stdout (format {})").format(_source_select(plan, ctx), fmt)


def _source_select(plan: TablePlan, ctx: _Context) -> sql.Composable:
    exprs: list[sql.Composable] = []
    for column in plan.source_columns:
        if column.cast:
            exprs.append(sql.SQL("{}::{}").format(sql.Identifier(column.name),
                                                  sql.SQL(column.cast)))
        else:
            exprs.append(sql.Identifier(column.name))
    query = sql.SQL("select {} from {}.{}").format(
        sql.SQL(", ").join(exprs), sql.Identifier(ctx.config.source_schema),
        sql.Identifier(plan.name))
    return query + predicate(plan)


def _add_loader_columns(plan: TablePlan, ctx: _Context) -> sql.Composable:
    """_loaded_at and _run_id are added after the COPY with a constant default: PostgreSQL stores
    such a value once in the catalog (a "fast default") instead of in every row, so the run's stamp
    costs neither bytes on the wire nor space in the heap, index builds or ANALYZE."""
    values = {LOADED_AT: ctx.loaded_at, RUN_ID: ctx.run_id}
    return sql.SQL(", ").join(
        sql.SQL("add column {} {} not null default {}").format(
            sql.Identifier(column.name), sql.SQL(column.type), sql.Literal(values[column.name]))
        for column in plan.columns if column.name in values)


def _windowed(plan: TablePlan) -> bool:
    return plan.mode == "incremental" and plan.cursor is not None and plan.lower_bound is not None


def predicate(plan: TablePlan) -> sql.Composable:
    if _windowed(plan):
        return sql.SQL(" where {} >= {}").format(sql.Identifier(plan.cursor),
                                                 sql.Literal(plan.lower_bound))
    return sql.SQL("")


class _Worker:
    """A source connection inside the run's snapshot and a warehouse connection (autocommit; each
    table is built in explicit transactions). Worker 0 borrows the coordinator's two connections,
    which are idle while tables copy: its source transaction is the snapshot itself."""

    def __init__(self, ctx: _Context, source: psycopg.Connection | None = None,
                 warehouse: psycopg.Connection | None = None):
        self.ctx = ctx
        # deltas built on the coordinator's session can be temporary tables: the publish
        # transaction runs there too, and the session's end drops them at no cost to the run
        self.coordinator = warehouse is not None
        self.owned: list[psycopg.Connection] = []
        if source is None:
            source = connect(ctx.source_conninfo, "source database")
            self.owned.append(source)
            prepare_source_session(source, ctx.config.source_lock_timeout,
                                   ctx.config.source_statement_timeout)
            source.autocommit = False
            source.isolation_level = IsolationLevel.REPEATABLE_READ
            source.read_only = True
            source.execute(sql.SQL("set transaction snapshot {}").format(
                sql.Literal(ctx.snapshot_id)))
        if warehouse is None:
            warehouse = connect(ctx.warehouse_conninfo, "warehouse")
            self.owned.append(warehouse)
        self.source, self.warehouse = source, warehouse

    def close(self) -> None:
        for conn in self.owned:
            with contextlib.suppress(psycopg.Error):
                conn.close()

    def load(self, plan: TablePlan) -> _Loaded:
        ctx = self.ctx
        started = time.monotonic()
        ctx.progress.table_started(plan.name, plan.mode)
        full = plan.mode == "full"
        name = (raw_layer.shadow_name(plan.name, ctx.run_id) if full
                else raw_layer.delta_name(plan.name, ctx.run_id))
        temporary = not full and self.coordinator and ctx.temporary_ok
        table = sql.Identifier("pg_temp" if temporary
                               else raw_layer.internal_schema(ctx.raw_schema), name)
        if not temporary:
            with ctx.created_lock:
                ctx.created.append(name)
        wh = self.warehouse
        max_cursor = None
        if plan.cursor:
            max_cursor = self.source.execute(sql.SQL("select max({}) from {}.{}").format(
                sql.Identifier(plan.cursor), sql.Identifier(ctx.config.source_schema),
                sql.Identifier(plan.name))).fetchone()[0]
        with wh.transaction():
            raw_layer.script(
                wh,
                # nothing committed here is visible before the publish transaction, whose
                # synchronous commit flushes the WAL up to its own record, so everything before
                # it too
                "set local synchronous_commit = off",
                # parallel index builds halved the speed on 2 busy cores (0.46 s vs 0.23 s measured
                # for 600k rows); tables are already built in parallel, one per worker
                "set local max_parallel_maintenance_workers = 0",
                # created in this transaction, so COPY may FREEZE: no later hint-bit rewrite, and
                # the rows are visible even to readers whose snapshot predates this commit
                sql.SQL("create {} table {} ({})").format(
                    sql.SQL("" if full else "temporary" if temporary else "unlogged"), table,
                    raw_layer.column_defs(plan.source_columns)))
            copy_started = time.monotonic()
            copied = relay(
                self.source, wh, _copy_out(plan, ctx),
                sql.SQL("copy {} ({}) from stdin (format {}, freeze)").format(
                    table, raw_layer.column_list(plan.source_columns), sql.SQL(plan.config.format)),
                progress=lambda rows, nbytes: ctx.progress.table_progress(plan.name, rows, nbytes),
                cancelled=ctx.cancel.is_set, first_block=lambda: pause_point("copy", ctx.progress))
            copy_seconds = time.monotonic() - copy_started
            # a primary key is built after the load: maintained during COPY it costs ~35 % more
            raw_layer.script(
                wh, sql.SQL("alter table {} {}").format(table, _add_loader_columns(plan, ctx)), *(
                    [sql.SQL("alter table {} add primary key ({})").format(
                        table, sql.SQL(", ").join(map(sql.Identifier, plan.config.primary_key)))]
                    if full else []))
        index_seconds = time.monotonic() - copy_started - copy_seconds
        analyze_started = time.monotonic()
        if full:
            # the planner needs statistics for the dbt run that follows (deltas are merged at once:
            # their size on disk is estimate enough)
            raw_layer.script(wh, "begin", "set local synchronous_commit = off",
                             "set local default_statistics_target = "
                             f"{int(ctx.config.statistics_target)}",
                             sql.SQL("analyze {}").format(table), "commit")
        analyze_seconds = time.monotonic() - analyze_started
        watermark = _watermark(max_cursor, ctx.snapshot_start, plan)
        seconds = time.monotonic() - started
        ctx.progress.table_done(plan.name, plan.mode, copied.rows_read, copied.bytes, seconds,
                                run_id=ctx.run_id, copy_seconds=f"{copy_seconds:.2f}",
                                index_seconds=f"{index_seconds:.2f}",
                                analyze_seconds=f"{analyze_seconds:.2f}")
        return _Loaded(plan, name, table, temporary, copied, seconds, watermark)


def _watermark(max_cursor: object, snapshot_start: datetime, plan: TablePlan) -> datetime | None:
    """least(max(cursor), snapshot start): see the module docstring. An empty table keeps the
    previous mark; a cursor that is not a timestamp gives none (every run then reads all rows)."""
    if max_cursor is None:
        return plan.watermark if plan.mode == "incremental" else None
    if not isinstance(max_cursor, datetime):
        return None
    if max_cursor.tzinfo is None:
        # a `timestamp` column: the source session runs in UTC, so compare as naive UTC
        max_cursor = max_cursor.replace(tzinfo=UTC)
    return min(max_cursor, snapshot_start)


def effective_jobs(plans: list[TablePlan], jobs: int) -> int:
    """Parallel copies pay off only for big full copies: an incremental run saves the extra
    connections and threads."""
    big = sum(1 for plan in plans if plan.mode == "full" and plan.est_bytes >= PARALLEL_MIN_BYTES)
    return max(1, min(jobs, len(plans), max(big, 1)))


def _copy_all(ctx: _Context, plans: list[TablePlan], jobs: int, source: psycopg.Connection,
              warehouse: psycopg.Connection) -> dict[str, _Loaded]:
    """Copy every table, biggest first, on `jobs` workers; the first failure cancels the rest."""
    queue = deque(sorted(plans, key=lambda plan: -plan.est_bytes))
    workers: list[_Worker] = [_Worker(ctx, source, warehouse)]
    try:
        for _ in range(effective_jobs(plans, jobs) - 1):
            workers.append(_Worker(ctx))
    except BaseException:
        for worker in workers:
            worker.close()
        raise
    results: dict[str, _Loaded] = {}
    failures: list[tuple[str, BaseException]] = []
    guard = threading.Lock()

    def work(worker: _Worker) -> None:
        while not ctx.cancel.is_set():
            with guard:
                if not queue:
                    return
                plan = queue.popleft()
            try:
                loaded = worker.load(plan)
            except BaseException as error:  # noqa: BLE001 - reported by the main thread
                with guard:
                    failures.append((plan.name, error))
                ctx.cancel.set()
                return
            with guard:
                results[plan.name] = loaded

    threads = [threading.Thread(target=work, args=(worker,), name=f"load-{i}", daemon=True)
               for i, worker in enumerate(workers)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
    except BaseException:
        ctx.cancel.set()
        for thread in threads:
            thread.join(5)
        raise
    finally:
        for worker in workers:
            worker.close()
    real = [(name, error) for name, error in failures if not isinstance(error, Cancelled)]
    if real or failures:
        name, error = (real or failures)[0]
        raise _TableFailed(name, error)
    return results


class _TableFailed(Exception):
    def __init__(self, table: str, error: BaseException):
        super().__init__(f"{table}: {error}")
        self.table = table
        self.error = error


def _publish(wh: psycopg.Connection, ctx: _Context, loaded: dict[str, _Loaded]) -> dict[str, int]:
    """The one transaction that makes the run visible (retried when readers hold the views)."""
    cfg = ctx.config
    for attempt in range(1, cfg.publish_attempts + 1):
        try:
            with wh.transaction():
                wh.execute(f"set local lock_timeout = {millis(cfg.publish_lock_timeout)}")
                written: dict[str, int] = {}
                # merges first: they block no reader; re-pointing a view takes an exclusive lock on
                # it until COMMIT, so those come last and the window is a few milliseconds
                items = sorted(loaded.values(), key=lambda item: item.plan.mode == "full")
                for item in items:
                    plan = item.plan
                    if plan.mode == "full":
                        raw_layer.publish_view(wh, ctx.raw_schema, plan, item.table)
                        written[plan.name] = item.copied.rows_written
                        shadow = item.table
                    else:
                        written[plan.name] = raw_layer.merge_delta(
                            wh, ctx.raw_schema, plan, item.relation, item.copied.rows_written)
                        shadow = plan.current_shadow or ""
                    raw_layer.save_state(wh, ctx.raw_schema, plan, shadow, ctx.run_id,
                                         item.watermark, item.copied.rows_read, written[plan.name],
                                         item.copied.bytes)
                pause_point("publish", ctx.progress)
            return written
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
            # a reader holding a view (or crossing our locks) wins; nothing is published, try again
            if attempt == cfg.publish_attempts:
                raise UserError(
                    f"could not publish: readers kept the raw views locked ({cfg.publish_attempts} "
                    f"attempts of {cfg.publish_lock_timeout.total_seconds():g} s); nothing was "
                    "published", EXIT_FAILED) from None
            ctx.progress.log("publish_retry", level="warning", run_id=ctx.run_id, attempt=attempt)
            time.sleep(min(attempt, 5))
    raise AssertionError("unreachable")


def _record_failure(wh: psycopg.Connection, ctx: _Context, plans: list[TablePlan],
                    table: str | None, message: str) -> None:
    """Best effort: the warehouse itself may be what failed (the next run then marks the rows
    'abandoned'), and leftovers are dropped now or by the next run."""
    try:
        if wh.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            wh.rollback()
        for plan in plans:
            error = (message if (table is None or plan.name == table)
                     else f"not published: {table} failed")
            wh.execute(sql.SQL(
                "update {}._load_runs set status = 'failed', finished_at = clock_timestamp(),"
                " error = %s where run_id = %s and table_name = %s and status = 'running'"
            ).format(sql.Identifier(ctx.raw_schema)), [error, ctx.run_id, plan.name])
        raw_layer.drop_tables(wh, ctx.raw_schema, list(ctx.created))
    except psycopg.Error:
        pass


def _audit_refused(wh: psycopg.Connection, raw_schema: str, config: LoadConfig, started: datetime,
                   message: str) -> None:
    """A run refused by its plan (schema drift, missing table) still leaves its audit rows."""
    with contextlib.suppress(psycopg.Error):
        raw_layer.ensure_objects(wh, raw_schema)
        run_id = new_run_id()
        with wh.transaction():
            for table in config.tables:
                wh.execute(sql.SQL(
                    "insert into {}._load_runs (run_id, table_name, mode, started_at, finished_at,"
                    " status, error) values (%s, %s, %s, %s, clock_timestamp(), 'failed', %s)"
                ).format(sql.Identifier(raw_schema)), [run_id, table.name, table.mode, started,
                                                       message])


def print_plan(out: TextIO, plans: list[TablePlan], source: str, warehouse: str, raw_schema: str,
               snapshot_start: datetime, config: LoadConfig) -> None:
    out.write("seedsmetrics load --dry-run: the plan (nothing is copied or written)\n")
    out.write(f"  source:    {source}, schema {config.source_schema}, "
              f"snapshot at {snapshot_start:%Y-%m-%d %H:%M:%S%z}\n")
    out.write(f"  warehouse: {warehouse}, raw schema {raw_schema} "
              f"(copies in {raw_layer.internal_schema(raw_schema)})\n")
    out.write(f"  {'table':<26} {'mode':<11} {'est. rows':>10}  details\n")
    for plan in plans:
        details = plan.reason
        if plan.mode == "incremental":
            where = (f"{plan.cursor} >= {plan.lower_bound:%Y-%m-%d %H:%M:%S%z}" if plan.lower_bound
                     else "all rows (no high-water mark yet)")
            mark = f"{plan.watermark:%Y-%m-%d %H:%M:%S%z}" if plan.watermark else "none"
            details = f"rows where {where} (high-water mark {mark} minus overlap {config.overlap})"
        elif plan.cursor:
            details += f"; high-water mark on {plan.cursor}"
        if plan.new_columns:
            details += f"; adds column(s) {', '.join(plan.new_columns)}"
        out.write(f"  {plan.name:<26} {plan.mode:<11} {plan.est_rows:>10,}  {details} "
                  f"({plan.config.format})\n")
    out.flush()


def run_load(source_url: str | None = None, target: str | None = None,
             tables: list[str] | None = None, full: bool = False, raw_schema: str | None = None,
             *, source_schema: str | None = None, dry_run: bool = False,
             overlap: str | timedelta | None = None, jobs: int = DEFAULT_JOBS,
             config_path: str | None = None, progress: Progress | None = None,
             out: TextIO | None = None) -> LoadResult:
    """Load the configured source tables into the warehouse raw schema (see the module docstring).

    Raises UserError (one line, exit code attached) on bad input, RunLocked when another run holds
    the lock, and UserError(EXIT_FAILED) when the load failed; nothing is published then."""
    started = time.monotonic()
    progress = progress or Progress()
    config = _configure(config_path, tables, source_schema, overlap, progress)
    request = _resolve(config, source_url, target, raw_schema, full, dry_run, jobs)
    with _connect_warehouse(request) as wh:
        _check_warehouse(wh)
        if not dry_run:
            _lock(wh, request, progress)
        with _connect_source(request) as source:
            snapshot = _export_snapshot(source, config)
            pause_point("snapshot", progress)
            plans, loaded_at = _plan(wh, source, request)
            if dry_run:
                return _dry_run(out or sys.stdout, request, plans, snapshot, started)
            ctx = _start_run(wh, request, plans, snapshot, loaded_at, progress)
            loaded, written = _copy_and_publish(wh, source, ctx, plans, request)
        pause_point("published", progress)
        _clean_up(wh, request.raw_schema, loaded)
    return _published(ctx, plans, loaded, written, started)


# ---------------------------------------------------------------------------------------------
# the steps of run_load, in order


@dataclass(frozen=True)
class _Request:
    """What to load from where into where: run_load's arguments and settings, resolved once."""

    config: LoadConfig
    raw_schema: str
    target: settings.Target
    source_url: str
    source_conninfo: str
    warehouse_conninfo: str
    hidden: list[str]  # the passwords no error may show
    full: bool
    dry_run: bool
    jobs: int


@dataclass(frozen=True)
class _Snapshot:
    start: datetime  # now() of the snapshot transaction, on the source clock
    id: str  # pg_export_snapshot(): what the workers import


def _configure(config_path: str | None, tables: list[str] | None, source_schema: str | None,
               overlap: str | timedelta | None, progress: Progress) -> LoadConfig:
    """The tables configuration with the command line's overrides (a short overlap is warned)."""
    config = load_config(config_path).select(tables)
    if source_schema:
        config = replace(config, source_schema=source_schema)
    if overlap is not None:
        config = replace(config, overlap=overlap if isinstance(overlap, timedelta)
                         else parse_duration(overlap, "--overlap"))
    if config.overlap < MIN_SAFE_OVERLAP:
        # Django stamps updated_at before its transaction commits: a row committed after our
        # snapshot with an earlier stamp is only caught by the next run's overlap
        progress.log("warning", level="warning",
                     reason=f"overlap {config.overlap} is shorter than {MIN_SAFE_OVERLAP}: rows "
                     "committed late by long source transactions can be missed until the next "
                     "full copy")
    return config


def _resolve(config: LoadConfig, source_url: str | None, target: str | None,
             raw_schema: str | None, full: bool, dry_run: bool, jobs: int) -> _Request:
    """The raw schema, the warehouse target and the source, from the arguments or the
    environment (SEEDS_RAW_SCHEMA, SOURCE_DATABASE_URL, the embedded demo source)."""
    schema = raw_layer.check_schema_name(raw_schema or os.environ.get("SEEDS_RAW_SCHEMA") or "raw")
    warehouse_target = settings.resolve_target(target)
    url = source_url or os.environ.get("SOURCE_DATABASE_URL") or settings.embedded_source_url()
    if not url:
        raise UserError("no source database: set SOURCE_DATABASE_URL or pass --source-url (on the "
                        "embedded warehouse, `seedsmetrics demo` creates the default source)")
    password = [warehouse_target.password] if warehouse_target.password else []
    return _Request(config=config, raw_schema=schema, target=warehouse_target, source_url=url,
                    source_conninfo=source_conninfo(url),
                    warehouse_conninfo=warehouse_target.conninfo(application_name=APPLICATION_NAME),
                    hidden=secrets_of(url) + password, full=full, dry_run=dry_run, jobs=jobs)


def _connect_warehouse(request: _Request) -> psycopg.Connection:
    return connect(request.warehouse_conninfo, f"warehouse ({request.target.describe()})")


def _check_warehouse(wh: psycopg.Connection) -> None:
    if wh.info.server_version < 150000:
        raise UserError(f"the warehouse runs PostgreSQL {wh.info.server_version // 10000}; the "
                        "loader needs 15 or newer (MERGE)")


def _lock(wh: psycopg.Connection, request: _Request, progress: Progress) -> None:
    """The loader's advisory lock on the raw schema, without waiting (RunLocked: exit 75)."""
    holder = raw_layer.try_lock(wh, request.raw_schema)
    if holder is not None:
        who = f" (backend pid {holder})" if holder else ""
        raise RunLocked(f"another load into schema {request.raw_schema} of "
                        f"{request.target.describe()} is running{who}; try again later")
    pause_point("locked", progress)


def _connect_source(request: _Request) -> psycopg.Connection:
    return connect(request.source_conninfo,
                   f"source database ({describe_url(request.source_url)})")


def _export_snapshot(source: psycopg.Connection, config: LoadConfig) -> _Snapshot:
    """Open the run's REPEATABLE READ READ ONLY transaction on the source and export its
    snapshot for the workers."""
    prepare_source_session(source, config.source_lock_timeout, config.source_statement_timeout)
    source.autocommit = False
    source.isolation_level = IsolationLevel.REPEATABLE_READ
    source.read_only = True
    # now() is the transaction's start: everything committed before it is in the snapshot
    start, snapshot_id = source.execute("select now(), pg_export_snapshot()").fetchone()
    return _Snapshot(start, snapshot_id)


def _plan(wh: psycopg.Connection, source: psycopg.Connection,
          request: _Request) -> tuple[list[TablePlan], datetime]:
    """Each table's plan and the run's stamp (`_loaded_at`, on the warehouse clock). A plan
    refused (schema drift, missing table) is audited, unless this is a dry run, and raised."""
    config, schema = request.config, request.raw_schema
    names = [table.name for table in config.tables]
    found = read_source(source, config.source_schema, names)
    raw = raw_layer.read_raw(wh, schema, names)
    loaded_at = wh.execute("select clock_timestamp()").fetchone()[0]
    try:
        plans = [build_plan(config, table, found.get(table.name), raw[table.name], request.full,
                            config.overlap, loaded_at) for table in config.tables]
    except UserError as error:
        if not request.dry_run:
            _audit_refused(wh, schema, config, loaded_at, str(error))
        raise
    return plans, loaded_at


def _dry_run(out: TextIO, request: _Request, plans: list[TablePlan], snapshot: _Snapshot,
             started: float) -> LoadResult:
    """--dry-run: the plan printed, nothing copied or written."""
    print_plan(out, plans, describe_url(request.source_url) or "", request.target.describe(),
               request.raw_schema, snapshot.start, request.config)
    tables = [TableResult(plan.name, plan.mode, plan.reason, lower_bound=plan.lower_bound,
                          watermark=plan.watermark) for plan in plans]
    return LoadResult("", request.raw_schema, tables, plans, time.monotonic() - started,
                      dry_run=True)


def _start_run(wh: psycopg.Connection, request: _Request, plans: list[TablePlan],
               snapshot: _Snapshot, loaded_at: datetime, progress: Progress) -> _Context:
    """Earlier runs' leftovers cleared, this run audited as running and announced."""
    schema = request.raw_schema
    raw_layer.ensure_objects(wh, schema)
    raw_layer.abandon_stale_runs(wh, schema)
    raw_layer.drop_tables(wh, schema, raw_layer.garbage_tables(wh, schema))
    ctx = _Context(config=request.config, raw_schema=schema, run_id=new_run_id(),
                   loaded_at=loaded_at, snapshot_start=snapshot.start, snapshot_id=snapshot.id,
                   source_conninfo=request.source_conninfo,
                   warehouse_conninfo=request.warehouse_conninfo, progress=progress,
                   temporary_ok=_may_create_temporary_tables(wh))
    _audit_running(wh, ctx, plans)
    progress.log("run_started", run_id=ctx.run_id, tables=len(plans),
                 jobs=effective_jobs(plans, request.jobs), source=describe_url(request.source_url),
                 warehouse=request.target.describe(), raw_schema=schema,
                 snapshot=f"{snapshot.start:%Y-%m-%dT%H:%M:%S%z}")
    return ctx


def _may_create_temporary_tables(wh: psycopg.Connection) -> bool:
    query = "select has_database_privilege(current_database(), 'TEMP')"
    return bool(wh.execute(query).fetchone()[0])


def _audit_running(wh: psycopg.Connection, ctx: _Context, plans: list[TablePlan]) -> None:
    insert = sql.SQL("insert into {}._load_runs (run_id, table_name, mode, started_at, status)"
                     " values (%s, %s, %s, %s, 'running')").format(sql.Identifier(ctx.raw_schema))
    with wh.transaction():
        for plan in plans:
            wh.execute(insert, [ctx.run_id, plan.name, plan.mode, ctx.loaded_at])


def _copy_and_publish(wh: psycopg.Connection, source: psycopg.Connection, ctx: _Context,
                      plans: list[TablePlan],
                      request: _Request) -> tuple[dict[str, _Loaded], dict[str, int]]:
    """Copy every table, then publish them all in one transaction. On any failure nothing is
    published, the audit rows say why, and the error is one line (UserError) or re-raised."""
    hidden = request.hidden
    try:
        loaded = _copy_all(ctx, plans, request.jobs, source, wh)
        pause_point("copied", ctx.progress)
        return loaded, _publish(wh, ctx, loaded)
    except _TableFailed as failure:
        message = f"{failure.table}: {first_line(failure.error, hidden)}"
        _record_failure(wh, ctx, plans, failure.table, message)
        raise _table_failure(failure, message) from None
    except UserError as error:
        _record_failure(wh, ctx, plans, None, str(error))
        raise
    except BaseException as error:
        why = first_line(error, hidden) if str(error) else "interrupted"
        _record_failure(wh, ctx, plans, None, why)
        if isinstance(error, psycopg.Error):
            raise UserError(f"load failed: {first_line(error, hidden)}; nothing was published",
                            EXIT_FAILED) from None
        raise


def _table_failure(failure: _TableFailed, message: str) -> UserError:
    """The one-line error of a run whose table `failure.table` failed (its exit code kept when
    it was bad input, e.g. a missing privilege)."""
    if isinstance(failure.error, UserError):
        return UserError(f"load failed: {failure.table}: {failure.error}; nothing was published",
                         failure.error.exit_code)
    return UserError(f"load failed: {message}; nothing was published", EXIT_FAILED)


def _clean_up(wh: psycopg.Connection, schema: str, loaded: dict[str, _Loaded]) -> None:
    """After the publish: merged deltas and replaced shadows are dropped (postponed while a
    reader still has them open)."""
    raw_layer.drop_unshared(wh, schema, [item.table for item in loaded.values()
                                         if item.plan.mode == "incremental" and not item.temporary])
    raw_layer.drop_tables(wh, schema, [item.plan.current_shadow for item in loaded.values()
                                       if item.plan.mode == "full" and item.plan.current_shadow])


def _published(ctx: _Context, plans: list[TablePlan], loaded: dict[str, _Loaded],
               written: dict[str, int], started: float) -> LoadResult:
    """The run's result, announced as `run_published`."""
    results = [_table_result(plan, loaded[plan.name], written[plan.name]) for plan in plans]
    result = LoadResult(ctx.run_id, ctx.raw_schema, results, plans, time.monotonic() - started,
                        published=True)
    ctx.progress.log("run_published", run_id=ctx.run_id, tables=len(results),
                     rows_read=result.rows_read, rows_written=result.rows_written,
                     seconds=f"{result.seconds:.2f}")
    return result


def _table_result(plan: TablePlan, loaded: _Loaded, written: int) -> TableResult:
    return TableResult(table=plan.name, mode=plan.mode, reason=plan.reason,
                       rows_read=loaded.copied.rows_read, rows_written=written,
                       bytes=loaded.copied.bytes, seconds=loaded.seconds,
                       lower_bound=plan.lower_bound, watermark=loaded.watermark)
