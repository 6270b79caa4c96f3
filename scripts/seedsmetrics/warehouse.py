"""Embedded warehouse: a real PostgreSQL 16 from the `pgserver` wheel, kept under the project.

We use pgserver only for its bundled binaries and drive initdb/pg_ctl ourselves, because we want
a TCP listener on 127.0.0.1 (dbt, psql and the loader all connect the same way as to a managed
warehouse) and a server that outlives the process that started it (`warehouse start` returns).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import shutil
import socket
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from seedsmetrics.errors import UserError

DEFAULT_PORT = 54329
SUPERUSER = "postgres"
WAREHOUSE_DB = "warehouse"
# postgres refuses to run as root; when we are root we run it as this system user
SERVICE_USER = "pgserver"


def project_root() -> Path:
    """The dbt project directory (holds dbt_project.yml); SEEDS_PROJECT_DIR overrides."""
    if env := os.environ.get("SEEDS_PROJECT_DIR"):
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "dbt_project.yml").exists():
            return candidate
    # installed from this checkout in editable mode: scripts/seedsmetrics/warehouse.py
    return Path(__file__).resolve().parents[2]


def home() -> Path:
    """Where the embedded server keeps its data (ignored by git); SEEDS_HOME overrides."""
    return Path(os.environ.get("SEEDS_HOME") or project_root() / ".warehouse").resolve()


def _bin(name: str) -> str:
    """A binary of the pgserver wheel (found without importing pgserver, which warns on import)."""
    import importlib.util

    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the pgserver package is not installed (run `make demo` to create the "
                        "environment)")
    return str(Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name)


@dataclass(frozen=True)
class Embedded:
    host: str
    port: int
    user: str = SUPERUSER
    dbname: str = WAREHOUSE_DB

    def url(self, dbname: str | None = None) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname or self.dbname}"

    def env(self) -> dict[str, str]:
        """The WAREHOUSE_* settings the dbt profile and the loader read; the database name is left
        to the target (dev: warehouse, ci: ci)."""
        return {
            "WAREHOUSE_HOST": self.host,
            "WAREHOUSE_PORT": str(self.port),
            "WAREHOUSE_USER": self.user,
            "WAREHOUSE_PASSWORD": "",
            "WAREHOUSE_SSLMODE": "disable",
        }


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    """Serialise start/stop across processes (make demo and pytest may race)."""
    home().mkdir(parents=True, exist_ok=True)
    with open(home() / "lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pgdata() -> Path:
    return home() / "pgdata"


def _run_as_service_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SERVICE_USER], check=True,
                       capture_output=True)
    return SERVICE_USER


def _make_traversable(path: Path) -> None:
    for parent in path.parents:
        mode = parent.stat().st_mode
        parent.chmod(mode | stat.S_IXOTH | stat.S_IXGRP)


def _pg(args: list[str], user: str | None, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, user=user, check=check, capture_output=True, text=True, timeout=120)


def _port_free(port: int) -> bool:
    """True when nothing listens on the port and a server could bind it: the default ports lie in
    Linux's ephemeral range, so a client connection can hold one without listening on it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if sock.connect_ex(("127.0.0.1", port)) == 0:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as PostgreSQL binds
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _choose_port(after: int | None = None) -> int:
    start = int(os.environ.get("SEEDS_WAREHOUSE_PORT", DEFAULT_PORT))
    for port in range(start, start + 50):
        if (after is None or port > after) and _port_free(port):
            return port
    raise UserError(f"no free TCP port in {start}..{start + 49} for the embedded warehouse")


HBA = """\
# written by seedsmetrics: trust the superuser on loopback (local dev server), passwords for roles
local   all   all                       trust
host    all   postgres   127.0.0.1/32   trust
host    all   all        127.0.0.1/32   scram-sha-256
"""

SETTINGS = """\
# written by seedsmetrics (embedded dev/ci warehouse)
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
shared_buffers = '512MB'
work_mem = '64MB'
maintenance_work_mem = '512MB'
max_wal_size = '4GB'
timezone = 'UTC'
log_min_messages = warning
"""


def _initdb(user: str | None) -> None:
    pgdata = _pgdata()
    pgdata.mkdir(parents=True, exist_ok=True)
    if user:
        _make_traversable(pgdata)
        shutil.chown(pgdata, user, user)
        for binary in Path(_bin("postgres")).parents[1].rglob("*"):
            binary.chmod(binary.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if binary.is_dir() or
                                                                 os.access(binary, os.X_OK) else 0))
    pgdata.chmod(0o700)
    _pg([_bin("initdb"), "-D", str(pgdata), "-U", SUPERUSER, "--encoding=UTF8", "--locale=C",
         "--auth-local=trust", "--auth-host=scram-sha-256"], user)
    (pgdata / "pg_hba.conf").write_text(HBA)
    if user:
        shutil.chown(pgdata / "pg_hba.conf", user, user)


def status() -> Embedded | None:
    """The running embedded server, or None."""
    pgdata = _pgdata()
    port_file = home() / "port"
    if not (pgdata / "PG_VERSION").exists() or not port_file.exists():
        return None
    result = _pg([_bin("pg_ctl"), "-D", str(pgdata), "status"], _run_as_service_user(), check=False)
    if result.returncode != 0:
        return None
    return Embedded("127.0.0.1", int(port_file.read_text().strip()))


def _configure_port(port: int, user: str | None) -> None:
    conf = _pgdata() / "postgresql.seedsmetrics.conf"
    conf.write_text(SETTINGS.format(port=port, socket_dir=_pgdata()))
    main_conf = _pgdata() / "postgresql.conf"
    include = "include_if_exists = 'postgresql.seedsmetrics.conf'\n"
    if include not in main_conf.read_text():
        with main_conf.open("a") as handle:
            handle.write(include)
    if user:
        shutil.chown(conf, user, user)


def _start_on_free_port(user: str | None, attempts: int = 3) -> int:
    """Start the server on the first free port; when another process takes the port between the
    probe and the server's bind, try the next free one."""
    log = home() / "postgres.log"
    log.touch()
    if user:
        shutil.chown(log, user, user)
    port = None
    for _ in range(attempts):
        port = _choose_port(after=port)
        _configure_port(port, user)
        result = _pg([_bin("pg_ctl"), "-D", str(_pgdata()), "-l", str(log), "-w", "-t", "60",
                      "start"],
                     user, check=False)
        if result.returncode == 0:
            return port
        tail = log.read_text().strip().splitlines()[-3:] or [result.stderr.strip()]
        if not any("could not bind" in line for line in tail):
            break
    raise UserError(f"embedded warehouse did not start: {tail[-1]} (log: {log})")


def start() -> Embedded:
    """Start the embedded server if it is not running (idempotent) and ensure its database."""
    with _lock():
        running = status()
        if running:
            return running
        user = _run_as_service_user()
        if not (_pgdata() / "PG_VERSION").exists():
            _initdb(user)
        port = _start_on_free_port(user)
        (home() / "port").write_text(f"{port}\n")
        server = Embedded("127.0.0.1", port)
        ensure_database(server.url("postgres"), WAREHOUSE_DB)
        return server


def stop() -> bool:
    """Stop the embedded server; False when it was not running."""
    with _lock():
        if status() is None:
            return False
        _pg([_bin("pg_ctl"), "-D", str(_pgdata()), "-m", "fast", "-w", "stop"],
            _run_as_service_user())
        return True


def ensure_database(admin_url: str, dbname: str) -> None:
    """Create database `dbname` on the server of `admin_url` when it does not exist."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("select 1 from pg_database where datname = %s", [dbname]).fetchone()
        if not exists:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
