"""The store's one-row ``state``: the counters every process shares and the clock.

``rev`` moves in every transaction that changes something a process caches (a task, a
key, a rule, the clock), so a process that saw the change signal asks "what moved since
rev N?" and nothing else. Ids, ledger and journal sequence numbers come from here or
from the tables' own keys, never from a process's memory (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from mock_server.store.database import Database, record
from mock_server.store.records import StoreError as StoreError  # its old home

SCHEMA_VERSION = 2
TASK_NUMBER_BLOCK = 64
STATE_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    rev INTEGER NOT NULL DEFAULT 0,
    epoch INTEGER NOT NULL DEFAULT 0,
    keys_rev INTEGER NOT NULL DEFAULT 0,
    scenarios_rev INTEGER NOT NULL DEFAULT 0,
    task_seq INTEGER NOT NULL DEFAULT 0,
    journal_seq INTEGER NOT NULL DEFAULT 0,
    clock_now REAL,
    clock_start REAL,
    seed INTEGER,
    secret TEXT,
    scenarios_loaded INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO state (id) VALUES (1)
"""


@dataclass(frozen=True, slots=True)
class State:
    """What every process agrees on, read in one query."""

    rev: int
    epoch: int
    keys_rev: int
    scenarios_rev: int
    clock_now: float | None
    clock_start: float | None
    seed: int | None
    secret: str | None
    scenarios_loaded: bool


def bump(db: sqlite3.Connection, *also: str) -> int:
    """Move ``rev`` (and the named counters to it) inside the caller's transaction."""
    extra = "".join(f", {name} = rev + 1" for name in also)
    row = db.execute(f"UPDATE state SET rev = rev + 1{extra} WHERE id = 1 RETURNING rev").fetchone()
    return int(row[0])


class StateTables(Database):
    task_numbers: list[int]

    def prepare(self, db: sqlite3.Connection) -> None:
        """Refuse a file an older wanmock wrote rather than misread it."""
        old = db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        if old is not None:
            raise StoreError(
                f"the store {self.path} was written by an older wanmock (schema 1); "
                "move it aside or pass another --db"
            )

    def check_schema(self) -> None:
        with self.transaction() as db:
            found = db.execute("SELECT version FROM schema_version").fetchone()
            if found is None:
                db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            elif found[0] != SCHEMA_VERSION:
                raise StoreError(
                    f"the store {self.path} has schema {found[0]}, this wanmock reads "
                    f"{SCHEMA_VERSION}; move it aside or pass another --db"
                )

    def state(self) -> State:
        row = self.query("SELECT * FROM state WHERE id = 1")[0]
        return record(State, row, scenarios_loaded=bool(row["scenarios_loaded"]))

    def init_state(self, clock_start: float, seed: int, secret: str) -> State:
        """Set what the first process to open the store decides; later ones read it."""
        with self.transaction() as db:
            db.execute(
                "UPDATE state SET clock_start = COALESCE(clock_start, ?), "
                "seed = COALESCE(seed, ?), secret = COALESCE(secret, ?) WHERE id = 1",
                (clock_start, seed, secret),
            )
        return self.state()

    def set_seed(self, seed: int) -> None:
        with self.transaction() as db:
            db.execute("UPDATE state SET seed = ? WHERE id = 1", (seed,))

    def mark_scenarios_loaded(self) -> bool:
        """True for the one caller that loads the ``--scenarios`` file into this store."""
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE state SET scenarios_loaded = 1 WHERE id = 1 AND scenarios_loaded = 0"
            )
            return cursor.rowcount == 1

    def next_task_number(self) -> int:
        """A number no other process sharing the store will get (a sequence).

        Numbers are taken from the store a block at a time, as a PostgreSQL sequence
        caches them: one transaction per ``TASK_NUMBER_BLOCK`` creates, not per create.
        """
        block = self.task_numbers
        if block[0] >= block[1]:
            with self.transaction() as db:
                row = db.execute(
                    "UPDATE state SET task_seq = task_seq + ? WHERE id = 1 RETURNING task_seq",
                    (TASK_NUMBER_BLOCK,),
                ).fetchone()
            block[:] = [int(row[0]) - TASK_NUMBER_BLOCK + 1, int(row[0]) + 1]
        block[0] += 1
        return int(block[0] - 1)

    def move_clock(self, now: float) -> tuple[float, int]:
        """The virtual clock moves forward to ``now`` (never back); what it reads after,
        and the rev of the change."""
        with self.transaction() as db:
            row = db.execute(
                "UPDATE state SET clock_now = MAX(COALESCE(clock_now, ?), ?), rev = rev + 1 "
                "WHERE id = 1 RETURNING clock_now, rev",
                (now, now),
            ).fetchone()
            return float(row[0]), int(row[1])

    def step_clock(self, step: float, start: float) -> tuple[float, int]:
        """The stepped clock's tick: one atomic increment, whichever process takes it."""
        with self.transaction() as db:
            row = db.execute(
                "UPDATE state SET clock_now = COALESCE(clock_now, ?) + ?, rev = rev + 1 "
                "WHERE id = 1 RETURNING clock_now, rev",
                (start, step),
            ).fetchone()
            return float(row[0]), int(row[1])

    def reset_state(self, db: sqlite3.Connection) -> None:
        """Inside a reset: every process must drop its caches (``epoch``); the clock goes
        back to its start and the counters that name things carry on."""
        db.execute(
            "UPDATE state SET epoch = epoch + 1, rev = rev + 1, keys_rev = rev + 1, "
            "scenarios_rev = rev + 1, clock_now = clock_start, scenarios_loaded = 0 "
            "WHERE id = 1"
        )
