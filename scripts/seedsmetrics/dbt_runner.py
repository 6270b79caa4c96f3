"""`seedsmetrics dbt ARGS...`: run dbt with the project's environment.

Sets DO_NOT_TRACK=1 and PGTZ=UTC, points dbt at the profile, and starts the embedded warehouse
when the target is dev/ci and no WAREHOUSE_HOST is given.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from seedsmetrics import settings, warehouse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dbt", help="run dbt against the selected target (default dev)",
                                   add_help=False)
    parser.add_argument("dbt_args", nargs=argparse.REMAINDER)
    parser.set_defaults(func=run)


def target_from_args(dbt_args: list[str]) -> str | None:
    for index, arg in enumerate(dbt_args):
        if arg in ("--target", "-t") and index + 1 < len(dbt_args):
            return dbt_args[index + 1]
        if arg.startswith("--target="):
            return arg.split("=", 1)[1]
    return None


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(dbt_args: list[str], check: bool = False) -> int:
    """Run dbt in the project directory; return its exit code."""
    settings.prepare_environment(target_from_args(dbt_args))
    result = subprocess.run([dbt_executable(), *dbt_args], cwd=warehouse.project_root(), env=os.environ.copy())
    if check and result.returncode != 0:
        from seedsmetrics.errors import EXIT_FAILED, UserError

        raise UserError(f"dbt {' '.join(dbt_args[:1])} failed (exit {result.returncode})", EXIT_FAILED)
    return result.returncode


def run(args: argparse.Namespace) -> int:
    return run_dbt(args.dbt_args)
