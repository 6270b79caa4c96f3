"""Access control (issue 6.6): the least-privilege roles, proven by connecting as each of them.

One small project is built into a database of its own, the way production runs it: an
administrator runs `dbt run-operation create_access_roles`; a login member of the loader role
runs `seedsmetrics load` from a synthetic source (scale 0.01); a login member of the transformer
role runs dbt.
Then each member connects with its password and the tests check what it can and cannot read or
write. Group roles get unique names per run (vars loader_role, transformer_role, analyst_role) so
the test never touches the roles of a real deployment on the same server."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from seedsmetrics import settings, warehouse
from seedsmetrics.source_generator import TABLES, generate

from .conftest import PROJECT_ROOT, DatabaseFactory

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AS_OF = "2025-11-20"
SCHEMA_PREFIX = "acl"
RAW = "raw"
GROUPS = ("loader", "transformer", "analyst")
# column names that would carry a customer's personal data in clear (rules §1.2, Customers)
PII_COLUMN = re.compile(r"(^|_)(phone|dob|birth|address|bvn|nin)(_|$)")
MASKED_COLUMNS = {"masked_phone"}


@dataclass
class Deployment:
    server: warehouse.Embedded
    dbname: str
    roles: dict[str, str]  # group -> group role name
    passwords: dict[str, str] = field(default_factory=dict)  # group -> its login member's password
    target_path: Path = Path()

    @property
    def dbt_vars(self) -> dict[str, str]:
        return {"raw_schema": RAW, "as_of_date": AS_OF,
                **{f"{group}_role": role for group, role in self.roles.items()}}

    def login(self, group: str) -> str:
        return f"{self.roles[group]}_login"

    def url(self, group: str | None = None) -> str:
        """Conninfo of a group's login member, or of the administrator (None)."""
        if group is None:
            return make_conninfo(host=self.server.host, port=self.server.port,
                                 user=warehouse.SUPERUSER, dbname=self.dbname)
        return make_conninfo(host=self.server.host, port=self.server.port, user=self.login(group),
                             password=self.passwords[group], dbname=self.dbname)

    def schema(self, layer: str) -> str:
        return RAW if layer == "raw" else f"{SCHEMA_PREFIX}_{layer}"

    def run(self, command: list[str], user: tuple[str, str],
            extra_env: dict[str, str] | None = None) -> None:
        """A `seedsmetrics` command on the ci target of this database, connecting as (user,
        password)."""
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("WAREHOUSE_") and key != settings.EMBEDDED_MARKER}
        env.update(WAREHOUSE_HOST=self.server.host, WAREHOUSE_PORT=str(self.server.port),
                   WAREHOUSE_USER=user[0], WAREHOUSE_PASSWORD=user[1], WAREHOUSE_DBNAME=self.dbname,
                   WAREHOUSE_SCHEMA=SCHEMA_PREFIX, WAREHOUSE_SSLMODE="disable", **(extra_env or {}))
        result = subprocess.run([sys.executable, "-m", "seedsmetrics", *command], cwd=PROJECT_ROOT,
                                env=env, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, (f"seedsmetrics {' '.join(command[:2])} as {user[0]} "
                                        f"failed:\n{result.stdout[-5000:]}\n{result.stderr[-3000:]}")

    def member(self, group: str | None) -> tuple[str, str]:
        """(user, password) of a group's login member, or of the administrator (None)."""
        return (self.login(group), self.passwords[group]) if group else (warehouse.SUPERUSER, "")

    def dbt(self, *args: str, group: str | None = None,
            user: tuple[str, str] | None = None) -> None:
        """`seedsmetrics dbt ARGS` as a group's login member, as another (user, password), or as
        the admin. Each user has its own target path: a change of profile user would void dbt's
        partial parse."""
        user = user or self.member(group)
        target = self.dbt_target(user[0])
        self.run(["dbt", *args, "--target", "ci", "--vars", json.dumps(self.dbt_vars),
                  "--target-path", str(target), "--log-path", str(target / "logs")], user)

    def dbt_target(self, user: str) -> Path:
        return self.target_path / user

    def relations(self, schema: str) -> list[str]:
        """Tables and views of a schema (as the administrator sees them), schema-qualified."""
        with psycopg.connect(self.url()) as conn:
            rows = conn.execute("select format('%%I.%%I', n.nspname, c.relname) from pg_class c"
                                " join pg_namespace n on n.oid = c.relnamespace"
                                " where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'p')"
                                " order by 1",
                                [schema]).fetchall()
        return [row[0] for row in rows]


@pytest.fixture(scope="module")
def deployment(embedded: warehouse.Embedded,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tag = uuid.uuid4().hex[:8]
    databases = DatabaseFactory(embedded.url("postgres"))
    deployment = Deployment(server=embedded, dbname="",
                            roles={g: f"seeds_acl_{tag}_{g}" for g in GROUPS},
                            target_path=tmp_path_factory.mktemp("access-target"))
    try:
        source_url = databases("aclsrc")
        generate(source_url, scale=0.01, seed=7, as_of=AS_OF)
        deployment.dbname = conninfo_to_dict(databases("acl"))["dbname"]
        # the administrator: group roles, schemas, grants (before anything exists)
        deployment.dbt("run-operation", "create_access_roles")
        with psycopg.connect(embedded.url("postgres"), autocommit=True) as admin:
            for group in GROUPS:
                deployment.passwords[group] = secrets.token_urlsafe(16)
                admin.execute(sql.SQL("create role {} login password {} in role {}").format(
                    sql.Identifier(deployment.login(group)),
                    sql.Literal(deployment.passwords[group]),
                    sql.Identifier(deployment.roles[group])))
                # members act as their group, so the group owns what any of them creates
                admin.execute(sql.SQL("alter role {} set role = {}").format(
                    sql.Identifier(deployment.login(group)), sql.Literal(deployment.roles[group])))
        deployment.run(["load", "--target", "ci", "--raw-schema", RAW], deployment.member("loader"),
                       {"SOURCE_DATABASE_URL": source_url})
        deployment.dbt("build", "--resource-type", "seed", "--resource-type", "model",
                       "--resource-type", "snapshot", group="transformer")
        # re-applying is safe once everything exists (and grants what the build created)
        deployment.dbt("run-operation", "create_access_roles")
        yield deployment
    finally:
        databases.drop_all()
        with psycopg.connect(embedded.url("postgres"), autocommit=True) as admin:
            for group in GROUPS:
                for role in (deployment.login(group), deployment.roles[group]):
                    admin.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))


