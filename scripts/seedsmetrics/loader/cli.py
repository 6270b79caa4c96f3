"""`seedsmetrics load`: argument parsing and exit codes (see README, "Exit codes")."""

from __future__ import annotations

import argparse

from seedsmetrics.loader.engine import DEFAULT_JOBS, run_load

EPILOG = """\
exit codes: 0 loaded and published (or --dry-run), 1 the load failed and nothing was published
(schema drift, copy error), 2 bad input (unreachable server, wrong password, missing source table,
unknown target or table), 75 another load holds the lock (try again later), 130 interrupted.
The source URL is best given in SOURCE_DATABASE_URL (a password on the command line is visible to
other users of the machine); passwords are never printed."""


def _tables(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("expected table names separated by commas")
    return names


def _jobs(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 16:
        raise argparse.ArgumentTypeError("expected a number of parallel copies from 1 to 16")
    return int(value)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "load", help="copy the Django source tables into the warehouse raw schema",
        description="Copy the configured source tables into the warehouse raw schema from one "
                    "consistent\nsnapshot and publish them atomically (incremental for big tables "
                    "unless --full).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source-url", default=None,
                        help="source PostgreSQL URL (default: env SOURCE_DATABASE_URL)")
    parser.add_argument("--target", default=None,
                        help="dbt profile target of the warehouse (default dev)")
    parser.add_argument("--raw-schema", default=None,
                        help="warehouse schema to load (default: env SEEDS_RAW_SCHEMA or raw)")
    parser.add_argument("--source-schema", default=None,
                        help="schema of the source tables (default from the config: public)")
    parser.add_argument("--tables", type=_tables, action="extend", default=None, metavar="T1,T2",
                        help="load only these configured tables")
    parser.add_argument("--full", action="store_true",
                        help="copy every table completely (reconciliation: removes rows deleted "
                             "at the source)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan (mode, high-water mark, predicate) and exit")
    parser.add_argument("--overlap", default=None, metavar="DURATION",
                        help="incremental lookback behind the high-water mark (default from the "
                             "config: 1h)")
    parser.add_argument("--jobs", type=_jobs, default=DEFAULT_JOBS,
                        help=f"tables copied in parallel (default {DEFAULT_JOBS})")
    parser.add_argument("--config", default=None,
                        help="tables configuration file (default: env SEEDS_LOAD_CONFIG or the "
                             "packaged tables.yml)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    run_load(source_url=args.source_url, target=args.target, tables=args.tables, full=args.full,
             raw_schema=args.raw_schema, source_schema=args.source_schema, dry_run=args.dry_run,
             overlap=args.overlap, jobs=args.jobs, config_path=args.config)
    return 0
