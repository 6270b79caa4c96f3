"""What one run does per table: full or incremental, with which columns, casts and predicate.

The plan compares the source catalog (read inside the run's snapshot) with the raw view the
previous run published. Schema drift is decided here, before anything is copied:
- a new source column is appended to the raw copy (CREATE OR REPLACE VIEW can only add columns at
  the end), which forces a full copy of that table (old rows must get the new column's values);
- a raw column missing from the source, or whose source type cannot be cast losslessly to the
  raw type, fails the run naming table and column; nothing is published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg

from seedsmetrics.errors import EXIT_BAD_INPUT, EXIT_FAILED, UserError
from seedsmetrics.loader.config import LoadConfig, TableConfig

LOADED_AT = "_loaded_at"
RUN_ID = "_run_id"
LOADER_COLUMNS = (LOADED_AT, RUN_ID)
# first OID of user-defined objects: lower OIDs are built-in types, identical on every server,
# which binary COPY needs (it carries no type names)
FIRST_NORMAL_OID = 16384
_INT_RANK = {"smallint": 1, "integer": 2, "bigint": 3}
_VARCHAR = re.compile(r"^character varying(?:\((\d+)\))?$")
_NUMERIC = re.compile(r"^numeric(?:\((\d+),(\d+)\))?$")


class DriftError(UserError):
    def __init__(self, message: str):
        super().__init__(f"schema drift: {message}; nothing was published", EXIT_FAILED)


@dataclass(frozen=True)
class SourceColumn:
    name: str
    type: str  # the warehouse type for a new raw column
    source_type: str  # as the source declares it
    cast: bool  # select `col::type` (domains and non built-in types)


@dataclass(frozen=True)
class SourceTable:
    name: str
    can_select: bool
    est_rows: int
    est_bytes: int
    columns: dict[str, SourceColumn]
    # pg_class.relkind: 'r' plain table; views, partitioned tables, ... need COPY (SELECT ...)
    relkind: str = "r"


@dataclass(frozen=True)
class RawTable:
    """What the warehouse holds for one table (from the previous publish)."""

    relkind: str | None  # of <raw>.<table>: 'v' for our view, None when absent
    columns: list[tuple[str, str]]  # (name, type) of the raw view, in order
    shadow: str | None  # the current shadow table (from raw._load_state)
    shadow_exists: bool
    cursor: str | None
    watermark: datetime | None
    last_full_at: datetime | None


@dataclass(frozen=True)
class PlanColumn:
    name: str
    type: str
    cast: str | None = None  # cast the source expression to this type


@dataclass
class TablePlan:
    config: TableConfig
    mode: str
    reason: str
    columns: list[PlanColumn]
    cursor: str | None
    watermark: datetime | None
    lower_bound: datetime | None
    current_shadow: str | None
    view_exists: bool
    est_rows: int
    est_bytes: int
    new_columns: list[str] = field(default_factory=list)
    source_relkind: str = "r"

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def source_columns(self) -> list[PlanColumn]:
        return [column for column in self.columns if column.name not in LOADER_COLUMNS]


SOURCE_CATALOG = """
select c.relname, c.relkind::text, has_table_privilege(c.oid, 'SELECT'),
       greatest(c.reltuples, 0)::bigint, pg_relation_size(c.oid),
       a.attname, format_type(a.atttypid, a.atttypmod), a.atttypid::bigint, t.typtype,
       t.typbasetype::bigint, format_type(t.typbasetype, t.typtypmod)
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
join pg_type t on t.oid = a.atttypid
where n.nspname = %s and c.relname = any(%s) and c.relkind in ('r', 'p', 'v', 'm', 'f')
order by c.relname, a.attnum
"""


def read_source(conn: psycopg.Connection, schema: str, names: list[str]) -> dict[str, SourceTable]:
    tables: dict[str, SourceTable] = {}
    for (relname, relkind, can_select, est_rows, est_bytes, attname, source_type, typoid, typtype,
         basetype, base_name) in conn.execute(SOURCE_CATALOG, [schema, names]):
        table = tables.setdefault(relname,
                                  SourceTable(relname, can_select, est_rows, est_bytes, {},
                                              relkind))
        if typoid < FIRST_NORMAL_OID:
            column = SourceColumn(attname, source_type, source_type, cast=False)
        elif typtype == "d" and basetype < FIRST_NORMAL_OID:
            column = SourceColumn(attname, base_name, source_type, cast=True)
        else:
            # enums, composites, extension types: the warehouse may not have them; text is lossless
            column = SourceColumn(attname, "text", source_type, cast=True)
        table.columns[attname] = column
    return tables


def lossless_cast(source_type: str, raw_type: str) -> bool:
    """Can every value of `source_type` be stored in the existing raw column of `raw_type`?"""
    if source_type == raw_type:
        return True
    if source_type in _INT_RANK and raw_type in _INT_RANK:
        return _INT_RANK[source_type] <= _INT_RANK[raw_type]
    if (source_type, raw_type) == ("real", "double precision"):
        return True
    src_text, raw_text = _VARCHAR.match(source_type), _VARCHAR.match(raw_type)
    if raw_type == "text" and (src_text or source_type == "text"):
        return True
    if src_text and raw_text:
        if raw_text.group(1) is None:
            return True
        return src_text.group(1) is not None and int(src_text.group(1)) <= int(raw_text.group(1))
    src_num, raw_num = _NUMERIC.match(source_type), _NUMERIC.match(raw_type)
    return bool(src_num and raw_num and raw_num.group(1) is None)


def build_plan(config: LoadConfig, table: TableConfig, source: SourceTable | None, raw: RawTable,
               force_full: bool, overlap: timedelta, now: datetime) -> TablePlan:
    where = f"{config.source_schema}.{table.name}"
    if source is None:
        raise UserError(f"source table {where} does not exist (or is not visible to the source "
                        "user)",
                        EXIT_BAD_INPUT)
    if not source.can_select:
        raise UserError(f"the source user has no SELECT privilege on {where}", EXIT_BAD_INPUT)
    if raw.relkind not in (None, "v") or (raw.relkind == "v" and raw.shadow is None):
        raise UserError(f"warehouse relation {table.name} in the raw schema exists but is not "
                        "managed by the loader; rename or drop it first", EXIT_BAD_INPUT)
    for name in LOADER_COLUMNS:
        if name in source.columns:
            raise DriftError(f"source column {table.name}.{name} clashes with the loader's own "
                             "column")
    for name in table.primary_key:
        if name not in source.columns:
            raise DriftError(f"primary key column {table.name}.{name} is missing in the source")
    cursor = next((name for name in table.cursor if name in source.columns), None)
    if table.cursor and cursor is None:
        raise DriftError(f"{table.name} has none of the cursor columns {', '.join(table.cursor)}")

    columns: list[PlanColumn] = []
    previous = raw.columns if raw.relkind == "v" else []
    for name, raw_type in previous:
        if name in LOADER_COLUMNS:
            columns.append(PlanColumn(name, raw_type))
            continue
        column = source.columns.get(name)
        if column is None:
            raise DriftError(f"column {table.name}.{name} is missing in the source (the raw copy "
                             "has it)")
        if not lossless_cast(column.type, raw_type):
            raise DriftError(f"column {table.name}.{name} changed type from {raw_type} to "
                             f"{column.source_type}, which the raw copy cannot hold")
        cast = raw_type if (column.cast or column.type != raw_type) else None
        columns.append(PlanColumn(name, raw_type, cast))
    known = {name for name, _ in previous}
    new_columns = [column for name, column in source.columns.items() if name not in known]
    for column in new_columns:
        columns.append(PlanColumn(column.name, column.type, column.type if column.cast else None))
    if not previous:
        columns += [PlanColumn(LOADED_AT, "timestamp with time zone"), PlanColumn(RUN_ID, "text")]
        new_columns = []  # a first load: nothing is "new"

    mode, reason = "full", "configured full"
    if table.mode == "incremental":
        if force_full:
            reason = "--full"
        elif raw.relkind is None or not raw.shadow_exists:
            reason = "first load"
        elif new_columns:
            reason = f"new column(s) {', '.join(column.name for column in new_columns)}"
        elif raw.cursor != cursor:
            reason = f"cursor column is now {cursor}"
        elif (config.reconcile_after is not None and raw.last_full_at is not None
              and now - raw.last_full_at > config.reconcile_after):
            reason = f"reconciliation (last full copy {raw.last_full_at:%Y-%m-%d %H:%M} UTC)"
        else:
            mode, reason = "incremental", "changed rows"
    lower = raw.watermark - overlap if mode == "incremental" and raw.watermark is not None else None
    return TablePlan(config=table, mode=mode, reason=reason, columns=columns, cursor=cursor,
                     watermark=raw.watermark, lower_bound=lower, current_shadow=raw.shadow,
                     view_exists=raw.relkind == "v", est_rows=source.est_rows,
                     est_bytes=source.est_bytes,
                     new_columns=[column.name for column in new_columns],
                     source_relkind=source.relkind)
