"""The ledger's entries and each key's balances, moved together in one transaction.

Entries are the history; ``balances`` is their sum, kept so a reservation can be one
conditional UPDATE that cannot overdraw, whichever process makes it. Amounts are decimal
strings and the arithmetic is ``dec_add``/``dec_sub``/``dec_ge`` (store/database.py), so
no float ever touches money.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal

from mock_server.domain.billing import MOVES, Balance
from mock_server.domain.models import LedgerEntry
from mock_server.store.database import Database

LEDGER_SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    task_id TEXT,
    note TEXT
);
CREATE INDEX IF NOT EXISTS ledger_by_key ON ledger (key, seq);
CREATE INDEX IF NOT EXISTS ledger_by_task ON ledger (task_id);
CREATE INDEX IF NOT EXISTS ledger_by_at ON ledger (at, seq);
CREATE TABLE IF NOT EXISTS balances (
    key TEXT PRIMARY KEY,
    granted TEXT NOT NULL DEFAULT '0',
    available TEXT NOT NULL DEFAULT '0',
    reserved TEXT NOT NULL DEFAULT '0',
    charged TEXT NOT NULL DEFAULT '0'
)
"""
ACCOUNTS = ("granted", "available", "reserved", "charged")


def _entry(row: sqlite3.Row) -> LedgerEntry:
    return LedgerEntry(
        row["seq"],
        row["at"],
        row["key"],
        row["kind"],
        Decimal(row["amount"]),
        row["task_id"],
        row["note"],
    )


def _balance(row: sqlite3.Row) -> Balance:
    return Balance(*(Decimal(row[name]) for name in ACCOUNTS))


class LedgerTables(Database):
    # -- inside a caller's transaction ----------------------------------------------------

    def open_account(self, db: sqlite3.Connection, key: str) -> None:
        db.execute("INSERT OR IGNORE INTO balances (key) VALUES (?)", (key,))

    def post(self, db: sqlite3.Connection, entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
        """Record entries and move the balances they move; the entries with their seq."""
        posted = []
        for entry in entries:
            self.open_account(db, entry.key)
            moves = ", ".join(f"{name} = dec_add({name}, ?)" for name in ACCOUNTS)
            amounts = [str(sign * entry.amount) for sign in MOVES[entry.kind]]
            db.execute(f"UPDATE balances SET {moves} WHERE key = ?", (*amounts, entry.key))
            seq = db.execute(
                "INSERT INTO ledger (at, key, kind, amount, task_id, note) "
                "VALUES (?, ?, ?, ?, ?, ?) RETURNING seq",
                (
                    entry.at,
                    entry.key,
                    entry.kind,
                    str(entry.amount),
                    entry.task_id,
                    entry.note,
                ),
            ).fetchone()[0]
            posted.append(replace(entry, seq=int(seq)))
        return posted

    def reserve(self, db: sqlite3.Connection, entry: LedgerEntry) -> LedgerEntry | None:
        """Reserve ``entry.amount`` if the key has it: one conditional UPDATE, so two
        processes racing for the last credits cannot both win. None when it is short."""
        amount = str(entry.amount)
        cursor = db.execute(
            "UPDATE balances SET available = dec_sub(available, ?), "
            "reserved = dec_add(reserved, ?) WHERE key = ? AND dec_ge(available, ?)",
            (amount, amount, entry.key, amount),
        )
        if cursor.rowcount != 1:
            return None
        seq = db.execute(
            "INSERT INTO ledger (at, key, kind, amount, task_id, note) "
            "VALUES (?, ?, 'reserve', ?, ?, ?) RETURNING seq",
            (entry.at, entry.key, amount, entry.task_id, entry.note),
        ).fetchone()[0]
        return replace(entry, seq=int(seq))

    def available_in(self, db: sqlite3.Connection, key: str) -> Decimal:
        row = db.execute("SELECT available FROM balances WHERE key = ?", (key,)).fetchone()
        return Decimal(row[0]) if row is not None else Decimal(0)

    # -- reads ---------------------------------------------------------------------------

    def ledger_entries(self, key: str | None = None) -> list[LedgerEntry]:
        if key is None:
            return [_entry(r) for r in self.query("SELECT * FROM ledger ORDER BY seq")]
        rows = self.query("SELECT * FROM ledger WHERE key = ? ORDER BY seq", (key,))
        return [_entry(r) for r in rows]

    def ledger_after(
        self, key: str | None, task_id: str | None, at: float, seq: int, limit: int
    ) -> list[LedgerEntry]:
        """Up to ``limit`` entries after (at, seq), in (at, seq) order (keyset paging)."""
        rows = self.query(
            "SELECT * FROM ledger WHERE (at, seq) > (?, ?) AND (? IS NULL OR key = ?) "
            "AND (? IS NULL OR task_id = ?) ORDER BY at, seq LIMIT ?",
            (at, seq, key, key, task_id, task_id, limit),
        )
        return [_entry(r) for r in rows]

    def task_ledger(self, task_id: str) -> list[LedgerEntry]:
        rows = self.query("SELECT * FROM ledger WHERE task_id = ? ORDER BY seq", (task_id,))
        return [_entry(r) for r in rows]

    def balances(self) -> dict[str, Balance]:
        return {r["key"]: _balance(r) for r in self.query("SELECT * FROM balances ORDER BY key")}

    def balance(self, key: str) -> Balance:
        rows = self.query("SELECT * FROM balances WHERE key = ?", (key,))
        return _balance(rows[0]) if rows else Balance()
