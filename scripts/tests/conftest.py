"""Shared fixtures: real PostgreSQL servers only (the embedded warehouse, and the second server
named by CI_SOURCE_DATABASE_URL when it is set)."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from seedsmetrics import warehouse

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def find_shared_dir() -> Path | None:
    """The lender's ../shared folder: SEEDS_SHARED_DIR, beside this checkout, or beside the local
    repository this checkout was cloned from (CI runs a clean clone in a temporary folder)."""
    candidates = [Path(os.environ["SEEDS_SHARED_DIR"])] if os.environ.get("SEEDS_SHARED_DIR") else []
    candidates.append(PROJECT_ROOT.parent / "shared")
    origin = subprocess.run(["git", "-C", str(PROJECT_ROOT), "remote", "get-url", "origin"],
                            capture_output=True, text=True, check=False).stdout.strip()
    if origin and Path(origin).is_dir():
        candidates.append(Path(origin).resolve().parent / "shared")
    return next((path for path in candidates if (path / "METRICS.md").exists()), None)


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
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


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
