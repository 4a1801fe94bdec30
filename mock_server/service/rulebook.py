"""The scenario rule book as every process shares it: ``fake.rules``, its one name.

The rules live in the store; each process keeps a copy to match requests against
(reloaded when ``scenarios_rev`` moves) and counts each use in the store, atomically, so
a rule limited to N uses fires N times however many processes serve the fake. The
matching itself is the domain's (``domain.scenarios.Scenarios``), private to this book.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mock_server.domain.errors import ApiError
from mock_server.domain.ids import rule_number
from mock_server.domain.scenarios import (
    Effect,
    Facts,
    Rule,
    Scenarios,
    load_rules,
    read_rules_file,
)
from mock_server.store.protocols import Store


class RuleBook:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._book = Scenarios(claim=self._claim, keep=self._keep)
        self._rev: int | None = None

    def _claim(self, rule: Rule) -> bool:
        return self.store.use_rule(rule.id)

    def _keep(self, rule: Rule) -> Rule:
        [rule_id] = self.store.add_rules([rule.to_json()])
        self._rev = None  # our own change: the next reload reads it back
        return replace(rule, id=rule_id)

    @property
    def active(self) -> bool:
        """Whether any rule is kept (the request path skips matching when none is)."""
        return bool(self._book.rules)

    # -- matching a request --------------------------------------------------------------

    def answer_effects(self, asked: Facts) -> tuple[Rule | None, dict[str, Any] | None]:
        """What the rules do to this request's answer: the first rule that answers it
        itself (an HTTP error, a drop, a delay...), and the unknown fields to add to it.
        A create's magic prompt tokens become rules first."""
        self._book.token_rules(asked)
        if not self._book.rules:
            return None, None
        rule = self._book.http_effect(asked)
        if rule is None or not (rule.effect.http_status or rule.effect.drop_connection):
            return rule, self._book.decoration(asked)
        return rule, None

    def task_effect(self, asked: Facts) -> Effect | None:
        """The merged effect of the rules that shape the plan of the task a create makes."""
        return self._book.task_effect(asked)

    def poll_rules(self, prompt: str, key: str, task_id: str) -> None:
        """``poll_http`` tokens of a new task's prompt: its first polls answer an error."""
        self._book.poll_rules(prompt, key, task_id)

    # -- the control API ---------------------------------------------------------------

    def reload(self, rev: int | None = None) -> None:
        """Read the rules again if they moved since the last read (or ``rev`` is None)."""
        if rev is not None and rev == self._rev:
            return
        if rev is None:
            rev = self.store.state().scenarios_rev
        self._book.rules = Scenarios.restore(self.store.rules()).rules
        self._rev = rev

    def to_json(self) -> list[dict[str, Any]]:
        """The rules with the use counts every process has made."""
        self.reload()
        return self._book.to_json()

    def add(self, body: object, source: str = "control") -> list[Rule]:
        """One rule, a list, or ``{"rules": [...]}``: all are checked before any is kept."""
        trial = Scenarios()
        load_rules(body, trial, source)  # raises on the first bad rule, keeping nothing
        ids = self.store.add_rules([r.to_json() for r in trial.rules])
        self.reload()
        return [replace(r, id=i) for r, i in zip(trial.rules, ids, strict=True)]

    def delete(self, rule_id: str | None = None) -> list[dict[str, Any]]:
        """Delete one rule (or every rule); the rules left. Only ids of the form the store
        hands out reach it (``rule-0`` names no rule either)."""
        malformed = rule_id is not None and rule_number(rule_id) is None
        if malformed or not self.store.delete_rules(rule_id):
            raise ApiError(404, f"No scenario rule {rule_id}", param="rule_id")
        self.reload()
        return self._book.to_json()

    def load_file(self, path: str | None) -> None:
        """``--scenarios FILE`` rules, part of the configuration: loaded by the first
        process to open a store, and again after each reset."""
        if path:
            self.add(read_rules_file(path), "file")

    def versions(self) -> object:
        """What changes when a rule is added, deleted or used (the dashboard's version)."""
        return self.store.rules()
