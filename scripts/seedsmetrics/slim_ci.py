"""Slim CI (`make ci-slim`): build only what a change touches, deferring the rest to production.

    python -m seedsmetrics.slim_ci [--state DIR] [--target ci] [--list]

runs `dbt build --selector slim_ci --defer --state DIR` (selectors.yml: `state:modified+`, i.e. the
models, seeds, snapshots and tests whose files or configs differ from the production manifest in
DIR, and everything downstream of them). Unchanged parents are not rebuilt: `--defer` makes their
`ref()`s read the production relations named in that manifest, so CI must reach the production
database (PostgreSQL has no cross-database queries) with a role that can read its schemas and write
the CI schemas (`<WAREHOUSE_SCHEMA>_marts`, ...). The manifest is the one `seedsmetrics run` keeps
after every green full build (default `.warehouse/state/prod/manifest.json`; in GitHub Actions the
nightly workflow uploads it as the `prod-state` artifact).

Exit codes: 0 ok (also when nothing changed), 1 dbt errors or failed tests, 2 no production
manifest or bad settings.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from seedsmetrics import dbt_runner, settings, warehouse
from seedsmetrics.errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, UserError

SELECTOR = "slim_ci"
DEFAULT_STATE = Path(".warehouse") / "state" / "prod"


def dbt_args(command: str, state_dir: Path, target: str, target_path: str, log_path: str,
             dbt_vars: str | None = None) -> list[str]:
    """The dbt command line of slim CI (`command` is build, or ls to only list the selection)."""
    args = ["--no-use-colors", command, "--selector", SELECTOR, "--state", str(state_dir),
            "--target", target, "--target-path", target_path, "--log-path", log_path]
    if command == "build":
        args.append("--defer")
    else:
        args += ["--output", "name", "--quiet"]
    if dbt_vars:
        args += ["--vars", dbt_vars]
    return args


def resolve_state(state: str | None) -> Path:
    """The folder of the production manifest; a clear error when it is missing."""
    path = Path(state or os.environ.get("SLIM_CI_STATE") or DEFAULT_STATE)
    if not path.is_absolute():
        path = warehouse.project_root() / path
    if not (path / "manifest.json").is_file():
        raise UserError(f"no production manifest at {path / 'manifest.json'}: run `seedsmetrics "
                        "run --target prod` (it keeps one after each green build) or download the "
                        "nightly `prod-state` artifact, then pass --state DIR or SLIM_CI_STATE=DIR")
    return path


def built_nodes(target_path: Path) -> list[tuple[str, str]]:
    """(unique_id, status) of every node the last dbt command ran, from its run_results.json."""
    try:
        results = json.loads((target_path / "run_results.json").read_text()).get("results", [])
    except (OSError, ValueError):
        return []
    return sorted((result["unique_id"], result["status"]) for result in results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seedsmetrics.slim_ci",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--state", default=None,
                        help=f"folder of the production manifest.json (default "
                        f"$SLIM_CI_STATE or {DEFAULT_STATE})")
    parser.add_argument("--target", default=os.environ.get("SEEDS_TARGET", "ci"),
                        help="dbt target (default ci)")
    parser.add_argument("--target-path", default="target/slim-ci")
    parser.add_argument("--log-path", default="logs/slim-ci")
    parser.add_argument("--vars", default=None, help="dbt vars (YAML mapping)")
    parser.add_argument("--list", action="store_true",
                        help="only list the selected nodes (dbt ls), build nothing")
    args = parser.parse_args(argv)
    try:
        state_dir = resolve_state(args.state)
        settings.prepare_environment(args.target)
    except UserError as error:
        print(f"slim-ci: error: {error}", file=sys.stderr)
        return error.exit_code
    root = warehouse.project_root()
    command = "ls" if args.list else "build"
    result = subprocess.run([dbt_runner.dbt_executable(),
                             *dbt_args(command, state_dir, args.target, args.target_path,
                                        args.log_path, args.vars)],
                            cwd=root, env=os.environ.copy())
    if not args.list:
        nodes = built_nodes(root / args.target_path)
        print(f"slim-ci: {len(nodes)} nodes ran against state {state_dir}", file=sys.stderr)
        for unique_id, status in nodes:
            print(f"slim-ci:   {status:<8} {unique_id}", file=sys.stderr)
    if result.returncode == 0:
        return EXIT_OK
    return EXIT_BAD_INPUT if result.returncode == 2 else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
