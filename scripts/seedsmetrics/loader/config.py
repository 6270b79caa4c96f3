"""The loader's table list and settings (tables.yml, or the file named by --config /
SEEDS_LOAD_CONFIG)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from datetime import timedelta
from importlib import resources
from pathlib import Path

import yaml

from seedsmetrics.errors import UserError

MODES = ("full", "incremental")
FORMATS = ("binary", "text")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(value: object, what: str) -> timedelta:
    """'1h', '30m', '10s', '250ms', '2d' or a number of seconds."""
    match = _DURATION.match(str(value))
    if not match:
        raise UserError(f"{what}: {value!r} is not a duration (examples: 1h, 30m, 10s, 0)")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


@dataclass(frozen=True)
class TableConfig:
    name: str
    primary_key: tuple[str, ...]
    mode: str = "full"
    cursor: tuple[str, ...] = ()
    format: str = "binary"


@dataclass(frozen=True)
class LoadConfig:
    tables: tuple[TableConfig, ...]
    source_schema: str = "public"
    overlap: timedelta = timedelta(hours=1)
    reconcile_after: timedelta | None = timedelta(hours=24)
    source_lock_timeout: timedelta = timedelta(seconds=10)
    source_statement_timeout: timedelta = timedelta(hours=1)
    publish_lock_timeout: timedelta = timedelta(seconds=5)
    publish_attempts: int = 12
    statistics_target: int = 20
    path: str = field(default="", compare=False)

    def table(self, name: str) -> TableConfig:
        for table in self.tables:
            if table.name == name:
                return table
        raise KeyError(name)

    def select(self, names: list[str] | None) -> LoadConfig:
        """Keep only `names` (in configuration order); unknown names are a user error."""
        if not names:
            return self
        known = {table.name for table in self.tables}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise UserError(f"unknown table(s) {', '.join(unknown)} (configured: "
                            f"{', '.join(sorted(known))})")
        return replace(self, tables=tuple(table for table in self.tables if table.name in names))


def default_path() -> str:
    return (os.environ.get("SEEDS_LOAD_CONFIG")
            or str(resources.files("seedsmetrics.loader") / "tables.yml"))


def _names(value: object, what: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) and item for item in items):
        raise UserError(f"{what} must be a column name or a list of column names")
    return tuple(items)


def _statistics_target(value: object, path: str) -> int:
    if not isinstance(value, int) or not 1 <= value <= 10000:
        raise UserError(f"{path}: statistics_target must be a whole number from 1 to 10000")
    return value


def load_config(path: str | None = None) -> LoadConfig:
    path = path or default_path()
    try:
        # libyaml's parser when present: the pure-Python one costs ~10 ms on every run
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document = yaml.load(Path(path).read_text(), Loader=loader) or {}
    except (OSError, yaml.YAMLError) as error:
        raise UserError(f"cannot read loader configuration {path}: "
                        f"{str(error).splitlines()[0]}") from None
    if (not isinstance(document, dict) or not isinstance(document.get("tables"), list)
            or not document["tables"]):
        raise UserError(f"{path}: expected a mapping with a non-empty `tables` list")
    defaults = document.get("defaults") or {}
    tables: list[TableConfig] = []
    for entry in document["tables"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise UserError(f"{path}: every table needs a `name`")
        name = entry["name"]
        mode = entry.get("mode", "full")
        fmt = entry.get("format", "binary")
        if mode not in MODES:
            raise UserError(f"{path}: table {name}: mode must be one of {', '.join(MODES)}")
        if fmt not in FORMATS:
            raise UserError(f"{path}: table {name}: format must be one of {', '.join(FORMATS)}")
        if "primary_key" not in entry:
            raise UserError(f"{path}: table {name}: primary_key is required")
        cursor = (_names(entry["cursor"], f"{path}: table {name}: cursor") if "cursor" in entry
                  else ())
        if mode == "incremental" and not cursor:
            raise UserError(f"{path}: table {name}: incremental mode needs a cursor column")
        tables.append(TableConfig(name=name,
                                  primary_key=_names(entry["primary_key"],
                                                     f"{path}: {name}.primary_key"),
                                  mode=mode, cursor=cursor, format=fmt))
    if len({table.name for table in tables}) != len(tables):
        raise UserError(f"{path}: a table is listed twice")
    reconcile = defaults.get("reconcile_after", "24h")
    return LoadConfig(
        tables=tuple(tables),
        source_schema=str(defaults.get("source_schema", "public")),
        overlap=parse_duration(defaults.get("overlap", "1h"), f"{path}: overlap"),
        reconcile_after=(None if reconcile in (None, "never")
                         else parse_duration(reconcile, f"{path}: reconcile_after")),
        source_lock_timeout=parse_duration(defaults.get("source_lock_timeout", "10s"),
                                           f"{path}: source_lock_timeout"),
        source_statement_timeout=parse_duration(defaults.get("source_statement_timeout", "1h"),
                                                f"{path}: source_statement_timeout"),
        publish_lock_timeout=parse_duration(defaults.get("publish_lock_timeout", "5s"),
                                            f"{path}: publish_lock_timeout"),
        publish_attempts=max(1, int(defaults.get("publish_attempts", 12))),
        statistics_target=_statistics_target(defaults.get("statistics_target", 20), path),
        path=path,
    )
