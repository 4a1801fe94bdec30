"""Tasks as stored: the request, the plan, the money, and ``rev``, the version a process
compares to know its cached copy is current.

Every change is conditional on the version the caller read (``update_plan``) or on the
task not being settled yet (``settle``), so two processes never both end or both bill
one task.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from decimal import Decimal

import orjson

from mock_server.domain.models import CreateRequest, LedgerEntry, Plan, Task
from mock_server.store.ledger import LedgerTables
from mock_server.store.state import bump

TASKS_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    created REAL NOT NULL,
    finish REAL NOT NULL,
    data TEXT NOT NULL,
    plan TEXT NOT NULL,
    settled INTEGER NOT NULL DEFAULT 0,
    rev INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_unsettled ON tasks (finish, id) WHERE settled = 0;
CREATE INDEX IF NOT EXISTS tasks_by_rev ON tasks (rev);
CREATE INDEX IF NOT EXISTS tasks_by_key ON tasks (key, created);
CREATE INDEX IF NOT EXISTS tasks_by_created ON tasks (created, id)
"""


# What a purged task takes with it (its ledger entries stay: balances stay exact).
PURGED_WITH_TASK = (("tasks", "id"), ("callbacks", "task_id"), ("callback_attempts", "task_id"))


class Lost(Exception):
    """A conditional change found the row changed: the transaction rolls back."""


# One outbox row: task id, url, body, first attempt due.
CallbackRow = tuple[str, str, bytes, float]


def _data(task: Task) -> bytes:
    return orjson.dumps(
        {
            "request": task.request.to_json(),
            "reserved": str(task.reserved),
            "input_seconds": str(task.input_seconds),
            "reference_seconds": [str(s) for s in task.reference_seconds],
            "estimated_time": task.estimated_time,
            "user_group": task.user_group,
        }
    )


def task_from_row(row: sqlite3.Row) -> Task:
    data = orjson.loads(row["data"])
    return Task(
        id=row["id"],
        key=row["key"],
        request=CreateRequest.from_json(data["request"]),
        plan=Plan.from_json(orjson.loads(row["plan"])),
        reserved=Decimal(data["reserved"]),
        input_seconds=Decimal(data["input_seconds"]),
        reference_seconds=tuple(Decimal(s) for s in data["reference_seconds"]),
        estimated_time=data["estimated_time"],
        user_group=data["user_group"],
        settled=bool(row["settled"]),
        rev=row["rev"],
    )


