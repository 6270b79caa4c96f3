"""Connection settings: the dbt profile's target for the warehouse, environment for the source.

Credentials come only from environment variables (rendered through the dbt profile), never from
code or the repository. When no WAREHOUSE_HOST is given, the dev and ci targets use the embedded
warehouse, started on demand.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import jinja2
import yaml

from seedsmetrics import warehouse
from seedsmetrics.errors import UserError

PROFILE_NAME = "seeds_metrics"
EMBEDDED_TARGETS = ("dev", "ci")
EMBEDDED_MARKER = "SEEDS_EMBEDDED_WAREHOUSE"
# the database of the embedded server that `seedsmetrics demo` fills with the synthetic source
DEMO_SOURCE_DATABASE = "savings"


@dataclass(frozen=True)
class Target:
    name: str
    host: str
    port: int
    user: str
    password: str
    dbname: str
    schema: str
    sslmode: str

    def conninfo(self, application_name: str = "seedsmetrics") -> str:
        """A libpq conninfo string; keep it out of logs (it may hold a password)."""
        from psycopg.conninfo import make_conninfo

        return make_conninfo(host=self.host, port=self.port, user=self.user,
                             password=self.password or None, dbname=self.dbname,
                             sslmode=self.sslmode, application_name=application_name,
                             connect_timeout=10)

    def describe(self) -> str:
        """Where this target points, without secrets."""
        return (f"{self.user}@{self.host}:{self.port}/{self.dbname} (target {self.name}, "
                f"schema {self.schema})")


def profiles_dir() -> Path:
    """The folder dbt reads profiles.yml from: DBT_PROFILES_DIR, the project, or a generated copy
    of profiles.example.yml (refreshed on every call so it never goes stale)."""
    if env := os.environ.get("DBT_PROFILES_DIR"):
        return Path(env)
    root = warehouse.project_root()
    if (root / "profiles.yml").exists():
        return root
    generated = warehouse.home() / "dbt-profiles"
    generated.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(root / "profiles.example.yml", generated / "profiles.yml")
    return generated


def default_target() -> str:
    return os.environ.get("SEEDS_TARGET", "dev")


def prepare_environment(target: str | None = None) -> str:
    """Export what dbt and the loader need (DO_NOT_TRACK, PGTZ, WAREHOUSE_* for the embedded
    server when no warehouse is given) into os.environ; return the target name."""
    name = target or default_target()
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ["PGTZ"] = "UTC"
    available = _outputs()
    if name not in available:
        raise UserError(f"unknown target {name!r} (the dbt profile defines: "
                        f"{', '.join(sorted(available))})")
    os.environ["SEEDS_TARGET"] = name
    os.environ["DBT_PROFILES_DIR"] = str(profiles_dir())
    os.environ.setdefault("DBT_PROJECT_DIR", str(warehouse.project_root()))
    # WAREHOUSE_* we exported ourselves for the embedded server do not count as "given"
    given = os.environ.get("WAREHOUSE_HOST") and os.environ.get(EMBEDDED_MARKER) != "1"
    if not given and name in EMBEDDED_TARGETS:
        server = warehouse.start()
        os.environ.update(server.env())
        os.environ[EMBEDDED_MARKER] = "1"
        warehouse.ensure_database(server.url("postgres"), str(_render(available[name]["dbname"])))
    return name


def _render(value: object) -> object:
    if not isinstance(value, str) or "{{" not in value:
        return value
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters.update(as_number=lambda v: int(v) if str(v).isdigit() else float(v),
                       as_text=str, as_bool=lambda v: str(v).lower() in ("true", "1", "yes"))

    def env_var(key: str, default: str | None = None) -> str:
        if key in os.environ:
            return os.environ[key]
        if default is None:
            raise UserError(f"environment variable {key} is required by the dbt profile target")
        return default

    return env.from_string(value).render(env_var=env_var)


def _outputs() -> dict:
    path = profiles_dir() / "profiles.yml"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    profile = (yaml.load(path.read_text(), Loader=loader) or {}).get(PROFILE_NAME)
    if not profile:
        raise UserError(f"{path} has no profile {PROFILE_NAME!r}")
    return profile.get("outputs", {})


def resolve_target(target: str | None = None) -> Target:
    """The warehouse connection of a dbt profile target, with env vars rendered."""
    name = prepare_environment(target)
    raw = {key: _render(value) for key, value in _outputs()[name].items()}
    return Target(name=name, host=str(raw["host"]), port=int(raw.get("port", 5432)),
                  user=str(raw["user"]), password=str(raw.get("password") or ""),
                  dbname=str(raw["dbname"]), schema=str(raw["schema"]),
                  sslmode=str(raw.get("sslmode") or "prefer"))


def embedded_source_url() -> str | None:
    """The demo's synthetic source (database `savings` of the embedded server), the default source
    when the warehouse target is the embedded server and SOURCE_DATABASE_URL is not set; None when
    the warehouse is not embedded or the demo has not created that database."""
    if os.environ.get(EMBEDDED_MARKER) != "1":
        return None
    server = warehouse.status()
    if server is None:
        return None
    import psycopg

    with psycopg.connect(server.url("postgres"), connect_timeout=10) as conn:
        found = conn.execute("select 1 from pg_database where datname = %s",
                             [DEMO_SOURCE_DATABASE]).fetchone()
    return server.url(DEMO_SOURCE_DATABASE) if found else None
