"""`seedsmetrics demo`: the main job end to end on the embedded (or given) warehouse.

Steps: warehouse, synthetic Django source, load, dbt build, docs. Safe to re-run: the source is
generated only when missing (or with --regenerate), the loader publishes atomically and dbt is
idempotent. The synthetic source lives in the embedded server (database `savings`); when
SOURCE_DATABASE_URL is given, that source is loaded as it is and never written to.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import psycopg

from seedsmetrics import settings, warehouse
from seedsmetrics.dbt_runner import run_dbt
from seedsmetrics.redact import describe_url

# the synthetic history ends on this day; the demo reports as of it so the numbers are meaningful
DEMO_AS_OF = "2025-11-20"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo",
                                   help="run the whole product end to end on the embedded "
                                        "warehouse")
    parser.add_argument("--target", default=None, help="dbt profile target (default dev)")
    parser.add_argument("--scale", type=float, default=0.1,
                        help="synthetic source size (1 = real volumes)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", default=DEMO_AS_OF,
                        help="last day of the synthetic history (YYYY-MM-DD)")
    parser.add_argument("--source-database", default=settings.DEMO_SOURCE_DATABASE,
                        help="source database in the embedded server (default: %(default)s)")
    parser.add_argument("--regenerate", action="store_true",
                        help="rebuild the synthetic source even if present")
    parser.add_argument("--skip-docs", action="store_true",
                        help="do not generate the dbt docs site")
    parser.set_defaults(func=run)


def step(title: str) -> float:
    print(f"\n==> {title}", flush=True)
    return time.monotonic()


def done(started: float) -> None:
    print(f"    done in {time.monotonic() - started:.1f}s", flush=True)


def _source_exists(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=10) as conn:
            return conn.execute(
                "select to_regclass('public.loans_ajoloan') is not null").fetchone()[0]
    except psycopg.OperationalError:
        return False


def run(args: argparse.Namespace) -> int:
    from seedsmetrics.loader import run_load
    from seedsmetrics.source_generator import generate

    started = step("warehouse")
    target = settings.resolve_target(args.target)
    print(f"    warehouse: {target.describe()}")
    given_source = os.environ.get("SOURCE_DATABASE_URL")
    source_url = given_source or warehouse.start().url(args.source_database)
    done(started)

    started = step(f"synthetic Django source (scale {args.scale}, seed {args.seed}, as of "
                   f"{args.as_of})")
    if given_source:
        print(f"    SOURCE_DATABASE_URL is given ({describe_url(given_source)}): loaded as it is, "
              "never written")
    elif _source_exists(source_url) and not args.regenerate:
        print(f"    {source_url} already holds the source; kept (use --regenerate to rebuild)")
    else:
        counts = generate(source_url, scale=args.scale, seed=args.seed, as_of=args.as_of,
                          replace=True, create_database=True,
                          progress=lambda line: print(f"    {line}", flush=True))
        print("    " + ", ".join(f"{table} {rows:,}" for table, rows in counts.items()))
    done(started)

    started = step("load the source into the warehouse raw schema")
    result = run_load(source_url=source_url, target=target.name)
    print(f"    run {result.run_id}: {result.rows_written:,} rows written into schema "
          f"{result.raw_schema}")
    done(started)

    # the synthetic history ends on --as-of; a given (real) source reports as of today
    as_of = None if given_source else args.as_of
    dbt_vars = json.dumps({"as_of_date": as_of})
    started = step(f"dbt build (target {target.name}, as of {as_of or 'today (Africa/Lagos)'})")
    run_dbt(["build", "--target", target.name, "--vars", dbt_vars], check=True)
    done(started)

    docs = None
    if not args.skip_docs:
        started = step("dbt docs (static site)")
        run_dbt(["docs", "generate", "--static", "--target", target.name, "--vars", dbt_vars],
                check=True)
        docs = warehouse.project_root() / "target" / "static_index.html"
        done(started)

    print_summary(target, source_url, docs)
    return 0


def print_summary(target: settings.Target, source_url: str, docs: Path | None) -> None:
    print("\nSummary")
    print(f"  source (Django):           {describe_url(source_url)}")
    print(f"  warehouse:                 {target.describe()}")
    marts = "marts" if target.name == "prod" else f"{target.schema}_marts"
    with psycopg.connect(target.conninfo()) as conn:
        tables = conn.execute("select table_name from information_schema.tables"
                              " where table_schema = %s order by 1", [marts]).fetchall()
        for (table,) in tables:
            rows = conn.execute(f'select count(*) from "{marts}"."{table}"').fetchone()[0]
            print(f"  {marts}.{table:<28} {rows:>10,} rows")
    if docs:
        print(f"  docs: {docs} (open it in a browser: one self-contained file)")
