"""API keys and the rule book as stored: small tables every process reloads whole when
their counter (``keys_rev``, ``scenarios_rev``) moves."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import orjson

from mock_server.domain.models import LedgerEntry
from mock_server.store.state import bump
from mock_server.store.tasks import Lost, TaskTables

KEYS_SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (key TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS scenarios (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    data TEXT NOT NULL,
    times INTEGER,
    used INTEGER NOT NULL DEFAULT 0
)
"""
# Given a key and its available credits now, the grant entries that set them.
Grants = Callable[[str, Decimal], list[LedgerEntry]]


class KeyTables(TaskTables):
    # -- keys ------------------------------------------------------------------------------

    def keys(self) -> dict[str, dict[str, Any]]:
        return {r["key"]: orjson.loads(r["data"]) for r in self.query("SELECT * FROM keys")}

    def put_keys(self, keys: Mapping[str, dict[str, Any]], grants: Grants) -> list[LedgerEntry]:
        """Create or update keys and set their credits, in one transaction; ``grants``
        sees each key's available credits inside it, so no other process's reservation
        can slip between the read and the grant."""
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO keys VALUES (?, ?)",
                [(k, orjson.dumps(v)) for k, v in keys.items()],
            )
            entries: list[LedgerEntry] = []
            for key in keys:
                self.open_account(db, key)
                entries += self.post(db, grants(key, self.available_in(db, key)))
            bump(db, "keys_rev")
            return entries

    # -- scenario rules --------------------------------------------------------------------

    def rules(self) -> list[dict[str, Any]]:
        """Stored rules in the order they were added, with their ids and use counts."""
        rows = self.query("SELECT * FROM scenarios ORDER BY id")
        return [
            {**orjson.loads(r["data"]), "id": f"rule-{r['id']}", "used": r["used"]} for r in rows
        ]

    def add_rules(self, rules: list[dict[str, Any]]) -> list[str]:
        """Store rules (their JSON without id); their new ids, in order."""
        with self.transaction() as db:
            ids = [
                db.execute(
                    "INSERT INTO scenarios (data, times, used) VALUES (?, ?, ?) RETURNING id",
                    (
                        orjson.dumps({k: v for k, v in r.items() if k not in ("id", "used")}),
                        r.get("times"),
                        r.get("used", 0),
                    ),
                ).fetchone()[0]
                for r in rules
            ]
            bump(db, "scenarios_rev")
            return [f"rule-{i}" for i in ids]

    def use_rule(self, rule_id: str) -> bool:
        """Count one use of a rule if it has uses left: atomic, so a rule limited to N
        uses fires N times across every process."""
        number = int(rule_id.rsplit("-", 1)[1])
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE scenarios SET used = used + 1 "
                "WHERE id = ? AND (times IS NULL OR used < times)",
                (number,),
            )
            return cursor.rowcount == 1

    def delete_rules(self, rule_id: str | None = None) -> bool:
        """Delete one rule (or all); False when the one named is not there."""
        try:
            with self.transaction() as db:
                if rule_id is None:
                    db.execute("DELETE FROM scenarios")
                else:
                    number = int(rule_id.rsplit("-", 1)[1]) if rule_id[-1:].isdigit() else -1
                    cursor = db.execute("DELETE FROM scenarios WHERE id = ?", (number,))
                    if cursor.rowcount != 1:
                        raise Lost
                bump(db, "scenarios_rev")
                return True
        except Lost:
            return False
