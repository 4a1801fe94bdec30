"""The store on PostgreSQL, for several replicas behind one address (README "Running a
shared instance"): a connection pool, the schema applied under an advisory lock, the
shared counters and clock, and a change signal fed by LISTEN/NOTIFY.

Every transaction that moves ``rev`` takes the ``state`` row's lock first (``bump``), so
such transactions commit in ``rev`` order (a replica asking "what moved since rev N?"
misses nothing) and never deadlock on each other; each also sends ``NOTIFY
wanmock_changes``, which PostgreSQL delivers at commit. A listener thread counts the
notifications, so a poll compares two integers and makes no round trip unless another
replica wrote (docs/ARCHITECTURE.md "The store is the source of truth").
"""

from __future__ import annotations

import logging
import secrets
import select
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolClosed

from mock_server.store.database import StoreClosedError
from mock_server.store.pg_schema import ADVISORY_LOCK, MIGRATIONS, SCHEMA_VERSION, TABLES
from mock_server.store.records import FaultLog, StoreUnavailable
from mock_server.store.state import State, StoreError

CHANNEL = "wanmock_changes"
CONNECT_TIMEOUT_SECONDS = 5
TASK_NUMBER_BLOCK = 64
Conn = psycopg.Connection[dict[str, Any]]


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def bump(db: Conn, *also: str) -> int:
    """Move ``rev`` (and the named counters to it) and tell every replica at commit.

    Call it first in a transaction: the ``state`` row's lock is the fleet's write order."""
    extra = "".join(f", {name} = rev + 1" for name in also)
    row = db.execute(f"UPDATE state SET rev = rev + 1{extra} WHERE id = 1 RETURNING rev").fetchone()
    # The payload names the store that wrote (its connections' application_name), so its
    # own listener can skip it: the writer updated its caches itself.
    db.execute(f"SELECT pg_notify('{CHANNEL}', current_setting('application_name'))")
    assert row is not None
    return int(row["rev"])


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


def connect_check(url: str) -> None:
    """Connect once, so a server that is down or refuses the credentials stops the start
    with what PostgreSQL said, not a pool's timeout."""
    try:
        psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS).close()
    except psycopg.Error as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        gone = isinstance(exc, psycopg.OperationalError)  # may work later: --db-wait retries
        raise (StoreUnavailable if gone else StoreError)(
            f"--db {redacted(url)}: cannot connect to PostgreSQL: {reason}"
        ) from exc


class PgDatabase:
    """The pool, transactions and the schema; ``PostgresStore`` adds the tables."""

    def __init__(self, url: str, pool_size: int = 4) -> None:
        self.path = redacted(url)
        self.faults = FaultLog(self.path)
        # FaultLog says once that the server is gone; the pool would say it per attempt.
        logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
        self.writer = f"wanmock-{secrets.token_hex(6)}"  # names this store's changes
        connect_check(url)
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={
                "row_factory": dict_row,
                "connect_timeout": CONNECT_TIMEOUT_SECONDS,
                "application_name": self.writer,
            },
            open=False,
            name="wanmock",
        )
        self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_SECONDS * 2)
        try:
            self._migrate()
            self.signal = NotifySignal(url, own=self.writer)
        except BaseException:
            self._pool.close()
            raise

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        """One transaction on a pooled connection: committed at the end, rolled back
        on an exception."""
        try:
            # A server that is gone is a 503 after CONNECT_TIMEOUT_SECONDS, not the pool's 30
            with self._pool.connection(timeout=CONNECT_TIMEOUT_SECONDS) as conn:
                yield conn
        except PoolClosed as exc:
            raise StoreClosedError("the store is closed") from exc
        except psycopg.OperationalError as exc:  # the server gone, or no connection in time
            raise self.faults.failed(exc) from exc
        self.faults.worked()

    def query(self, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self.transaction() as db:
            return db.execute(sql, args).fetchall()

    def _migrate(self) -> None:
        """Create or upgrade the schema; replicas starting together take turns on the
        advisory lock, so each step runs once."""
        with self.transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(%s)", (ADVISORY_LOCK,))
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = db.execute("SELECT version FROM schema_version").fetchone()
            found = 0 if row is None else int(row["version"])
            if found > SCHEMA_VERSION:
                raise StoreError(
                    f"the database {self.path} has schema {found}, this wanmock reads "
                    f"{SCHEMA_VERSION}; upgrade wanmock or pass another --db"
                )
            for version in range(found + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        db.execute(statement)
            if row is None:
                db.execute("INSERT INTO schema_version VALUES (%s)", (SCHEMA_VERSION,))
            else:
                db.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION,))

    def close(self) -> None:
        if not self._pool.closed:
            self.signal.close()
            self._pool.close()


