"""API keys and the rule book as stored: small tables every process reloads whole when
their counter (``keys_rev``, ``scenarios_rev``) moves."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import orjson

from mock_server.domain import ids
from mock_server.domain.models import LedgerEntry
from mock_server.store.database import json_text
from mock_server.store.records import Grants, Lost
from mock_server.store.tasks import TaskTables


class KeyTables(TaskTables):
    # -- keys ------------------------------------------------------------------------------

    def keys(self) -> dict[str, dict[str, Any]]:
        return {r["key"]: orjson.loads(r["data"]) for r in self.query("SELECT * FROM keys")}

    def put_keys(self, keys: Mapping[str, dict[str, Any]], grants: Grants) -> list[LedgerEntry]:
        """Create or update keys and set their credits, in one transaction; ``grants``
        sees each key's available credits inside it, read by an upsert that locks the
        balance row, so no reservation can slip between the read and the grant."""
        with self.transaction() as db:
            self.bump(db, "keys_rev")
            entries: list[LedgerEntry] = []
            for key, data in keys.items():
                db.execute(
                    "INSERT INTO keys VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET data = excluded.data",
                    (key, json_text(data)),
                )
                entries += self.post(db, grants(key, self.open_account(db, key)))
            return entries

    # -- scenario rules --------------------------------------------------------------------

    def rules(self) -> list[dict[str, Any]]:
        """Stored rules in the order they were added, with their ids and use counts."""
        rows = self.query("SELECT * FROM scenarios ORDER BY id")
        return [
            {**orjson.loads(r["data"]), "id": ids.rule_id(r["id"]), "used": r["used"]} for r in rows
        ]

    def add_rules(self, rules: list[dict[str, Any]]) -> list[str]:
        """Store rules (their JSON without id); their new ids, in order."""
        with self.transaction() as db:
            self.bump(db, "scenarios_rev")
            numbers = [
                db.execute(
                    "INSERT INTO scenarios (data, times, used) VALUES (?, ?, ?) RETURNING id",
                    (
                        json_text({k: v for k, v in r.items() if k not in ("id", "used")}),
                        r.get("times"),
                        r.get("used", 0),
                    ),
                ).fetchone()["id"]
                for r in rules
            ]
            return [ids.rule_id(number) for number in numbers]

    def use_rule(self, rule_id: str) -> bool:
        """Atomic, so a rule limited to N uses fires N times across every process."""
        with self.transaction() as db:
            cursor = db.execute(
                "UPDATE scenarios SET used = used + 1 "
                "WHERE id = ? AND (times IS NULL OR used < times)",
                (ids.rule_number(rule_id),),
            )
            return bool(cursor.rowcount == 1)

    def delete_rules(self, rule_id: str | None = None) -> bool:
        """Delete one rule (or all); False when the one named is not there."""
        with contextlib.suppress(Lost), self.transaction() as db:
            self.bump(db, "scenarios_rev")
            if rule_id is None:
                db.execute("DELETE FROM scenarios")
            else:
                cursor = db.execute(
                    "DELETE FROM scenarios WHERE id = ?", (ids.rule_number(rule_id),)
                )
                if cursor.rowcount != 1:
                    raise Lost
            return True
        return False
