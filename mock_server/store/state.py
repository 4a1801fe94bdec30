"""The store's one-row ``state``: the counters every process shares and the clock.

``rev`` moves in every transaction that changes something a process caches (a task, a
key, a rule, the clock), so a process that saw the change signal asks "what moved since
rev N?" and nothing else. Ids, ledger and journal sequence numbers come from the store
(``counters`` and the tables' own keys), never from a process's memory.
"""

from __future__ import annotations

import threading

from mock_server.store import schema
from mock_server.store.database import Database, Dialect, Row, record
from mock_server.store.records import State

TASK_NUMBER_BLOCK = 64


def _state(row: Row) -> State:
    return record(State, row, scenarios_loaded=bool(row["scenarios_loaded"]))


class StateTables(Database):
    def __init__(self, dialect: Dialect) -> None:
        super().__init__(dialect)
        self._numbers = [0, 0]  # the block of task numbers taken: next, end
        self._numbers_lock = threading.Lock()

    def state(self) -> State:
        return _state(self.query("SELECT * FROM state WHERE id = 1")[0])

    def changes(self) -> tuple[int, int, int]:
        """(epoch, rev, the ledger's last seq): one of them moves with every write, a
        create too (it moves no ``rev`` but writes its reservation)."""
        row = self.query(
            "SELECT epoch, rev, (SELECT COALESCE(MAX(seq), 0) FROM ledger) AS seq "
            "FROM state WHERE id = 1"
        )[0]
        return int(row["epoch"]), int(row["rev"]), int(row["seq"])

    def init_state(
        self, clock_start: float, seed: int, secret: str, keep_seed: bool = True
    ) -> State:
        """Set what the first process to open the store decides; later ones read it.
        ``keep_seed`` False: ``seed`` replaces the store's (a ``--seed`` given)."""
        with self.transaction() as db:
            return _state(
                db.execute(
                    "UPDATE state SET clock_start = COALESCE(clock_start, ?), "
                    "seed = CASE WHEN ? THEN COALESCE(seed, ?) ELSE ? END, "
                    "secret = COALESCE(secret, ?) WHERE id = 1 RETURNING *",
                    (clock_start, keep_seed, seed, seed, secret),
                ).fetchone()
            )

    def mark_scenarios_loaded(self) -> bool:
        """True for the one caller that loads the ``--scenarios`` file into this store."""
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE state SET scenarios_loaded = TRUE WHERE id = 1 AND NOT scenarios_loaded"
            )
            return bool(cursor.rowcount == 1)

    def next_task_number(self) -> int:
        """A number no other process sharing the store will get.

        Numbers are taken from the store a block at a time, as a sequence caches them:
        one short transaction per ``TASK_NUMBER_BLOCK`` creates, not one per create. They
        come from ``counters``, not ``state``, so taking them never waits for a writer.
        """
        with self._numbers_lock:
            block = self._numbers
            if block[0] >= block[1]:
                with self.transaction() as db:
                    row = db.execute(
                        "UPDATE counters SET task_seq = task_seq + ? WHERE id = 1 "
                        "RETURNING task_seq",
                        (TASK_NUMBER_BLOCK,),
                    ).fetchone()
                end = int(row["task_seq"]) + 1
                block[:] = [end - TASK_NUMBER_BLOCK, end]
            block[0] += 1
            return block[0] - 1

    def move_clock(self, now: float) -> tuple[float, int]:
        """The virtual clock moves forward to ``now`` (never back); what it reads after,
        and the rev of the change."""
        return self._set_clock(
            "CASE WHEN clock_now IS NULL OR clock_now < ? THEN ? ELSE clock_now END", now, now
        )

    def step_clock(self, step: float, start: float) -> tuple[float, int]:
        """The stepped clock's tick: one atomic increment, whichever process takes it."""
        return self._set_clock("COALESCE(clock_now, ?) + ?", start, step)

    def _set_clock(self, value: str, *args: float) -> tuple[float, int]:
        with self.transaction() as db:
            rev = self.bump(db)
            row = db.execute(
                f"UPDATE state SET clock_now = {value} WHERE id = 1 RETURNING clock_now", args
            ).fetchone()
            return float(row["clock_now"]), rev

    def reset(self) -> None:
        """Forget everything; every process sharing the store drops its caches
        (``epoch``), the clock goes back to its start, and the counters carry on."""
        with self.transaction() as db:
            self.bump(db, "keys_rev", "scenarios_rev")
            db.execute(
                "UPDATE state SET epoch = epoch + 1, clock_now = clock_start, "
                "scenarios_loaded = FALSE WHERE id = 1"
            )
            for table in schema.TABLES:
                db.execute(f"DELETE FROM {table}")