class PgStateTables(PgDatabase):
    def __init__(self, url: str, pool_size: int = 4) -> None:
        super().__init__(url, pool_size)
        self._numbers: list[int] = []  # task numbers drawn and not yet handed out
        self._numbers_lock = threading.Lock()

    def state(self) -> State:
        row = self.query("SELECT * FROM state WHERE id = 1")[0]
        return State(
            rev=row["rev"],
            epoch=row["epoch"],
            keys_rev=row["keys_rev"],
            scenarios_rev=row["scenarios_rev"],
            clock_now=row["clock_now"],
            clock_start=row["clock_start"],
            seed=row["seed"],
            secret=row["secret"],
            scenarios_loaded=bool(row["scenarios_loaded"]),
        )

    def init_state(self, clock_start: float, seed: int, secret: str) -> State:
        with self.transaction() as db:
            db.execute(
                "UPDATE state SET clock_start = COALESCE(clock_start, %s), "
                "seed = COALESCE(seed, %s), secret = COALESCE(secret, %s) WHERE id = 1",
                (clock_start, seed, secret),
            )
        return self.state()

    def set_seed(self, seed: int) -> None:
        with self.transaction() as db:
            db.execute("UPDATE state SET seed = %s WHERE id = 1", (seed,))

    def mark_scenarios_loaded(self) -> bool:
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE state SET scenarios_loaded = TRUE WHERE id = 1 AND NOT scenarios_loaded"
            )
            return cursor.rowcount == 1

    def next_task_number(self) -> int:
        """A number no other replica gets: drawn from the sequence a block at a time, so a
        create costs no round trip for it (numbers of a block need not be consecutive)."""
        with self._numbers_lock:
            if not self._numbers:
                rows = self.query(
                    "SELECT nextval('task_numbers') AS n FROM generate_series(1, %s)",
                    (TASK_NUMBER_BLOCK,),
                )
                self._numbers = sorted((int(r["n"]) for r in rows), reverse=True)
            return self._numbers.pop()

    def move_clock(self, now: float) -> tuple[float, int]:
        with self.transaction() as db:
            rev = bump(db)
            row = db.execute(
                "UPDATE state SET clock_now = GREATEST(COALESCE(clock_now, %s), %s) "
                "WHERE id = 1 RETURNING clock_now",
                (now, now),
            ).fetchone()
            assert row is not None
            return float(row["clock_now"]), rev

    def step_clock(self, step: float, start: float) -> tuple[float, int]:
        with self.transaction() as db:
            rev = bump(db)
            row = db.execute(
                "UPDATE state SET clock_now = COALESCE(clock_now, %s) + %s "
                "WHERE id = 1 RETURNING clock_now",
                (start, step),
            ).fetchone()
            assert row is not None
            return float(row["clock_now"]), rev

    def reset(self) -> None:
        """Forget everything; every replica drops its caches (``epoch``)."""
        with self.transaction() as db:
            bump(db)
            db.execute(
                "UPDATE state SET epoch = epoch + 1, keys_rev = rev, scenarios_rev = rev, "
                "clock_now = clock_start, scenarios_loaded = FALSE WHERE id = 1"
            )
            for table in TABLES:
                db.execute(f"DELETE FROM {table}")
