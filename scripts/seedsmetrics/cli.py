"""`seedsmetrics` command line: one entry point, one module per subcommand.

Each module in COMMAND_MODULES defines `register(subparsers)`, which adds its subcommand and sets
`func` (taking the parsed args, returning an exit code). Errors the user can act on are printed as
one line; see errors.py for the exit codes.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from seedsmetrics.errors import EXIT_BAD_INPUT, EXIT_FAILED, UserError

# the module that registers each subcommand: a command line imports only its own module (a
# scheduled `seedsmetrics load` every few minutes should not pay for the generator's imports)
COMMAND_MODULE = {
    "warehouse": "seedsmetrics.warehouse_cli",
    "generate-source": "seedsmetrics.source_generator",
    "load": "seedsmetrics.loader",
    "dbt": "seedsmetrics.dbt_runner",
    "exec": "seedsmetrics.dbt_runner",
    "demo": "seedsmetrics.demo",
    "run": "seedsmetrics.pipeline",
}
COMMAND_MODULES = tuple(dict.fromkeys(COMMAND_MODULE.values()))


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every subcommand, or, when argv names a known subcommand, of that one only."""
    parser = argparse.ArgumentParser(prog="seedsmetrics", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    command = argv[0] if argv else None
    modules = [COMMAND_MODULE[command]] if command in COMMAND_MODULE else COMMAND_MODULES
    for name in modules:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as error:
        print(f"seedsmetrics: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("seedsmetrics: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - last resort: still one line, still non-zero
        import psycopg

        if not isinstance(error, psycopg.Error):
            raise
        message, code = database_error(error)
        print(f"seedsmetrics: error: {message}", file=sys.stderr)
        return code
    return EXIT_FAILED


def database_error(error: Exception) -> tuple[str, int]:
    """One line and an exit code for a database error no command mapped itself: connection and
    authentication failures and missing privileges are bad input (2), anything else a failure
    (1)."""
    import psycopg

    from seedsmetrics.redact import first_line

    line = first_line(error)
    sqlstate = getattr(error, "sqlstate", None) or ""
    if sqlstate == "42501":
        return f"permission denied: {line}", EXIT_BAD_INPUT
    if sqlstate.startswith(("08", "28", "3D")) or (not sqlstate
                                                   and isinstance(error, psycopg.OperationalError)):
        return f"cannot connect: {line}", EXIT_BAD_INPUT
    return f"database error ({sqlstate}): {line}", EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
