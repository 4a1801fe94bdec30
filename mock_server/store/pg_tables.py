"""Tasks, the ledger, keys and scenario rules on PostgreSQL: the same records and the
same conditions as their SQLite twins (store/tasks.py, ledger.py, keys.py).

A reservation is one conditional UPDATE on NUMERIC columns, ``available >= amount`` in
its WHERE: under READ COMMITTED a concurrent update of the same balance makes it wait and
re-check the condition on the new row, so replicas racing for the last credits cannot
both win. Task changes are conditional on the ``rev`` the caller read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

import orjson

from mock_server.domain.billing import MOVES, Balance
from mock_server.domain.models import CreateRequest, LedgerEntry, Plan, Task
from mock_server.store.keys import Grants
from mock_server.store.pg import Conn, PgStateTables, bump
from mock_server.store.tasks import CallbackRow, Lost, _data

ACCOUNTS = ("granted", "available", "reserved", "charged")


def _task(row: dict[str, Any]) -> Task:
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


def _entry(row: dict[str, Any]) -> LedgerEntry:
    return LedgerEntry(
        row["seq"], row["at"], row["key"], row["kind"], row["amount"], row["task_id"], row["note"]
    )


def _plan(plan: Plan) -> str:
    return orjson.dumps(plan.to_json()).decode()


class PgLedgerTables(PgStateTables):
    # -- inside a caller's transaction ----------------------------------------------------

    def open_account(self, db: Conn, key: str) -> None:
        db.execute("INSERT INTO balances (key) VALUES (%s) ON CONFLICT DO NOTHING", (key,))

    def post(self, db: Conn, entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
        posted = []
        for entry in entries:
            self.open_account(db, entry.key)
            moves = ", ".join(f"{name} = {name} + %s" for name in ACCOUNTS)
            amounts = [sign * entry.amount for sign in MOVES[entry.kind]]
            db.execute(f"UPDATE balances SET {moves} WHERE key = %s", (*amounts, entry.key))
            row = db.execute(
                "INSERT INTO ledger (at, key, kind, amount, task_id, note) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING seq",
                (entry.at, entry.key, entry.kind, entry.amount, entry.task_id, entry.note),
            ).fetchone()
            assert row is not None
            posted.append(replace(entry, seq=int(row["seq"])))
        return posted

    def reserve(self, db: Conn, entry: LedgerEntry) -> LedgerEntry | None:
        amount = entry.amount
        cursor = db.execute(
            "UPDATE balances SET available = available - %s, reserved = reserved + %s "
            "WHERE key = %s AND available >= %s",
            (amount, amount, entry.key, amount),
        )
        if cursor.rowcount != 1:
            return None
        row = db.execute(
            "INSERT INTO ledger (at, key, kind, amount, task_id, note) "
            "VALUES (%s, %s, 'reserve', %s, %s, %s) RETURNING seq",
            (entry.at, entry.key, amount, entry.task_id, entry.note),
        ).fetchone()
        assert row is not None
        return replace(entry, seq=int(row["seq"]))

    # -- reads ---------------------------------------------------------------------------

    def ledger_entries(self, key: str | None = None) -> list[LedgerEntry]:
        rows = self.query(
            "SELECT * FROM ledger WHERE (%s::text IS NULL OR key = %s) ORDER BY seq", (key, key)
        )
        return [_entry(r) for r in rows]

    def ledger_after(
        self, key: str | None, task_id: str | None, at: float, seq: int, limit: int
    ) -> list[LedgerEntry]:
        """Up to ``limit`` entries after (at, seq), in (at, seq) order (keyset paging)."""
        rows = self.query(
            "SELECT * FROM ledger WHERE (at, seq) > (%s, %s) AND (%s::text IS NULL OR key = %s) "
            "AND (%s::text IS NULL OR task_id = %s) ORDER BY at, seq LIMIT %s",
            (at, seq, key, key, task_id, task_id, limit),
        )
        return [_entry(r) for r in rows]

    def task_ledger(self, task_id: str) -> list[LedgerEntry]:
        rows = self.query("SELECT * FROM ledger WHERE task_id = %s ORDER BY seq", (task_id,))
        return [_entry(r) for r in rows]

    def balances(self) -> dict[str, Balance]:
        rows = self.query("SELECT * FROM balances ORDER BY key")
        return {r["key"]: Balance(*(r[name] for name in ACCOUNTS)) for r in rows}

    def balance(self, key: str) -> Balance:
        rows = self.query("SELECT * FROM balances WHERE key = %s", (key,))
        return Balance(*(rows[0][name] for name in ACCOUNTS)) if rows else Balance()


class PgTaskTables(PgLedgerTables):
    def insert_task(self, task: Task, reservation: LedgerEntry) -> Task | None:
        try:
            with self.transaction() as db:
                stored = replace(task, rev=bump(db))
                if self.reserve(db, reservation) is None:
                    raise Lost
                db.execute(
                    "INSERT INTO tasks VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        stored.id,
                        stored.key,
                        stored.plan.created,
                        stored.plan.finish,
                        _data(stored).decode(),
                        _plan(stored.plan),
                        stored.settled,
                        stored.rev,
                    ),
                )
                return stored
        except Lost:
            return None

    def get_task(self, task_id: str) -> Task | None:
        rows = self.query("SELECT * FROM tasks WHERE id = %s", (task_id,))
        return _task(rows[0]) if rows else None

    def tasks_since(self, rev: int) -> list[Task]:
        rows = self.query("SELECT * FROM tasks WHERE rev > %s ORDER BY rev", (rev,))
        return [_task(r) for r in rows]

    def unsettled_after(
        self, after: tuple[float, str] | None, limit: int
    ) -> list[tuple[str, float]]:
        """(id, finish) of the first ``limit`` unsettled tasks past the (finish, id)
        cursor ``after``, earliest finish first."""
        start = after if after is not None else (float("-inf"), "")
        rows = self.query(
            "SELECT id, finish FROM tasks WHERE NOT settled AND (finish, id) > (%s, %s) "
            "ORDER BY finish, id LIMIT %s",
            (*start, limit),
        )
        return [(r["id"], float(r["finish"])) for r in rows]

    def page_tasks(
        self,
        key: str | None = None,
        limit: int = 100,
        after: tuple[float, str] | None = None,
        finish_from: float | None = None,
    ) -> tuple[list[Task], tuple[float, str] | None]:
        """Up to ``limit`` tasks oldest first past the (created, id) cursor ``after``, and
        the next page's cursor (None at the end)."""
        start = after if after is not None else (float("-inf"), "")
        rows = self.query(
            "SELECT * FROM tasks WHERE (created, id) > (%s, %s) "
            "AND (%s::text IS NULL OR key = %s) "
            "AND (%s::double precision IS NULL OR finish >= %s) "
            "ORDER BY created, id LIMIT %s",
            (*start, key, key, finish_from, finish_from, limit + 1),
        )
        tasks = [_task(r) for r in rows[:limit]]
        more = len(rows) > limit and tasks
        return tasks, (tasks[-1].plan.created, tasks[-1].id) if more else None

    def count_settled(self) -> int:
        return int(self.query("SELECT COUNT(*) AS n FROM tasks WHERE settled")[0]["n"])

    def list_tasks(
        self, key: str | None = None, task_ids: Sequence[str] | None = None
    ) -> list[Task]:
        ids = None if task_ids is None else list(task_ids)
        rows = self.query(
            "SELECT * FROM tasks WHERE (%s::text IS NULL OR key = %s) "
            "AND (%s::text[] IS NULL OR id = ANY(%s::text[])) ORDER BY created, id",
            (key, key, ids, ids),
        )
        return [_task(r) for r in rows]

    def newest_tasks(self, limit: int) -> list[Task]:
        rows = self.query("SELECT * FROM tasks ORDER BY created DESC, id DESC LIMIT %s", (limit,))
        return [_task(r) for r in rows]

    def count_tasks(self) -> int:
        return int(self.query("SELECT COUNT(*) AS n FROM tasks")[0]["n"])

    def update_plan(self, task: Task, plan: Plan) -> Task | None:
        try:
            with self.transaction() as db:
                rev = bump(db)
                cursor = db.execute(
                    "UPDATE tasks SET plan = %s, finish = %s, rev = %s "
                    "WHERE id = %s AND rev = %s AND NOT settled",
                    (_plan(plan), plan.finish, rev, task.id, task.rev),
                )
                if cursor.rowcount != 1:
                    raise Lost
                return replace(task, plan=plan, rev=rev)
        except Lost:
            return None

    def settle(
        self,
        task: Task,
        entries: Iterable[LedgerEntry],
        callbacks: Iterable[CallbackRow] = (),
    ) -> Task | None:
        try:
            with self.transaction() as db:
                rev = bump(db)
                cursor = db.execute(
                    "UPDATE tasks SET settled = TRUE, rev = %s "
                    "WHERE id = %s AND rev = %s AND NOT settled",
                    (rev, task.id, task.rev),
                )
                if cursor.rowcount != 1:
                    raise Lost
                self.post(db, entries)
                for task_id, url, body, due in callbacks:
                    db.execute(
                        "INSERT INTO callbacks (task_id, url, body, next_due, rev) "
                        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                        (task_id, url, body, due, rev),
                    )
                return replace(task, settled=True, rev=rev)
        except Lost:
            return None