def connect(deployment: Deployment, group: str | None = None) -> psycopg.Connection[Any]:
    return psycopg.connect(deployment.url(group), autocommit=True)


def denied(conn: psycopg.Connection[Any], statement: str) -> bool:
    """True when the statement fails with permission denied (any other error fails the test)."""
    try:
        conn.execute(statement)
    except errors.InsufficientPrivilege:
        return True
    return False


def test_group_roles_are_nologin_and_members_log_in_with_passwords(deployment: Deployment) -> None:
    with connect(deployment) as admin:
        can_login = dict(admin.execute(
            "select rolname, rolcanlogin from pg_roles where rolname = any(%s)",
            [list(deployment.roles.values())]).fetchall())
    assert can_login == {role: False for role in deployment.roles.values()}
    for group in GROUPS:
        with connect(deployment, group) as conn:
            session, current = conn.execute("select session_user, current_user").fetchone()
        assert (session, current) == (deployment.login(group), deployment.roles[group])
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(deployment.url("analyst").replace(deployment.passwords["analyst"],
                                                          "wrong-password"))


def test_the_build_wrote_every_layer_as_the_transformer(deployment: Deployment) -> None:
    target = deployment.dbt_target(deployment.login("transformer"))
    manifest = json.loads((target / "manifest.json").read_text())
    with connect(deployment) as admin:
        owners = admin.execute(
            "select n.nspname, c.relname, pg_get_userbyid(c.relowner) from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname like %s and c.relkind in ('r', 'v')",
            [f"{SCHEMA_PREFIX}\\_%"]).fetchall()
        raw_owners = {row[0] for row in admin.execute(
            "select distinct pg_get_userbyid(c.relowner) from pg_class c"
            " join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = %s and c.relkind in ('r', 'v')", [RAW]).fetchall()}
    built = {(schema, name) for schema, name, _ in owners}
    for node in manifest["nodes"].values():
        if (node["resource_type"] in ("model", "seed") and node["package_name"] == "seeds_metrics"
                and node["config"]["materialized"] != "ephemeral"):
            assert (node["schema"], node["alias"]) in built, f"{node['name']} was not built"
    assert {owner for *_, owner in owners} == {deployment.roles["transformer"]}
    assert raw_owners == {deployment.roles["loader"]}
    assert {schema for schema, *_ in owners} >= {deployment.schema(layer) for layer in
                                                 ("staging", "intermediate", "marts", "reference")}