class TaskTables(LedgerTables):
    def insert_task(self, task: Task, reservation: LedgerEntry) -> Task | None:
        """The task and its reservation in one transaction: both or neither survive.
        None when the key's available credits do not cover the reservation."""
        with self.transaction() as db:
            if self.reserve(db, reservation) is None:
                return None
            stored = replace(task, rev=bump(db))
            db.execute(
                "INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    stored.id,
                    stored.key,
                    stored.plan.created,
                    stored.plan.finish,
                    _data(stored),
                    orjson.dumps(stored.plan.to_json()),
                    int(stored.settled),
                    stored.rev,
                ),
            )
            return stored

    def task_exists(self, task_id: str) -> bool:
        return bool(self.query("SELECT 1 FROM tasks WHERE id = ?", (task_id,)))

    def get_task(self, task_id: str) -> Task | None:
        rows = self.query("SELECT * FROM tasks WHERE id = ?", (task_id,))
        return task_from_row(rows[0]) if rows else None

    def tasks_since(self, rev: int) -> list[Task]:
        """Tasks created or changed after ``rev``, oldest change first."""
        rows = self.query("SELECT * FROM tasks WHERE rev > ? ORDER BY rev", (rev,))
        return [task_from_row(r) for r in rows]

    def unsettled_after(
        self, after: tuple[float, str] | None, limit: int
    ) -> list[tuple[str, float]]:
        """(id, finish) of the first ``limit`` unsettled tasks past ``after`` (a
        (finish, id) keyset cursor), earliest finish first."""
        if after is None:
            rows = self.query(
                "SELECT id, finish FROM tasks WHERE settled = 0 ORDER BY finish, id LIMIT ?",
                (limit,),
            )
        else:
            rows = self.query(
                "SELECT id, finish FROM tasks WHERE settled = 0 AND (finish, id) > (?, ?) "
                "ORDER BY finish, id LIMIT ?",
                (*after, limit),
            )
        return [(r[0], float(r[1])) for r in rows]

    def list_tasks(
        self, key: str | None = None, task_ids: Sequence[str] | None = None
    ) -> list[Task]:
        """Tasks oldest first, of one key or with the given ids."""
        query, args = "SELECT * FROM tasks", []  # type: str, list[object]
        where = []
        if key is not None:
            where.append("key = ?")
            args.append(key)
        if task_ids is not None:
            where.append(f"id IN ({', '.join('?' * len(task_ids))})")
            args.extend(task_ids)
        if where:
            query += " WHERE " + " AND ".join(where)
        return [task_from_row(r) for r in self.query(query + " ORDER BY created, id", tuple(args))]

    def newest_tasks(self, limit: int) -> list[Task]:
        """The newest ``limit`` tasks, newest first (the dashboard's list)."""
        rows = self.query("SELECT * FROM tasks ORDER BY created DESC, id DESC LIMIT ?", (limit,))
        return [task_from_row(r) for r in rows]

    def page_tasks(
        self,
        key: str | None = None,
        limit: int = 100,
        after: tuple[float, str] | None = None,
        finish_from: float | None = None,
    ) -> tuple[list[Task], tuple[float, str] | None]:
        """Up to ``limit`` tasks oldest first, past the (created, id) cursor ``after``, and
        the cursor of the next page (None at the end): keyset paging, so a page costs the
        same however many tasks are stored. ``finish_from``: only tasks ending then or
        later."""
        where, args = ["1"], []  # type: list[str], list[object]
        if key is not None:
            where.append("key = ?")
            args.append(key)
        if after is not None:
            where.append("(created, id) > (?, ?)")
            args.extend(after)
        if finish_from is not None:
            where.append("finish >= ?")
            args.append(finish_from)
        rows = self.query(
            f"SELECT * FROM tasks WHERE {' AND '.join(where)} ORDER BY created, id LIMIT ?",
            (*args, limit + 1),
        )
        tasks = [task_from_row(r) for r in rows[:limit]]
        more = len(rows) > limit and tasks
        return tasks, (tasks[-1].plan.created, tasks[-1].id) if more else None

    def purge_settled(self, before: float, limit: int) -> list[str]:
        """Delete up to ``limit`` settled tasks that ended before ``before``, with their
        callback deliveries and attempts (their ledger entries stay); their ids."""
        with self.transaction() as db:
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT id FROM tasks WHERE settled = 1 AND finish < ? LIMIT ?",
                    (before, limit),
                )
            ]
            if ids:
                marks = ", ".join("?" * len(ids))
                for table, column in PURGED_WITH_TASK:
                    db.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", ids)
                bump(db)
            return ids

    def result_kinds(self) -> list[tuple[str, str, str, int, bool]]:
        """Each distinct (model, quality, aspect ratio, duration, audio) a stored task asked
        for: what decides which rendered result files are still used."""
        rows = self.query(
            "SELECT DISTINCT json_extract(data, '$.request.model'), "
            "json_extract(data, '$.request.quality'), "
            "json_extract(data, '$.request.aspect_ratio'), "
            "json_extract(data, '$.request.duration'), "
            "json_extract(data, '$.request.generate_audio') FROM tasks"
        )
        return [(r[0], r[1], r[2], int(r[3]), bool(r[4])) for r in rows]

    def count_settled(self) -> int:
        return int(self.query("SELECT COUNT(*) FROM tasks WHERE settled = 1")[0][0])

    def count_tasks(self) -> int:
        return int(self.query("SELECT COUNT(*) FROM tasks")[0][0])

    def update_plan(self, task: Task, plan: Plan) -> Task | None:
        """``task`` with ``plan``, if nobody changed it since it was read (else None)."""
        rev = self._change_task(
            "plan = ?, finish = ?", (orjson.dumps(plan.to_json()), plan.finish), task
        )
        return None if rev is None else replace(task, plan=plan, rev=rev)

    def settle(
        self,
        task: Task,
        entries: Iterable[LedgerEntry],
        callbacks: Iterable[CallbackRow] = (),
    ) -> Task | None:
        """Mark ``task`` settled with its ledger entries and outbox row, in one transaction,
        if it is still as read and unsettled; None when another process got there first.

        ``callbacks`` enter the outbox in the same transaction: a crash can neither lose a
        callback nor send one before billing.
        """

        def also(db: sqlite3.Connection, rev: int) -> None:
            self.post(db, entries)
            db.executemany(
                "INSERT OR IGNORE INTO callbacks (task_id, url, body, next_due, rev) "
                "VALUES (?, ?, ?, ?, ?)",
                [(*row, rev) for row in callbacks],
            )

        rev = self._change_task("settled = 1", (), task, also)
        return None if rev is None else replace(task, settled=True, rev=rev)

    def _change_task(
        self,
        assignments: str,
        values: tuple[object, ...],
        task: Task,
        also: Callable[[sqlite3.Connection, int], None] | None = None,
    ) -> int | None:
        """Change an unsettled task if it is still the version read, and do ``also`` in
        the same transaction; the new version, or None when another process moved it."""
        try:
            with self.transaction() as db:
                rev = bump(db)
                cursor = db.execute(
                    f"UPDATE tasks SET {assignments}, rev = ? "
                    "WHERE id = ? AND rev = ? AND settled = 0",
                    (*values, rev, task.id, task.rev),
                )
                if cursor.rowcount != 1:
                    raise Lost
                if also is not None:
                    also(db, rev)
                return rev
        except Lost:
            return None
