"""``PostgresStore``: the store for a fleet of replicas sharing one PostgreSQL database
(README "Running a shared instance"). The callback outbox, the journal and the file rows
live here; tasks, the ledger, keys and rules in store/pg_tables.py; the pool, the schema,
the shared state and the change signal in store/pg.py.

An attempt is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` under a lease: of several
replicas due at once, one locks the row and takes the attempt, the others skip it without
waiting. A replica that dies holding a claim loses it when its lease ends (or at once, to
a replica on the same machine that sees its process gone: delivery/outbox.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from typing import Any

import orjson

from mock_server.domain.models import Delivery, FileRecord
from mock_server.store.files import FILE_COLUMNS
from mock_server.store.journal import JOURNAL_PAGE_BATCHES, _text
from mock_server.store.pg import bump
from mock_server.store.pg_tables import PgKeyTables
from mock_server.store.tasks import PURGED_WITH_TASK

ATTEMPTED_AT = "(a.data::jsonb ->> 'attempted_at')::double precision"


def _matches(row: list[Any], key: str | None, task_id: str | None) -> bool:
    return (key is None or row[2] == key) and (task_id is None or row[3] == task_id)


def _delivery(row: dict[str, Any]) -> Delivery:
    return Delivery(
        task_id=row["task_id"],
        url=row["url"],
        body=bytes(row["body"]),
        attempts=row["attempts"],
        next_due=row["next_due"],
        state=row["state"],
        claimed_by=row["claimed_by"],
        lease_until=row["lease_until"],
    )


class PostgresStore(PgKeyTables):
    """Everything one fake keeps, in a PostgreSQL database every replica shares."""

    # -- the callback outbox (mock_server/delivery/outbox.py) ------------------------------

    def callbacks(self, task_id: str | None = None, pending: bool = False) -> list[Delivery]:
        query = "SELECT * FROM callbacks WHERE (%s::text IS NULL OR task_id = %s)"
        query += " AND state = 'pending'" if pending else ""
        rows = self.query(query + " ORDER BY task_id", (task_id, task_id))
        return [_delivery(r) for r in rows]

    def callbacks_page(
        self, task_id: str | None, after: int, limit: int
    ) -> list[tuple[int, Delivery]]:
        """Up to ``limit`` deliveries in the order they entered the outbox, past position
        ``after``, each with its position (keyset paging)."""
        rows = self.query(
            "SELECT * FROM callbacks WHERE position > %s AND (%s::text IS NULL OR task_id = %s) "
            "ORDER BY position LIMIT %s",
            (after, task_id, task_id, limit),
        )
        return [(int(r["position"]), _delivery(r)) for r in rows]

    def callbacks_since(self, rev: int) -> list[Delivery]:
        rows = self.query(
            "SELECT * FROM callbacks WHERE rev > %s AND state = 'pending' ORDER BY rev", (rev,)
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
        """Take attempt ``attempts + 1`` under a lease; a row another replica is claiming
        right now is skipped, not waited for."""
        with self.transaction() as db:
            cursor = db.execute(
                "WITH free AS (SELECT task_id FROM callbacks "
                "WHERE task_id = %s AND state = 'pending' AND attempts = %s AND "
                "(claimed_by IS NULL OR claimed_by = %s OR claimed_by = %s OR lease_until < %s) "
                "FOR UPDATE SKIP LOCKED) "
                "UPDATE callbacks SET claimed_by = %s, lease_until = %s "
                "FROM free WHERE callbacks.task_id = free.task_id",
                (task_id, attempts, owner, steal_from, now, owner, lease_until),
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
        number = attempt["number"]
        with self.transaction() as db:
            rev = bump(db)
            cursor = db.execute(
                "UPDATE callbacks SET attempts = %s, state = %s, next_due = %s, "
                "claimed_by = NULL, lease_until = NULL, rev = %s "
                "WHERE task_id = %s AND claimed_by = %s AND attempts = %s",
                (number, state, next_due, rev, task_id, owner, number - 1),
            )
            if cursor.rowcount != 1:
                db.rollback()
                return False
            db.execute(
                "INSERT INTO callback_attempts VALUES (%s, %s, %s)",
                (task_id, number, orjson.dumps(attempt).decode()),
            )
            return True

    def release_callback_claims(self, owner: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE callbacks SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = %s",
                (owner,),
            )

    def callback_attempts(self, task_id: str | None = None) -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT task_id, data FROM callback_attempts "
            "WHERE (%s::text IS NULL OR task_id = %s) ORDER BY task_id, number",
            (task_id, task_id),
        )
        return [{"task_id": r["task_id"], **orjson.loads(r["data"])} for r in rows]

    def attempts_of(self, task_ids: list[str]) -> list[dict[str, Any]]:
        rows = self.query(
            "SELECT task_id, data FROM callback_attempts WHERE task_id = ANY(%s::text[]) "
            "ORDER BY task_id, number",
            (list(task_ids),),
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
            f"WHERE ({ATTEMPTED_AT}, a.number, a.task_id) > (%s, %s, %s) "
            f"AND (%s::text IS NULL OR a.task_id = %s) "
            f"AND (%s::text IS NULL OR t.key IS NULL OR t.key = %s) "
            f"ORDER BY {ATTEMPTED_AT}, a.number, a.task_id LIMIT %s",
            (*after, task_id, task_id, key, key, limit),
        )
        return [{"task_id": r["task_id"], **orjson.loads(r["data"])} for r in rows]

    # -- retention (service/retention.py) -------------------------------------------------

    def purge_settled(self, before: float, limit: int) -> list[str]:
        """Delete up to ``limit`` settled tasks that ended before ``before``, with their
        callback deliveries and attempts (their ledger entries stay); their ids."""
        with self.transaction() as db:
            bump(db)  # the state row's lock first, as every writer takes it
            rows = db.execute(
                "SELECT id FROM tasks WHERE settled AND finish < %s LIMIT %s", (before, limit)
            ).fetchall()
            ids = [r["id"] for r in rows]
            if ids:
                for table, column in PURGED_WITH_TASK:
                    db.execute(f"DELETE FROM {table} WHERE {column} = ANY(%s)", (ids,))
            return ids

    def result_kinds(self) -> list[tuple[str, str, str, int, bool]]:
        """Each distinct (model, quality, aspect ratio, duration, audio) a task asked for."""
        rows = self.query(
            "SELECT DISTINCT r->>'model' AS m, r->>'quality' AS q, r->>'aspect_ratio' AS a, "
            "(r->>'duration')::int AS d, (r->>'generate_audio')::boolean AS g "
            "FROM (SELECT (data::jsonb)->'request' AS r FROM tasks) AS requests"
        )
        return [(r["m"], r["q"], r["a"], int(r["d"]), bool(r["g"])) for r in rows]

    def purge_journal(self, task_ids: set[str]) -> int:
        """Remove the rows of these tasks from the journal; how many were removed."""
        removed = 0
        with self.transaction() as db:
            for batch in db.execute("SELECT last_seq, data FROM journal_batches").fetchall():
                rows = orjson.loads(batch["data"])
                kept = [row for row in rows if row[3] not in task_ids]
                if len(kept) == len(rows):
                    continue
                removed += len(rows) - len(kept)
                if kept:
                    db.execute(
                        "UPDATE journal_batches SET data = %s WHERE last_seq = %s",
                        (orjson.dumps(kept), batch["last_seq"]),
                    )
                else:
                    db.execute(
                        "DELETE FROM journal_batches WHERE last_seq = %s", (batch["last_seq"],)
                    )
        return removed

    # -- the journal, a batch per row (store/journal.py) -----------------------------------

    def journal_page(
        self, key: str | None, task_id: str | None, after: int, limit: int, keep: int
    ) -> list[list[Any]]:
        """Up to ``limit`` matching rows with seq above ``after``, oldest first, among the
        newest ``keep``, reading a few batches at a time."""
        after = max(after, self.journal_head() - keep)
        found: list[list[Any]] = []
        for row in self._journal_from(after):
            if row[0] > after and _matches(row, key, task_id):
                found.append(row)
                if len(found) >= limit:
                    break
        return found

    def journal_rows(
        self, key: str | None = None, task_id: str | None = None
    ) -> Iterator[list[Any]]:
        """Every stored row that matches, oldest first, read a few batches at a time."""
        return (row for row in self._journal_from(0) if _matches(row, key, task_id))

    def _journal_from(self, after: int) -> Iterator[list[Any]]:
        while True:
            batches = self.query(
                "SELECT last_seq, data FROM journal_batches WHERE last_seq > %s "
                "ORDER BY last_seq LIMIT %s",
                (after, JOURNAL_PAGE_BATCHES),
            )
            for batch in batches:
                yield from orjson.loads(batch["data"])
            if len(batches) < JOURNAL_PAGE_BATCHES:
                return
            after = batches[-1]["last_seq"]

    def append_journal(self, rows: Sequence[Sequence[Any]], keep: int) -> None:
        if not rows:
            return
        with self.transaction() as db:
            head = db.execute(
                "UPDATE journal_head SET seq = seq + %s WHERE id = 1 RETURNING seq", (len(rows),)
            ).fetchone()
            assert head is not None
            last = int(head["seq"])
            first = last - len(rows) + 1
            numbered = [[first + i, *row[1:]] for i, row in enumerate(rows)]
            db.execute(
                "INSERT INTO journal_batches VALUES (%s, %s, %s)",
                (last, first, orjson.dumps(numbered, default=_text)),
            )
            db.execute("DELETE FROM journal_batches WHERE last_seq <= %s", (last - keep,))

    def journal_head(self) -> int:
        return int(self.query("SELECT seq FROM journal_head WHERE id = 1")[0]["seq"])

    def journal(
        self,
        key: str | None = None,
        task_id: str | None = None,
        limit: int = 1000,
        keep: int | None = None,
    ) -> list[list[Any]]:
        batches = self.query("SELECT data FROM journal_batches ORDER BY last_seq DESC")
        found: list[list[Any]] = []
        newest = None
        for batch in batches:
            rows = orjson.loads(batch["data"])
            newest = newest if newest is not None else rows[-1][0]
            for row in reversed(rows):
                if keep is not None and row[0] <= newest - keep:
                    return found[::-1]
                if (key is None or row[2] == key) and (task_id is None or row[3] == task_id):
                    found.append(row)
                    if len(found) >= limit:
                        return found[::-1]
        return found[::-1]

    # -- uploaded files' rows (mock_server/media/uploads.py) -------------------------------

    def _file_rows(self, where: str, args: tuple[Any, ...]) -> list[FileRecord]:
        rows = self.query(f"SELECT * FROM files WHERE {where}", args)
        return [
            FileRecord(**{c: r[c] for c in FILE_COLUMNS}, **orjson.loads(r["data"])) for r in rows
        ]

    def get_file(self, file_id: str) -> FileRecord | None:
        rows = self._file_rows("file_id = %s", (file_id,))
        return rows[0] if rows else None

    def live_files(
        self, key: str, now: float, offset: int = 0, limit: int = -1
    ) -> list[FileRecord]:
        where = "key = %s AND expires > %s ORDER BY uploaded DESC, file_id LIMIT %s OFFSET %s"
        return self._file_rows(where, (key, now, None if limit < 0 else limit, offset))

    def count_files(self, key: str, now: float) -> int:
        rows = self.query(
            "SELECT COUNT(*) AS n FROM files WHERE key = %s AND expires > %s", (key, now)
        )
        return int(rows[0]["n"])

    def expired_files(self, now: float) -> list[FileRecord]:
        return self._file_rows("expires <= %s", (now,))

    def all_files(self) -> list[FileRecord]:
        return self._file_rows("TRUE", ())

    def put_file(self, record: FileRecord, replaces: Iterable[str] = ()) -> None:
        row = asdict(record)
        data = {k: v for k, v in row.items() if k not in FILE_COLUMNS}
        with self.transaction() as db:
            for file_id in replaces:
                db.execute("DELETE FROM files WHERE file_id = %s", (file_id,))
            db.execute(
                "INSERT INTO files VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (*(row[c] for c in FILE_COLUMNS), orjson.dumps(data).decode()),
            )

    def delete_files(self, file_ids: Iterable[str]) -> None:
        with self.transaction() as db:
            for file_id in file_ids:
                db.execute("DELETE FROM files WHERE file_id = %s", (file_id,))