def test_analyst_reads_every_mart(deployment: Deployment) -> None:
    marts = deployment.relations(deployment.schema("marts"))
    assert {"acl_marts.dim_officers", "acl_marts.dim_customers"} <= set(marts)
    with connect(deployment) as admin, connect(deployment, "analyst") as analyst:
        for relation in marts:
            expected = admin.execute(f"select count(*) from {relation}").fetchone()
            seen = analyst.execute(f"select count(*) from {relation}").fetchone()
            assert seen == expected, relation
        assert analyst.execute("select count(*) from acl_marts.dim_officers").fetchone()[0] > 0


def test_analyst_reads_nothing_outside_the_marts(deployment: Deployment) -> None:
    with connect(deployment) as admin:
        schemas = [row[0] for row in admin.execute(
            "select nspname from pg_namespace"
            " where nspname not in ('public', 'information_schema', %s)"
            " and nspname not like 'pg\\_%%' order by 1", [deployment.schema("marts")]).fetchall()]
    layers = ("raw", "staging", "intermediate", "reference")
    assert {deployment.schema(layer) for layer in layers} <= set(schemas)
    for layer in ("raw", "staging", "intermediate"):
        assert deployment.relations(deployment.schema(layer)), \
            f"{layer} is empty: the checks below prove nothing"
    with connect(deployment, "analyst") as analyst:
        for schema in schemas:
            assert analyst.execute("select has_schema_privilege(%s, 'usage')",
                                   [schema]).fetchone() == (False,)
            for relation in deployment.relations(schema):
                assert denied(analyst, f"select * from {relation} limit 1"), \
                    f"analyst can read {relation}"


def test_analyst_sees_no_personal_data(deployment: Deployment) -> None:
    def personal(column: str, data_type: str) -> bool:
        # a flag like is_bvn_verified is not personal data
        return (bool(PII_COLUMN.search(column)) and column not in MASKED_COLUMNS
                and data_type != "boolean")

    columns = ("select table_schema, table_name, column_name, data_type"
               " from information_schema.columns"
               " where table_schema not in ('pg_catalog', 'information_schema')")
    with connect(deployment, "analyst") as analyst:
        # information_schema.columns lists only the columns the current user may read
        visible = analyst.execute(columns).fetchall()
    assert {schema for schema, *_ in visible} == {deployment.schema("marts")}
    leaks = [f"{table}.{column}" for _, table, column, data_type in visible
             if personal(column, data_type)]
    assert leaks == [], f"analyst can read personal data: {leaks}"
    assert ("dim_customers", "masked_phone") in {(table, column) for _, table, column, _ in visible}
    # the check is not vacuous: staging, which the analyst cannot read, does carry personal data
    with connect(deployment) as admin:
        everything = admin.execute(columns).fetchall()
    assert any(personal(column, data_type) for schema, _, column, data_type in everything
               if schema == deployment.schema("staging"))


def test_analyst_cannot_write(deployment: Deployment) -> None:
    marts = deployment.schema("marts")
    with connect(deployment, "analyst") as analyst:
        assert denied(analyst, f"create table {marts}.analyst_probe (x int)")
        assert denied(analyst, f"insert into {marts}.dim_officers"
                               f" select * from {marts}.dim_officers limit 0")
        assert denied(analyst, f"delete from {marts}.dim_officers")


