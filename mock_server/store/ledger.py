"""The ledger's entries and each key's balances, moved together in one transaction.

Entries are the history; ``balances`` is their sum, kept so a reservation can be one
conditional UPDATE, ``available >= amount`` in its WHERE, that cannot overdraw whichever
process makes it: SQLite's write lock serialises it, and under PostgreSQL's READ
COMMITTED a concurrent update of the same row makes it wait and re-check the condition.
Amounts are exact (the dialect's ``add``/``sub``/``ge``), so no float touches money.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal

from mock_server.domain.billing import MOVES, Balance
from mock_server.domain.models import LedgerEntry
from mock_server.store.database import Conn, Database, Row, matching, record

ACCOUNTS = ("granted", "available", "reserved", "charged")
INSERT_ENTRY = "INSERT INTO ledger (at, key, kind, amount, task_id, note) VALUES (?, ?, ?, ?, ?, ?)"


def _entry(row: Row) -> LedgerEntry:
    return record(LedgerEntry, row, amount=Decimal(row["amount"]))


def _values(entry: LedgerEntry) -> tuple[object, ...]:
    return (entry.at, entry.key, entry.kind, str(entry.amount), entry.task_id, entry.note)


def _balance(row: Row) -> Balance:
    return Balance(*(Decimal(row[name]) for name in ACCOUNTS))


class LedgerTables(Database):
    # -- inside a caller's transaction ----------------------------------------------------

    def open_account(self, db: Conn, key: str) -> Decimal:
        """The key's available credits, its balance made first if it has none."""
        row = db.execute(
            "INSERT INTO balances (key) VALUES (?) "
            "ON CONFLICT (key) DO UPDATE SET key = excluded.key RETURNING available",
            (key,),
        ).fetchone()
        return Decimal(row["available"])

    def post(self, db: Conn, entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
        """Record entries and move the balances they move; the entries with their seq."""
        posted = []
        moves = ", ".join(f"{name} = {self.dialect.add.format(name, '?')}" for name in ACCOUNTS)
        for entry in entries:
            amounts = (*(str(sign * entry.amount) for sign in MOVES[entry.kind]), entry.key)
            update = f"UPDATE balances SET {moves} WHERE key = ?"
            if db.execute(update, amounts).rowcount == 0:  # the key's first entry
                self.open_account(db, entry.key)
                db.execute(update, amounts)
            posted.append(self._insert(db, entry))
        return posted

    def reserve(self, db: Conn, entry: LedgerEntry) -> bool:
        """Reserve ``entry.amount`` if the key has it (the module's docstring says why two
        processes racing for the last credits cannot both win); False when it is short,
        and the caller rolls back. The balance is updated last: its row lock is the one
        creates for a key share, held from here to the commit."""
        add, sub, ge = self.dialect.add, self.dialect.sub, self.dialect.ge
        amount = str(entry.amount)
        db.execute(INSERT_ENTRY, _values(entry))
        cursor = db.execute(
            f"UPDATE balances SET available = {sub.format('available', '?')}, "
            f"reserved = {add.format('reserved', '?')} "
            f"WHERE key = ? AND {ge.format('available', '?')}",
            (amount, amount, entry.key, amount),
        )
        return bool(cursor.rowcount == 1)

    def _insert(self, db: Conn, entry: LedgerEntry) -> LedgerEntry:
        row = db.execute(f"{INSERT_ENTRY} RETURNING seq", _values(entry)).fetchone()
        return replace(entry, seq=int(row["seq"]))

    # -- reads ---------------------------------------------------------------------------

    def ledger_entries(self, key: str | None = None) -> list[LedgerEntry]:
        where, args = matching(key=key)
        rows = self.query(f"SELECT * FROM ledger WHERE TRUE{where} ORDER BY seq", args)
        return [_entry(r) for r in rows]

    def ledger_after(
        self, key: str | None, task_id: str | None, at: float, seq: int, limit: int
    ) -> list[LedgerEntry]:
        """Up to ``limit`` entries after (at, seq), in (at, seq) order (keyset paging)."""
        where, args = matching(key=key, task_id=task_id)
        rows = self.query(
            f"SELECT * FROM ledger WHERE (at, seq) > (?, ?){where} ORDER BY at, seq LIMIT ?",
            (at, seq, *args, limit),
        )
        return [_entry(r) for r in rows]

    def balances(self) -> dict[str, Balance]:
        return {r["key"]: _balance(r) for r in self.query("SELECT * FROM balances ORDER BY key")}

    def balance(self, key: str) -> Balance:
        rows = self.query("SELECT * FROM balances WHERE key = ?", (key,))
        return _balance(rows[0]) if rows else Balance()
