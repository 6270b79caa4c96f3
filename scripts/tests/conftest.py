"""Shared fixtures: real PostgreSQL servers only (the embedded warehouse, and the second server
named by CI_SOURCE_DATABASE_URL when it is set)."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from seedsmetrics import warehouse
from seedsmetrics.dbt_runner import run_dbt
from seedsmetrics.loader import run_load

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def find_shared_dir() -> Path | None:
    """The lender's ../shared folder: SEEDS_SHARED_DIR, beside this checkout, or beside the local
    repository this checkout was cloned from (CI runs a clean clone in a temporary folder)."""
    given = os.environ.get("SEEDS_SHARED_DIR")
    candidates = [Path(given)] if given else []
    candidates.append(PROJECT_ROOT.parent / "shared")
    origin = subprocess.run(["git", "-C", str(PROJECT_ROOT), "remote", "get-url", "origin"],
                            capture_output=True, text=True, check=False).stdout.strip()
    if origin and Path(origin).is_dir():
        candidates.append(Path(origin).resolve().parent / "shared")
    return next((path for path in candidates if (path / "source-contract").is_dir()), None)


SHARED = find_shared_dir()


@pytest.fixture(scope="session")
def embedded() -> warehouse.Embedded:
    """The embedded warehouse server (started when not running)."""
    return warehouse.start()


def _replace_dbname(url: str, dbname: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(url)
    params["dbname"] = dbname
    return make_conninfo(**params)


class DatabaseFactory:
    """Creates throw-away databases on one server and drops them at the end of the test."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.created: list[str] = []

    def __call__(self, prefix: str = "t") -> str:
        name = f"seeds_{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        self.created.append(name)
        return _replace_dbname(self.admin_url, name)

    def drop_all(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in self.created:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                    sql.Identifier(name)))


@pytest.fixture
def warehouse_db(embedded: warehouse.Embedded) -> Iterator[Callable[[str], str]]:
    """Factory of fresh databases on the embedded warehouse server (PostgreSQL 16)."""
    factory = DatabaseFactory(embedded.url("postgres"))
    yield factory
    factory.drop_all()


@pytest.fixture
def source_db(embedded: warehouse.Embedded) -> Iterator[Callable[[str], str]]:
    """Factory of fresh source databases: on the second server (CI_SOURCE_DATABASE_URL, e.g. the
    PostgreSQL 15 on 127.0.0.1:5432) when given, else on the embedded server."""
    admin_url = os.environ.get("CI_SOURCE_DATABASE_URL") or embedded.url("postgres")
    factory = DatabaseFactory(admin_url)
    yield factory
    factory.drop_all()


class Project:
    """dbt and the loader pointed at one throw-away warehouse database (WAREHOUSE_DBNAME) and one
    source database, with its own artifacts folder; the schema prefix (WAREHOUSE_SCHEMA) is chosen
    per dbt call. dbt also writes its log as JSON lines to <tmp>/logs/dbt.log (see dbt_warnings)."""

    def __init__(self, warehouse_url: str, source_url: str, tmp_path: Path,
                 monkeypatch: pytest.MonkeyPatch):
        from psycopg.conninfo import conninfo_to_dict

        self.warehouse_url = warehouse_url
        self.source_url = source_url
        self.tmp_path = tmp_path
        self.monkeypatch = monkeypatch
        monkeypatch.setenv("SEEDS_TARGET", "dev")
        monkeypatch.setenv("WAREHOUSE_DBNAME", conninfo_to_dict(warehouse_url)["dbname"])
        monkeypatch.setenv("SEEDS_RAW_SCHEMA", "raw")
        self.dbt_vars: dict[str, object] = {"raw_schema": "raw"}  # every dbt call passes these

    def load(self, full: bool = False) -> None:
        run_load(self.source_url, target="dev", raw_schema="raw", full=full)

    def dbt(self, command: str, schema: str, as_of: date, *extra: str, check: bool = True) -> int:
        """`dbt <command> ...` (command may be two words: "source freshness"); its exit code."""
        self.monkeypatch.setenv("WAREHOUSE_SCHEMA", schema)
        return run_dbt([*command.split(), "--target", "dev", "--target-path",
                        str(self.tmp_path / "target"), "--log-path", str(self.tmp_path / "logs"),
                        "--log-format-file", "json", "--vars",
                        json.dumps({**self.dbt_vars, "as_of_date": as_of.isoformat()}), *extra],
                        check=check)

    def dbt_warnings(self) -> list[str]:
        """Warnings dbt itself logged (deprecations, config and type mismatches), leaving out the
        results of data tests configured to warn: those are the data speaking, not dbt."""
        warnings = []
        for line in (self.tmp_path / "logs" / "dbt.log").read_text().splitlines():
            event = json.loads(line)
            info = event.get("info", {})
            if info.get("level") != "warn":
                continue
            node = event.get("data", {}).get("node_info", {})
            if info.get("name") in ("LogTestResult", "RunResultWarning", "RunResultWarningMessage",
                                    "StatsLine", "EndOfRunSummary") \
                    or node.get("resource_type") == "test":
                continue
            warnings.append(f"{info.get('name')}: {info.get('msg')}")
        return warnings


@pytest.fixture
def project(warehouse_db: Callable[[str], str], source_db: Callable[[str], str], tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    yield Project(warehouse_db("proj_wh"), source_db("proj_src"), tmp_path, monkeypatch)
