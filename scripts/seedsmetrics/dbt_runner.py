"""`seedsmetrics dbt ARGS...`: run dbt with the project's environment; `seedsmetrics exec`: any
other tool that reads the dbt profile (sqlfluff's dbt templater) with the same environment.

Sets DO_NOT_TRACK=1 and PGTZ=UTC, points dbt at the profile, and starts the embedded warehouse
(and creates the target's database) when the target is dev/ci and no WAREHOUSE_HOST is given.
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

    exec_parser = subparsers.add_parser(
        "exec",
        help="run a command (e.g. sqlfluff) with the environment of a dbt target (default dev)")
    exec_parser.add_argument("--target", default=None,
                             help="dbt profile target (default: SEEDS_TARGET or dev)")
    exec_parser.add_argument("tool_args", nargs=argparse.REMAINDER, metavar="COMMAND ...")
    exec_parser.set_defaults(func=run_exec)


def target_from_args(dbt_args: list[str]) -> str | None:
    for index, arg in enumerate(dbt_args):
        if arg in ("--target", "-t") and index + 1 < len(dbt_args):
            return dbt_args[index + 1]
        if arg.startswith("--target="):
            return arg.split("=", 1)[1]
    return None


def venv_executable(name: str) -> str:
    """A console script of this environment (beside the running python), else `name` on PATH."""
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


def dbt_executable() -> str:
    return venv_executable("dbt")


def run_dbt(dbt_args: list[str], check: bool = False) -> int:
    """Run dbt in the project directory; return its exit code."""
    settings.prepare_environment(target_from_args(dbt_args))
    env = os.environ.copy()
    if not sys.stdout.isatty():
        env.setdefault("DBT_USE_COLORS", "false")  # no ANSI escapes in logs and pipes
    result = subprocess.run([dbt_executable(), *dbt_args], cwd=warehouse.project_root(), env=env)
    if check and result.returncode != 0:
        from seedsmetrics.errors import EXIT_FAILED, UserError

        raise UserError(f"dbt {' '.join(dbt_args[:1])} failed (exit {result.returncode})",
                        EXIT_FAILED)
    return result.returncode


def run(args: argparse.Namespace) -> int:
    return run_dbt(args.dbt_args)


def run_exec(args: argparse.Namespace) -> int:
    from seedsmetrics.errors import UserError

    tool_args = args.tool_args[1:] if args.tool_args[:1] == ["--"] else args.tool_args
    if not tool_args:
        raise UserError("exec needs a command, e.g. `seedsmetrics exec --target ci -- sqlfluff "
                        "lint models`")
    settings.prepare_environment(args.target)
    executable = venv_executable(tool_args[0])
    try:
        result = subprocess.run([executable, *tool_args[1:]], cwd=warehouse.project_root(),
                                env=os.environ.copy())
        return result.returncode
    except FileNotFoundError:
        raise UserError(f"exec: command not found: {tool_args[0]}") from None
