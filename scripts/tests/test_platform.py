"""Platform: embedded warehouse lifecycle, profile targets, and the README/CI contract."""

from __future__ import annotations

import re
import subprocess
import sys

import psycopg
import pytest

from seedsmetrics import settings, warehouse
from seedsmetrics.cli import main
from seedsmetrics.errors import UserError

from .conftest import PROJECT_ROOT


def test_start_is_idempotent(embedded: warehouse.Embedded) -> None:
    again = warehouse.start()
    assert again == embedded
    assert warehouse.status() == embedded
    with psycopg.connect(embedded.url()) as conn:
        version = conn.execute("show server_version_num").fetchone()[0]
    assert int(version) >= 160000, "the embedded warehouse is PostgreSQL 16"
    postmasters = subprocess.run(["pgrep", "-f", f"postgres -D {warehouse.home() / 'pgdata'}"],
                                 capture_output=True, text=True).stdout.split()
    assert len(postmasters) == 1, "starting twice must leave one server"


def test_start_from_cli_prints_url(embedded: warehouse.Embedded,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["warehouse", "url"]) == 0
    assert capsys.readouterr().out.strip() == embedded.url()


def test_ensure_database_creates_once(embedded: warehouse.Embedded) -> None:
    name = "seeds_platform_probe"
    with psycopg.connect(embedded.url("postgres"), autocommit=True) as conn:
        conn.execute(f"drop database if exists {name}")
    warehouse.ensure_database(embedded.url("postgres"), name)
    warehouse.ensure_database(embedded.url("postgres"), name)
    with psycopg.connect(embedded.url("postgres"), autocommit=True) as conn:
        assert conn.execute("select count(*) from pg_database where datname = %s",
                            [name]).fetchone() == (1,)
        conn.execute(f"drop database {name}")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in ("WAREHOUSE_HOST", "WAREHOUSE_PORT", "WAREHOUSE_USER", "WAREHOUSE_PASSWORD",
                "WAREHOUSE_DBNAME", "WAREHOUSE_SCHEMA", "WAREHOUSE_SSLMODE", "SEEDS_TARGET",
                "DBT_PROFILES_DIR", settings.EMBEDDED_MARKER):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def test_dev_and_ci_targets_use_the_embedded_warehouse(embedded: warehouse.Embedded,
                                                       clean_env) -> None:
    dev = settings.resolve_target("dev")
    assert (dev.host, dev.port, dev.dbname, dev.schema) == ("127.0.0.1", embedded.port, "warehouse",
                                                            "dev")
    ci = settings.resolve_target("ci")
    assert (ci.dbname, ci.schema) == ("ci", "ci")
    with psycopg.connect(ci.conninfo()) as conn:
        assert conn.execute("select current_database()").fetchone() == ("ci",)


def test_given_settings_win_and_nothing_embedded_starts(clean_env,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    clean_env.setenv("WAREHOUSE_HOST", "db.example.internal")
    clean_env.setenv("WAREHOUSE_PORT", "6543")
    clean_env.setenv("WAREHOUSE_USER", "transformer")
    clean_env.setenv("WAREHOUSE_PASSWORD", "s3cret")
    clean_env.setenv("WAREHOUSE_DBNAME", "analytics")

    def no_embedded() -> None:
        raise AssertionError("the embedded warehouse must not start when WAREHOUSE_HOST is given")

    monkeypatch.setattr(warehouse, "start", no_embedded)
    prod = settings.resolve_target("prod")
    assert (prod.host, prod.port, prod.user, prod.dbname, prod.sslmode) == (
        "db.example.internal", 6543, "transformer", "analytics", "require")
    assert "s3cret" not in prod.describe()


def test_prod_without_settings_names_the_missing_variable(clean_env) -> None:
    with pytest.raises(UserError, match="WAREHOUSE_HOST"):
        settings.resolve_target("prod")


def test_unknown_target_is_a_one_line_error() -> None:
    result = subprocess.run([sys.executable, "-m", "seedsmetrics", "dbt", "debug", "--target",
                             "nope"],
                            capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "unknown target 'nope'" in result.stderr


def quick_start_commands() -> list[str]:
    readme = (PROJECT_ROOT / "README.md").read_text()
    block = re.search(r"## Quick start.*?```(?:sh|bash)?\n(.*?)```", readme, re.S)
    assert block, "README has a Quick start code block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_quick_start_is_the_two_commands() -> None:
    assert quick_start_commands() == ["make demo", "make test"]
    first_screen = "\n".join((PROJECT_ROOT / "README.md").read_text().splitlines()[:40])
    assert "make demo" in first_screen and "make test" in first_screen


def test_ci_runs_the_readme_test_command() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text().splitlines()
    marker = readme.index("<!-- test-command -->")
    assert readme[marker + 1].strip() == "make test" == quick_start_commands()[1]
    assert "<!-- test-command -->" in (PROJECT_ROOT / ".ci" / "run").read_text()


def test_local_state_is_ignored_by_git() -> None:
    ignored = subprocess.run(["git", "check-ignore", ".venv/", ".warehouse/", "target/", "logs/",
                              "profiles.yml"],
                             capture_output=True, text=True, cwd=PROJECT_ROOT).stdout.split()
    assert ignored == [".venv/", ".warehouse/", "target/", "logs/", "profiles.yml"]


def test_each_command_loads_only_its_module() -> None:
    import argparse
    import importlib

    from seedsmetrics import cli

    for command, module in cli.COMMAND_MODULE.items():
        subparsers = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register(subparsers)
        assert command in subparsers.choices, f"{module} does not register `{command}`"
    every = argparse.ArgumentParser().add_subparsers()
    for module in cli.COMMAND_MODULES:
        importlib.import_module(module).register(every)
    assert set(every.choices) == set(cli.COMMAND_MODULE), "every subcommand is in the table"
    # `seedsmetrics load` does not import the synthetic-source generator (a scheduled load
    # starts fast)
    probe = "import sys; from seedsmetrics.cli import build_parser; build_parser(['load']);" \
            " print('seedsmetrics.source_generator' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_a_port_held_by_a_socket_that_does_not_listen_is_not_free(monkeypatch) -> None:
    """The default ports lie in Linux's ephemeral range: a client connection can hold one without
    listening on it, and PostgreSQL then cannot bind it (seen as 'could not bind ... Address
    already in use' on a busy machine). The probe must skip such a port."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))  # bound, not listening: what a client connection looks like
        port = held.getsockname()[1]
        assert not warehouse._port_free(port)
        monkeypatch.setenv("SEEDS_WAREHOUSE_PORT", str(port))
        assert warehouse._choose_port() > port
