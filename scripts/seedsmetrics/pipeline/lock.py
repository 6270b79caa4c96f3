"""The run lock: pg_try_advisory_lock(RUN_LOCK_CLASS, lock_key(schema)) on a dedicated session of
the warehouse database, kept for the whole run (see the package docstring)."""

from __future__ import annotations

import contextlib
import zlib
from typing import Any

from seedsmetrics import settings
from seedsmetrics.errors import RunLocked, UserError
from seedsmetrics.redact import first_line

# Namespace of the run lock in the two-int advisory lock form: pg_try_advisory_lock(0x5EED, key).
RUN_LOCK_CLASS = 0x5EED
# the lock session idles for hours: no server-side timeout may end it
NO_TIMEOUTS = ("idle_session_timeout", "idle_in_transaction_session_timeout", "statement_timeout")
# the advisory locks of the two-int form (objsubid = 2) with our class and key
HOLDER_SQL = """select a.pid, a.backend_start, a.client_addr
   from pg_locks as l join pg_stat_activity as a on a.pid = l.pid
   where l.locktype = 'advisory' and l.granted and l.objsubid = 2
     and l.classid::bigint = %s and l.objid::bigint = %s"""
HELD_SQL = """select exists (select 1 from pg_locks where locktype = 'advisory' and granted
   and pid = pg_backend_pid() and objsubid = 2 and classid::bigint = %s and objid::bigint = %s)"""


def lock_key(schema: str) -> int:
    """Second half of the run lock: stable across processes, hosts and PostgreSQL versions."""
    return zlib.crc32(schema.encode()) & 0x7FFFFFFF


class RunLock:
    """pg_try_advisory_lock(RUN_LOCK_CLASS, lock_key(schema)) on a session kept for the whole
    run."""

    def __init__(self, target: settings.Target):
        self.target = target
        # what the run writes: the prefixed schemas of dev/ci (<schema>_marts, ...), or on prod the
        # plain schema names whatever WAREHOUSE_SCHEMA says (macros/generate_schema_name.sql)
        self.key = lock_key("prod" if target.name == "prod" else target.schema)
        self.conn: Any = None

    @property
    def name(self) -> str:
        """How the log and the summary name the lock: `<class>,<key>`."""
        return f"{RUN_LOCK_CLASS},{self.key}"

    def acquire(self) -> None:
        """Take the lock without waiting; RunLocked (exit 75) when another run holds it."""
        self._connect()
        self._disable_timeouts()
        got = self.conn.execute("select pg_try_advisory_lock(%s::int4, %s::int4)",
                                [RUN_LOCK_CLASS, self.key]).fetchone()[0]
        if not got:
            holder = self.holder()
            self.close()
            raise RunLocked(f"another run holds the run lock on {self.target.dbname} (schema "
                            f"{self.target.schema}{holder}); nothing was done, try again later")

    def _connect(self) -> None:
        import psycopg

        try:
            # keepalives: a dead runner host frees the lock within minutes, and no middlebox drops
            # the idle lock session during a long build
            self.conn = psycopg.connect(self.target.conninfo("seedsmetrics run lock"),
                                        autocommit=True, keepalives=1, keepalives_idle=30,
                                        keepalives_interval=10, keepalives_count=6)
        except psycopg.OperationalError as error:
            hidden = [self.target.password] if self.target.password else []
            raise UserError(f"cannot connect to the warehouse {self.target.describe()}: "
                            f"{first_line(error, hidden)}") from None

    def _disable_timeouts(self) -> None:
        import psycopg

        for setting in NO_TIMEOUTS:
            with contextlib.suppress(psycopg.Error):
                self.conn.execute(f"set {setting} = 0")

    def holder(self) -> str:
        """`, held by backend <pid> since <time> from <address>`, or "" when unknown."""
        with contextlib.suppress(Exception):
            row = self.conn.execute(HOLDER_SQL, [RUN_LOCK_CLASS, self.key]).fetchone()
            if row:
                return (f", held by backend {row[0]} since {row[1]:%Y-%m-%d %H:%M:%S %Z} "
                        f"from {row[2] or 'local'}")
        return ""

    def held(self) -> bool:
        """Whether our session still holds the lock (it is lost only if the session died)."""
        try:
            return bool(self.conn.execute(HELD_SQL, [RUN_LOCK_CLASS, self.key]).fetchone()[0])
        except Exception:  # noqa: BLE001 - a dead session holds nothing
            return False

    def server_version(self) -> int:
        return int(self.conn.info.server_version)

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None
