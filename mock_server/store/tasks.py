"""Tasks as stored: the request, the plan, the money, and ``rev``, the version a process
compares to know its cached copy is current.

Every change is conditional on the version the caller read (``update_plan``) or on the
task not being settled yet (``settle``), so two processes never both end or both bill
one task.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import replace
from decimal import Decimal

import orjson

from mock_server.domain.models import CreateRequest, LedgerEntry, Plan, Task
from mock_server.store.database import Conn, Row, json_text, marks, matching
from mock_server.store.ledger import LedgerTables
from mock_server.store.records import CallbackRow, Lost

# What a purged task takes with it (its ledger entries stay: balances stay exact).
PURGED_WITH_TASK = (("callbacks", "task_id"), ("callback_attempts", "task_id"))
# What decides which rendered result files are still used (service/retention.py).
RESULT_KIND = (
    ("model", "TEXT"),
    ("quality", "TEXT"),
    ("aspect_ratio", "TEXT"),
    ("duration", "INTEGER"),
    ("generate_audio", "BOOLEAN"),
)


def task_data(task: Task) -> str:
    return json_text(
        {
            "request": task.request.to_json(),
            "reserved": str(task.reserved),
            "input_seconds": str(task.input_seconds),
            "reference_seconds": [str(s) for s in task.reference_seconds],
            "estimated_time": task.estimated_time,
            "user_group": task.user_group,
        }
    )


def task_from_row(row: Row) -> Task:
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
        None when the key's available credits do not cover the reservation.

        A create moves no ``rev`` (the task is stored at rev 0): no shared row is
        locked but the key's balance, and that only for the last statement, so creates
        on several processes run side by side. Other processes are not told; they read
        a task they do not hold when it is asked for, and settle one that is due when
        their clock moves (service/settling.py ``catch_up``)."""
        with contextlib.suppress(Lost), self.transaction() as db:
            db.execute(
                "INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    task.id,
                    task.key,
                    task.plan.created,
                    task.plan.finish,
                    task_data(task),
                    json_text(task.plan.to_json()),
                    task.settled,
                    0,
                ),
            )
            if not self.reserve(db, reservation):
                raise Lost
            return replace(task, rev=0)
        return None

    def get_task(self, task_id: str) -> Task | None:
        rows = self.query("SELECT * FROM tasks WHERE id = ?", (task_id,))
        return task_from_row(rows[0]) if rows else None

    def tasks_since(self, rev: int) -> list[Task]:
        """Tasks created or changed after ``rev``, oldest change first."""
        rows = self.query("SELECT * FROM tasks WHERE rev > ? ORDER BY rev", (rev,))
        return [task_from_row(r) for r in rows]

    def unsettled_after(
        self, after: tuple[float, str] | None, limit: int, until: float | None = None
    ) -> list[tuple[str, float]]:
        """(id, finish) of the first ``limit`` unsettled tasks past ``after`` (a
        (finish, id) keyset cursor), earliest finish first; with ``until``, only those
        ending by then."""
        where = ""
        args: tuple[object, ...] = ()
        if after is not None:
            where, args = " AND (finish, id) > (?, ?)", after
        if until is not None:
            where, args = f"{where} AND finish <= ?", (*args, until)
        rows = self.query(
            f"SELECT id, finish FROM tasks WHERE NOT settled{where} ORDER BY finish, id LIMIT ?",
            (*args, limit),
        )
        return [(r["id"], float(r["finish"])) for r in rows]

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
        where, args = matching(key=key)
        if after is not None:
            where, args = f"{where} AND (created, id) > (?, ?)", (*args, *after)
        if finish_from is not None:
            where, args = f"{where} AND finish >= ?", (*args, finish_from)
        rows = self.query(
            f"SELECT * FROM tasks WHERE TRUE{where} ORDER BY created, id LIMIT ?",
            (*args, limit + 1),
        )
        tasks = [task_from_row(r) for r in rows[:limit]]
        more = len(rows) > limit and tasks
        return tasks, (tasks[-1].plan.created, tasks[-1].id) if more else None

    def purge_settled(self, before: float, limit: int) -> list[str]:
        """Delete up to ``limit`` settled tasks that ended before ``before``, with their
        callback deliveries and attempts (their ledger entries stay); their ids."""
        found = self.query(
            "SELECT id FROM tasks WHERE settled AND finish < ? LIMIT ?", (before, limit)
        )
        if not found:
            return []
        with self.transaction() as db:
            self.bump(db)
            ids = [r["id"] for r in found]
            rows = db.execute(
                f"DELETE FROM tasks WHERE settled AND id IN ({marks(len(ids))}) RETURNING id", ids
            ).fetchall()
            ids = [r["id"] for r in rows]
            for table, column in PURGED_WITH_TASK if ids else ():
                db.execute(f"DELETE FROM {table} WHERE {column} IN ({marks(len(ids))})", ids)
            return ids

    def result_kinds(self) -> list[tuple[str, str, str, int, bool]]:
        """Each distinct (model, quality, aspect ratio, duration, audio) a stored task asked
        for: what decides which rendered result files are still used."""
        fields = ", ".join(
            f"{self.dialect.json_field('data', f'request.{name}', kind)} AS {name[0]}"
            for name, kind in RESULT_KIND
        )
        rows = self.query(f"SELECT DISTINCT {fields} FROM tasks")
        return [(r["m"], r["q"], r["a"], int(r["d"]), bool(r["g"])) for r in rows]

    def count_tasks(self) -> int:
        return int(self.query("SELECT COUNT(*) AS n FROM tasks")[0]["n"])

    def update_plan(self, task: Task, plan: Plan) -> Task | None:
        """``task`` with ``plan``, if nobody changed it since it was read (else None)."""
        values = (json_text(plan.to_json()), plan.finish)
        rev = self._change_task("plan = ?, finish = ?", values, task)
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

        def also(db: Conn, rev: int) -> None:
            self.post(db, entries)
            for row in callbacks:
                db.execute(
                    "INSERT INTO callbacks (task_id, url, body, next_due, rev) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (*row, rev),
                )

        rev = self._change_task("settled = TRUE", (), task, also)
        return None if rev is None else replace(task, settled=True, rev=rev)

    def _change_task(
        self,
        assignments: str,
        values: tuple[object, ...],
        task: Task,
        also: Callable[[Conn, int], None] | None = None,
    ) -> int | None:
        """Change an unsettled task if it is still the version read, and do ``also`` in
        the same transaction; the new version, or None when another process moved it."""
        with contextlib.suppress(Lost), self.transaction() as db:
            rev = self.bump(db)
            cursor = db.execute(
                f"UPDATE tasks SET {assignments}, rev = ? WHERE id = ? AND rev = ? AND NOT settled",
                (*values, rev, task.id, task.rev),
            )
            if cursor.rowcount != 1:
                raise Lost
            if also is not None:
                also(db, rev)
            return rev
        return None