def test_loader_writes_raw_and_reads_nothing_of_the_analytics(deployment: Deployment) -> None:
    with connect(deployment, "loader") as loader:
        loader.execute(f"create table {RAW}.loader_probe (x int)")
        loader.execute(f"insert into {RAW}.loader_probe values (1)")
        loader.execute(f"drop table {RAW}.loader_probe")
        for layer in ("marts", "staging", "intermediate", "reference"):
            relations = deployment.relations(deployment.schema(layer))
            assert relations
            for relation in relations:
                assert denied(loader, f"select * from {relation} limit 1"), \
                    f"loader can read {relation}"
            assert denied(loader, f"create table {deployment.schema(layer)}.loader_probe (x int)")


def test_transformer_reads_raw_but_cannot_write_it(deployment: Deployment) -> None:
    with connect(deployment, "transformer") as transformer:
        for table in TABLES:
            rows = transformer.execute(f"select count(*) from {RAW}.{table}").fetchone()[0]
            assert rows > 0, table
        assert denied(transformer,
                      f"insert into {RAW}.loans_holiday select * from {RAW}.loans_holiday limit 0")
        assert denied(transformer, f"delete from {RAW}.loans_ajoloan")
        assert denied(transformer, f"create table {RAW}.transformer_probe (x int)")


def test_tables_created_later_stay_readable_by_the_analyst(deployment: Deployment) -> None:
    marts, staging = deployment.schema("marts"), deployment.schema("staging")
    # default privileges: a table the transformer creates in the marts is readable at once, and
    # one it creates in staging is not
    with connect(deployment, "transformer") as transformer:
        transformer.execute(f"create table {marts}.later_probe as select 1 as x")
        transformer.execute(f"create table {staging}.later_probe as select 1 as x")
    try:
        with connect(deployment, "analyst") as analyst:
            assert analyst.execute(f"select x from {marts}.later_probe").fetchone() == (1,)
            assert denied(analyst, f"select x from {staging}.later_probe")
    finally:
        with connect(deployment, "transformer") as transformer:
            transformer.execute(f"drop table {marts}.later_probe, {staging}.later_probe")

    # dbt re-creates a table on every build (a new relation): the analyst still reads it
    def oid(conn: psycopg.Connection[Any]) -> int:
        return conn.execute("select %s::regclass::oid", [f"{marts}.dim_officers"]).fetchone()[0]

    with connect(deployment) as admin:
        before = oid(admin)
    deployment.dbt("run", "--select", "dim_officers", group="transformer")
    with connect(deployment) as admin, connect(deployment, "analyst") as analyst:
        assert oid(admin) != before, "dim_officers was not re-created"
        assert analyst.execute(f"select count(*) from {marts}.dim_officers").fetchone()[0] > 0


def test_the_run_end_hook_grants_what_a_member_built_as_itself(deployment: Deployment) -> None:
    """A transformer member that logs in without acting as its group (no `alter role ... set role`)
    owns what it builds, so the group's default privileges do not apply: the on-run-end hook
    grant_analyst_access still makes the rebuilt mart readable."""
    marts = deployment.schema("marts")
    member, password = f"{deployment.roles['transformer']}_self", secrets.token_urlsafe(16)
    with connect(deployment) as admin:
        admin.execute(sql.SQL("create role {} login password {} in role {}").format(
            sql.Identifier(member), sql.Literal(password),
            sql.Identifier(deployment.roles["transformer"])))
    try:
        deployment.dbt("run", "--select", "dim_officers", user=(member, password))
        with connect(deployment) as admin, connect(deployment, "analyst") as analyst:
            owner = admin.execute("select tableowner from pg_tables where schemaname = %s"
                                  " and tablename = 'dim_officers'", [marts]).fetchone()
            assert owner == (member,), "the member built the table as itself"
            assert analyst.execute(f"select count(*) from {marts}.dim_officers").fetchone()[0] > 0
    finally:
        with connect(deployment) as admin:
            admin.execute(sql.SQL("reassign owned by {} to {}").format(
                sql.Identifier(member), sql.Identifier(deployment.roles["transformer"])))
            admin.execute(sql.SQL("drop owned by {}").format(sql.Identifier(member)))
            admin.execute(sql.SQL("drop role {}").format(sql.Identifier(member)))
