"""The store's interface: one Protocol per aggregate, in the domain's own records.

The service and the layers beside it (media, delivery) are written against these, never
against a database driver, so a second implementation (PostgreSQL for a fleet of
replicas) slots in beside ``SqliteStore``; ``tests/test_store_contract.py`` holds every
implementation to the same behaviour. Every change a method makes is one transaction;
every conditional one says in its name or its docstring what it is conditional on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from mock_server.domain.billing import Balance
from mock_server.domain.models import Delivery, FileRecord, LedgerEntry, Plan, Task
from mock_server.store.database import ChangeSignal
from mock_server.store.keys import Grants
from mock_server.store.state import State
from mock_server.store.tasks import CallbackRow


class StateStore(Protocol):
    """The counters and the clock every process shares, and the change signal."""

    signal: ChangeSignal

    def state(self) -> State: ...
    def init_state(self, clock_start: float, seed: int, secret: str) -> State: ...
    def set_seed(self, seed: int) -> None: ...
    def mark_scenarios_loaded(self) -> bool: ...
    def next_task_number(self) -> int: ...
    def move_clock(self, now: float) -> tuple[float, int]: ...
    def step_clock(self, step: float, start: float) -> tuple[float, int]: ...


class TaskStore(Protocol):
    """Tasks, created with their reservation, changed only if unchanged since read."""

    def insert_task(self, task: Task, reservation: LedgerEntry) -> Task | None: ...
    def get_task(self, task_id: str) -> Task | None: ...
    def tasks_since(self, rev: int) -> list[Task]: ...
    def unsettled_after(
        self, after: tuple[float, str] | None, limit: int
    ) -> list[tuple[str, float]]: ...
    def page_tasks(
        self,
        key: str | None = None,
        limit: int = 100,
        after: tuple[float, str] | None = None,
        finish_from: float | None = None,
    ) -> tuple[list[Task], tuple[float, str] | None]: ...
    def count_settled(self) -> int: ...
    def list_tasks(
        self, key: str | None = None, task_ids: Sequence[str] | None = None
    ) -> list[Task]: ...
    def newest_tasks(self, limit: int) -> list[Task]: ...
    def count_tasks(self) -> int: ...
    def update_plan(self, task: Task, plan: Plan) -> Task | None: ...
    def settle(
        self, task: Task, entries: Iterable[LedgerEntry], callbacks: Iterable[CallbackRow] = ()
    ) -> Task | None: ...


class LedgerStore(Protocol):
    """Entries and balances; reservations are conditional and cannot overdraw."""

    def ledger_entries(self, key: str | None = None) -> list[LedgerEntry]: ...
    def ledger_after(
        self, key: str | None, task_id: str | None, at: float, seq: int, limit: int
    ) -> list[LedgerEntry]: ...
    def balances(self) -> dict[str, Balance]: ...
    def balance(self, key: str) -> Balance: ...


class KeyStore(Protocol):
    def keys(self) -> dict[str, dict[str, Any]]: ...
    def put_keys(self, keys: Mapping[str, dict[str, Any]], grants: Grants) -> list[LedgerEntry]: ...


class RuleStore(Protocol):
    """Scenario rules; a use is counted only while the rule has uses left."""

    def rules(self) -> list[dict[str, Any]]: ...
    def add_rules(self, rules: list[dict[str, Any]]) -> list[str]: ...
    def use_rule(self, rule_id: str) -> bool: ...
    def delete_rules(self, rule_id: str | None = None) -> bool: ...


class OutboxStore(Protocol):
    """Callback deliveries, each attempt claimed by one process under a lease."""

    def callbacks(self, task_id: str | None = None, pending: bool = False) -> list[Delivery]: ...
    def callbacks_since(self, rev: int) -> list[Delivery]: ...
    def claim_callback(
        self,
        task_id: str,
        attempts: int,
        owner: str,
        lease_until: float,
        now: float,
        steal_from: str | None = None,
    ) -> bool: ...
    def record_callback_attempt(
        self,
        task_id: str,
        owner: str,
        attempt: dict[str, Any],
        state: str,
        next_due: float | None,
    ) -> bool: ...
    def release_callback_claims(self, owner: str) -> None: ...
    def callback_attempts(self, task_id: str | None = None) -> list[dict[str, Any]]: ...
    def callbacks_page(
        self, task_id: str | None, after: int, limit: int
    ) -> list[tuple[int, Delivery]]: ...
    def attempts_of(self, task_ids: list[str]) -> list[dict[str, Any]]: ...
    def attempts_after(
        self,
        key: str | None,
        task_id: str | None,
        after: tuple[float, int, str],
        limit: int,
    ) -> list[dict[str, Any]]: ...


class JournalStore(Protocol):
    def journal_head(self) -> int: ...
    def append_journal(self, rows: Sequence[Sequence[Any]], keep: int) -> None: ...
    def journal(
        self,
        key: str | None = None,
        task_id: str | None = None,
        limit: int = 1000,
        keep: int | None = None,
    ) -> list[list[Any]]: ...
    def journal_page(
        self, key: str | None, task_id: str | None, after: int, limit: int, keep: int
    ) -> list[list[Any]]: ...
    def journal_rows(
        self, key: str | None = None, task_id: str | None = None
    ) -> Iterator[list[Any]]: ...


class FileStore(Protocol):
    def get_file(self, file_id: str) -> FileRecord | None: ...
    def live_files(
        self, key: str, now: float, offset: int = 0, limit: int = -1
    ) -> list[FileRecord]: ...
    def count_files(self, key: str, now: float) -> int: ...
    def expired_files(self, now: float) -> list[FileRecord]: ...
    def all_files(self) -> list[FileRecord]: ...
    def put_file(self, record: FileRecord, replaces: Iterable[str] = ()) -> None: ...
    def delete_files(self, file_ids: Iterable[str]) -> None: ...


class Store(
    StateStore,
    TaskStore,
    LedgerStore,
    KeyStore,
    RuleStore,
    OutboxStore,
    JournalStore,
    FileStore,
    Protocol,
):
    """Everything one fake keeps; ``open_store`` picks the implementation."""

    path: str

    def reset(self) -> None: ...
    def close(self) -> None: ...
