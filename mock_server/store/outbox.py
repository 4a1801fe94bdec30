"""The callback outbox's rows and attempt records (``mock_server/delivery/outbox.py`` owns
their meaning): claimed under a lease so two processes never make the same attempt."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from mock_server.domain.models import Delivery
from mock_server.store.database import Database, record
from mock_server.store.state import bump

OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS callbacks (
    task_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_due REAL,
    state TEXT NOT NULL DEFAULT 'pending',
    claimed_by TEXT,
    lease_until REAL,
    rev INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS callbacks_pending ON callbacks (next_due) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS callbacks_by_rev ON callbacks (rev);
CREATE TABLE IF NOT EXISTS callback_attempts (
    task_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (task_id, number)
);
"""

ATTEMPTED_AT = "json_extract(a.data, '$.attempted_at')"


class OutboxTables(Database):
    def callbacks(self, task_id: str | None = None, pending: bool = False) -> list[Delivery]:
        query = "SELECT * FROM callbacks WHERE (? IS NULL OR task_id = ?)"
        query += " AND state = 'pending'" if pending else ""
        rows = self.query(query + " ORDER BY task_id", (task_id, task_id))
        return [_delivery(r) for r in rows]

    def callbacks_page(
        self, task_id: str | None, after: int, limit: int
    ) -> list[tuple[int, Delivery]]:
        """Up to ``limit`` deliveries in the order they entered the outbox, past position
        ``after``, each with its position (keyset paging on the rowid)."""
        rows = self.query(
            "SELECT rowid AS position, * FROM callbacks WHERE rowid > ? "
            "AND (? IS NULL OR task_id = ?) ORDER BY rowid LIMIT ?",
            (after, task_id, task_id, limit),
        )
        return [(int(r["position"]), _delivery(r)) for r in rows]

    def callbacks_since(self, rev: int) -> list[Delivery]:
        """Pending deliveries written or moved on after ``rev`` (by any process)."""
        rows = self.query(
            "SELECT * FROM callbacks WHERE rev > ? AND state = 'pending' ORDER BY rev", (rev,)
        )
        return [_delivery(r) for r in rows]

    def claim_callback(
        self,
        task_id: str,
        attempts: int,
        owner: str,
        lease_until: float,
        now: float,
        steal_from: str | None = None,
    ) -> bool:
        """Take attempt ``attempts + 1`` of a pending delivery under a lease; True if ours.

        One conditional UPDATE, atomic under SQLite's write lock (and PostgreSQL's row
        lock): of several processes racing for one attempt, exactly one wins.
        ``steal_from`` breaks the claim of an owner known to be dead.
        """
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE callbacks SET claimed_by = ?, lease_until = ? "
                "WHERE task_id = ? AND state = 'pending' AND attempts = ? AND "
                "(claimed_by IS NULL OR claimed_by IN (?, ?) OR lease_until < ?)",
                (owner, lease_until, task_id, attempts, owner, steal_from, now),
            )
            return cursor.rowcount == 1

    def record_callback_attempt(
        self,
        task_id: str,
        owner: str,
        attempt: dict[str, Any],
        state: str,
        next_due: float | None,
    ) -> bool:
        """Store an attempt and the delivery's next step, if ``owner`` still holds it."""
        number = attempt["number"]
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE callbacks SET attempts = ?, state = ?, next_due = ?, claimed_by = NULL, "
                "lease_until = NULL, rev = (SELECT rev + 1 FROM state WHERE id = 1) "
                "WHERE task_id = ? AND claimed_by = ? AND attempts = ?",
                (number, state, next_due, task_id, owner, number - 1),
            )
            if cursor.rowcount != 1:
                return False
            bump(db)
            db.execute(
                "INSERT INTO callback_attempts VALUES (?, ?, ?)",
                (task_id, number, orjson.dumps(attempt)),
            )
            return True

    def release_callback_claims(self, owner: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE callbacks SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = ?",
                (owner,),
            )

    def attempts_of(self, task_ids: list[str]) -> list[dict[str, Any]]:
        """Every attempt of these deliveries."""
        marks = ", ".join("?" * len(task_ids))
        rows = self.query(
            f"SELECT task_id, data FROM callback_attempts WHERE task_id IN ({marks})",
            tuple(task_ids),
        )
        return [{"task_id": r["task_id"], **orjson.loads(r["data"])} for r in rows]

    def attempts_after(
        self,
        key: str | None,
        task_id: str | None,
        after: tuple[float, int, str],
        limit: int,
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` attempts after (attempted_at, number, task id), in that order;
        of one key's tasks if asked (an attempt whose task is gone counts as anyone's)."""
        rows = self.query(
            f"SELECT a.task_id, a.data FROM callback_attempts AS a "
            f"LEFT JOIN tasks AS t ON t.id = a.task_id "
            f"WHERE ({ATTEMPTED_AT}, a.number, a.task_id) > (?, ?, ?) "
            f"AND (? IS NULL OR a.task_id = ?) AND (? IS NULL OR t.key IS NULL OR t.key = ?) "
            f"ORDER BY {ATTEMPTED_AT}, a.number, a.task_id LIMIT ?",
            (*after, task_id, task_id, key, key, limit),
        )
        return [{"task_id": r["task_id"], **orjson.loads(r["data"])} for r in rows]

    def callback_attempts(self, task_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT task_id, data FROM callback_attempts WHERE (? IS NULL OR task_id = ?)",
                (task_id, task_id),
            ).fetchall()
        return [{"task_id": r["task_id"], **orjson.loads(r["data"])} for r in rows]


def _delivery(row: sqlite3.Row) -> Delivery:
    return record(Delivery, row)
