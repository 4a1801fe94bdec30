"""The callback outbox's rows and attempt records; ``mock_server/delivery/outbox.py`` owns
their meaning: who claims an attempt, and when a claim that outlived its process ends."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import orjson

from mock_server.domain.models import Delivery
from mock_server.store.database import ALL, Database, Row, json_text, marks, matching, record
from mock_server.store.records import Lost


def _delivery(row: Row) -> Delivery:
    return record(Delivery, row, body=bytes(row["body"]))


class OutboxTables(Database):
    def callbacks(
        self, task_id: str | None = None, pending: bool = False, after: int = 0, limit: int = ALL
    ) -> list[Delivery]:
        """Up to ``limit`` deliveries in the order they entered the outbox, past position
        ``after`` (keyset paging): of one task, only the pending, as asked."""
        where, args = matching(task_id=task_id, state="pending" if pending else None)
        rows = self.query(
            f"SELECT * FROM callbacks WHERE position > ?{where} ORDER BY position LIMIT ?",
            (after, *args, limit),
        )
        return [_delivery(r) for r in rows]

    def callbacks_since(self, rev: int) -> list[Delivery]:
        """Pending deliveries written or moved on after ``rev`` (by any process); a query
        of its own, so it reads them by ``callbacks_by_rev``, not the whole outbox."""
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

        The row is chosen and changed in one statement: under SQLite's write lock, or
        locked by PostgreSQL with ``SKIP LOCKED``, so a replica meeting a row another is
        claiming right now skips it without waiting. Of several processes racing for one
        attempt, exactly one wins. ``steal_from`` breaks the claim of an owner known dead.
        """
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE callbacks SET claimed_by = ?, lease_until = ? WHERE task_id = "
                "(SELECT task_id FROM callbacks WHERE task_id = ? AND state = 'pending' "
                "AND attempts = ? AND (claimed_by IS NULL OR claimed_by = ? "
                f"OR claimed_by = ? OR lease_until < ?){self.dialect.skip_locked})",
                (owner, lease_until, task_id, attempts, owner, steal_from, now),
            )
            return bool(cursor.rowcount == 1)

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
        with contextlib.suppress(Lost), self.transaction() as db:
            rev = self.bump(db)
            cursor = db.execute(
                "UPDATE callbacks SET attempts = ?, state = ?, next_due = ?, "
                "claimed_by = NULL, lease_until = NULL, rev = ? "
                "WHERE task_id = ? AND claimed_by = ? AND attempts = ?",
                (number, state, next_due, rev, task_id, owner, number - 1),
            )
            if cursor.rowcount != 1:
                raise Lost
            db.execute(
                "INSERT INTO callback_attempts VALUES (?, ?, ?)",
                (task_id, number, json_text(attempt)),
            )
            return True
        return False

    def release_callback_claims(self, owner: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE callbacks SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = ?",
                (owner,),
            )

    def callback_attempts(
        self,
        task_ids: Sequence[str] | None = None,
        key: str | None = None,
        after: tuple[float, int, str] | None = None,
        limit: int = ALL,
    ) -> list[dict[str, Any]]:
        """Up to ``limit`` attempts in (attempted_at, number, task id) order, past ``after``
        if given: of these deliveries (None: of every one), of one key's tasks if asked
        (an attempt whose task is gone counts as anyone's)."""
        if task_ids is not None and not task_ids:
            return []  # not ``IN ()``, which PostgreSQL refuses
        at = self.dialect.json_field("a.data", "attempted_at", "DOUBLE PRECISION")
        args: list[object] = list(task_ids or ())
        where = "" if task_ids is None else f" AND a.task_id IN ({marks(len(task_ids))})"
        if key is not None:
            where, args = f"{where} AND (t.key IS NULL OR t.key = ?)", [*args, key]
        if after is not None:
            where, args = f"{where} AND ({at}, a.number, a.task_id) > (?, ?, ?)", [*args, *after]
        rows = self.query(
            "SELECT a.task_id, a.data FROM callback_attempts AS a "
            f"LEFT JOIN tasks AS t ON t.id = a.task_id WHERE TRUE{where} "
            f"ORDER BY {at}, a.number, a.task_id LIMIT ?",
            (*args, limit),
        )
        return [{"task_id": r["task_id"], **orjson.loads(r["data"])} for r in rows]