class PgKeyTables(PgTaskTables):
    def keys(self) -> dict[str, dict[str, Any]]:
        return {r["key"]: orjson.loads(r["data"]) for r in self.query("SELECT * FROM keys")}

    def put_keys(self, keys: Mapping[str, dict[str, Any]], grants: Grants) -> list[LedgerEntry]:
        with self.transaction() as db:
            bump(db, "keys_rev")
            entries: list[LedgerEntry] = []
            for key, data in keys.items():
                db.execute(
                    "INSERT INTO keys VALUES (%s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data",
                    (key, orjson.dumps(data).decode()),
                )
                self.open_account(db, key)
                row = db.execute(
                    "SELECT available FROM balances WHERE key = %s FOR UPDATE", (key,)
                ).fetchone()
                assert row is not None
                entries += self.post(db, grants(key, row["available"]))
            return entries

    def rules(self) -> list[dict[str, Any]]:
        rows = self.query("SELECT * FROM scenarios ORDER BY id")
        return [
            {**orjson.loads(r["data"]), "id": f"rule-{r['id']}", "used": r["used"]} for r in rows
        ]

    def add_rules(self, rules: list[dict[str, Any]]) -> list[str]:
        with self.transaction() as db:
            bump(db, "scenarios_rev")
            ids = []
            for rule in rules:
                row = db.execute(
                    "INSERT INTO scenarios (data, times, used) VALUES (%s, %s, %s) RETURNING id",
                    (
                        orjson.dumps(
                            {k: v for k, v in rule.items() if k not in ("id", "used")}
                        ).decode(),
                        rule.get("times"),
                        rule.get("used", 0),
                    ),
                ).fetchone()
                assert row is not None
                ids.append(row["id"])
            return [f"rule-{i}" for i in ids]

    def use_rule(self, rule_id: str) -> bool:
        number = int(rule_id.rsplit("-", 1)[1])
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE scenarios SET used = used + 1 "
                "WHERE id = %s AND (times IS NULL OR used < times)",
                (number,),
            )
            return cursor.rowcount == 1

    def delete_rules(self, rule_id: str | None = None) -> bool:
        try:
            with self.transaction() as db:
                bump(db, "scenarios_rev")
                if rule_id is None:
                    db.execute("DELETE FROM scenarios")
                else:
                    number = int(rule_id.rsplit("-", 1)[1]) if rule_id[-1:].isdigit() else -1
                    cursor = db.execute("DELETE FROM scenarios WHERE id = %s", (number,))
                    if cursor.rowcount != 1:
                        raise Lost
                return True
        except Lost:
            return False
