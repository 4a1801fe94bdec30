"""The PostgreSQL dialect, for several replicas behind one address (docs/deployment.md "Running a
shared instance"): a connection pool, the schema checked under an advisory lock, NUMERIC
credits, claims that skip a row another replica is claiming, and a change signal fed by
LISTEN/NOTIFY.

Every ``bump`` also sends ``NOTIFY wanmock_changes``, which PostgreSQL delivers at
commit. A listener thread counts the notifications, so a poll compares two integers and
makes no round trip unless another replica wrote.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import secrets
import select
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolClosed

from mock_server.store import migrations
from mock_server.store.records import StoreError, StoreUnavailable, reason

CHANNEL = "wanmock_changes"
CONNECT_TIMEOUT_SECONDS = 5
# pg_advisory_xact_lock key: "wanmock" as an integer, shared by every replica.
ADVISORY_LOCK = 0x77616E6D6F636B
TYPES = {
    "bigint": "BIGINT",
    "real": "DOUBLE PRECISION",
    "bool": "BOOLEAN",
    "blob": "BYTEA",
    "money": "NUMERIC",
    "zero": "0",
    "serial": "BIGSERIAL PRIMARY KEY",
}
Conn = psycopg.Connection[dict[str, Any]]


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


@functools.lru_cache(maxsize=512)
def placeholders(sql: str) -> str:
    """The store's ``?`` placeholders as psycopg's ``%s`` (its SQL has no ``%``)."""
    return sql.replace("?", "%s")


class Connection:
    """A pooled connection that reads the store's ``?`` placeholders."""

    def __init__(self, conn: Conn) -> None:
        self._conn = conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> psycopg.Cursor[dict[str, Any]]:
        return self._conn.execute(placeholders(sql), args)


class NotifySignal:
    """Has any replica committed a change since ``seen``? A listener thread counts the
    ``wanmock_changes`` notifications; ``changed`` compares two integers."""

    def __init__(self, conninfo: str, own: str = "") -> None:
        self._conninfo = conninfo
        self._own = own  # the payload of this store's own changes, not counted
        self._count = 0
        self._last = 0
        self._stop = threading.Event()
        self._conn = self._listen()
        self._thread = threading.Thread(target=self._run, name="wanmock-listen", daemon=True)
        self._thread.start()

    def _listen(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(
            self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
        )
        conn.execute(f"LISTEN {CHANNEL}")
        return conn

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for notice in self._conn.notifies(timeout=0.1):
                    if not self._own or notice.payload != self._own:
                        self._count += 1
            except psycopg.Error:
                if self._stop.is_set():
                    return
                # The connection broke (a server restart): listen again, and since
                # notifications may have been missed meanwhile, signal a change.
                self._stop.wait(0.5)
                try:
                    self._conn = self._listen()
                except psycopg.Error:
                    continue
                self._count += 1

    def snapshot(self) -> int:
        return self._count

    def changed(self) -> bool:
        """A notification counted, or one waiting on the listener's socket that its
        thread has not read yet (a zero-timeout select: no round trip)."""
        if self._count != self._last:
            return True
        try:
            return bool(select.select([self._conn.pgconn.socket], [], [], 0)[0])
        except (OSError, ValueError, psycopg.Error):
            return False

    def seen(self, snapshot: int) -> None:
        self._last = snapshot

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._conn.close()


class PostgresDialect:
    """PostgreSQL's part of the store (store/database.py ``Dialect``)."""

    types: Mapping[str, str] = TYPES
    add, sub, ge = (
        "{} + CAST({} AS NUMERIC)",
        "{} - CAST({} AS NUMERIC)",
        "{} >= CAST({} AS NUMERIC)",
    )
    skip_locked = " FOR UPDATE SKIP LOCKED"
    # The payload names the store that wrote (its connections' application_name), so its
    # own listener can skip it: the writer updated its caches itself.
    notify = f"pg_notify('{CHANNEL}', current_setting('application_name'))"
    schema_lock = f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK})"
    from_template = False
    shared = True
    migrations: Mapping[int, migrations.Migration] = migrations.POSTGRESQL
    closed_errors: tuple[type[BaseException], ...] = (PoolClosed,)

    def __init__(self, url: str, pool_size: int = 4) -> None:
        self.path = redacted(url)
        writer = f"wanmock-{secrets.token_hex(6)}"  # names this store's changes
        # The store logs once that the server is gone; the pool would say it per attempt.
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
        try:  # once, so a server that is down says why, not a pool's timeout
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS).close()
        except psycopg.Error as exc:
            gone = isinstance(exc, psycopg.OperationalError)  # may work later: --db-wait
            raise (StoreUnavailable if gone else StoreError)(
                f"--db {self.path}: cannot connect to PostgreSQL: {reason(exc)}"
            ) from exc
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={
                "row_factory": dict_row,
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                "application_name": writer,
            },
            open=False,
            name="wanmock",
        )
        self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS * 2)
        try:
            self.signal = NotifySignal(url, own=writer)
        except BaseException:
            self._pool.close()
            raise

    def json_field(self, column: str, path: str, sql_type: str) -> str:
        return f"CAST(({column}::jsonb #>> '{{{path.replace('.', ',')}}}') AS {sql_type})"

    @contextlib.contextmanager
    def connect(self, write: bool) -> Iterator[Connection]:
        conn = self._live_connection()
        try:
            if write:
                with conn:  # commits at the end of the block, rolls back if it raises
                    yield Connection(conn)
            else:  # one statement: no BEGIN and COMMIT round trips around it
                conn.autocommit = True
                try:
                    yield Connection(conn)
                finally:
                    with contextlib.suppress(psycopg.Error):  # a broken one is discarded
                        conn.autocommit = False
        finally:
            self._pool.putconn(conn)

    def _live_connection(self) -> Conn:
        """A pooled connection the server has not ended. After a server restart every
        idle one is dead: each is closed (the pool replaces it) and the next taken, so
        no transaction fails on one and the fault ends with the restart. A server that
        is gone is a 503 after CONNECT_TIMEOUT_SECONDS, not the pool's 30.

        A server ending an idle connection sends its FATAL and closes the socket, so the
        socket reads ready: a zero-timeout select tells, with no round trip."""
        for _ in range(self._pool.max_size):
            conn = self._pool.getconn(timeout=CONNECT_TIMEOUT_SECONDS)
            if not (conn.closed or select.select([conn.pgconn.socket], [], [], 0)[0]):
                return conn
            conn.close()
            self._pool.putconn(conn)
        return self._pool.getconn(timeout=CONNECT_TIMEOUT_SECONDS)

    def unavailable(self, exc: BaseException) -> bool:
        # The server gone or restarting, or no pooled connection within the timeout
        # (psycopg_pool.PoolTimeout is an OperationalError too).
        return isinstance(exc, psycopg.OperationalError)

    def ready(self) -> None:
        """Nothing held: replicas take turns at the schema under an advisory lock."""

    def tables(self, db: Connection) -> set[str]:
        rows = db.execute(
            "SELECT table_name AS name FROM information_schema.tables "
            "WHERE table_schema = current_schema()"
        ).fetchall()
        return {row["name"] for row in rows}

    def close(self) -> None:
        if not self._pool.closed:
            self.signal.close()
            self._pool.close()
