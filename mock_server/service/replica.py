"""This process's caches, kept true to the shared store from start to close.

The store is the source of truth: every process sharing it is one fake. Each keeps
caches (tasks being polled, keys, the rule book, the clock, the events due) and refreshes
them when the store's change signal says another process wrote (``sync``): a memory
compare when nothing was, so the poll path can pay for it on every request. A reset
empties the store and every process's caches; the configuration (``--scenarios``,
``--api-key``) is put back.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from mock_server.delivery.outbox import Outbox
from mock_server.media.references import Media
from mock_server.runtime.clock import Clock, VirtualClock, monotonic
from mock_server.runtime.config import Config
from mock_server.runtime.scheduler import Scheduler
from mock_server.service.accounts import Accounts
from mock_server.service.journal import RequestJournal
from mock_server.service.revisions import Revisions
from mock_server.service.rulebook import RuleBook
from mock_server.service.settling import SettleWindow
from mock_server.service.tasks import Tasks
from mock_server.store.protocols import Store

# How often a process looks for ended tasks other processes made and have not settled
# (one of them stopped): seconds of wall time.
CATCH_UP_SECONDS = 1.0


@dataclass
class Replica:
    """Loads the caches from the store and catches them up with other processes."""

    config: Config
    store: Store
    clock: Clock
    scheduler: Scheduler
    revisions: Revisions
    tasks: Tasks
    accounts: Accounts
    rules: RuleBook
    settling: SettleWindow
    outbox: Outbox
    journal: RequestJournal
    media: Media
    _caught_up: float = field(default=0.0, init=False)

    def start(self) -> None:
        """Fill the caches and put the configuration in the store (a new process)."""
        self.load()
        self._configure()

    def _configure(self) -> None:
        """``--scenarios`` rules (once per store, and after each reset) and ``--api-key``
        keys not in the store yet."""
        if self.config.scenarios and self.store.mark_scenarios_loaded():
            self.rules.load_file(self.config.scenarios)
        self.accounts.install_config_keys()

    def reset(self) -> None:
        """Forget everything but the configuration; a virtual clock goes back to its start.
        Every process sharing the store forgets too (its next ``sync``)."""
        self.media.reset()
        self.store.reset()
        self.load()
        self.journal.forget()
        self._configure()

    async def housekeeping(self) -> None:
        """The background step: catch up with other processes, now and then settle what
        they made and left (service/settling.py), write the journal batch (in a worker
        thread: SQLite releases the GIL while it writes)."""
        self.sync()
        if monotonic() - self._caught_up >= CATCH_UP_SECONDS:
            self._caught_up = monotonic()
            self.settling.catch_up(self.clock.now())
        if self.journal.pending:
            await asyncio.to_thread(self.journal.flush)

    async def aclose(self) -> None:
        """Attempts in flight give their claims back; the journal is written; the store
        closes."""
        await self.outbox.aclose()
        self.journal.flush()
        self.store.close()

    def load(self) -> None:
        """Fill the caches from the store (at start, and after a reset anywhere)."""
        state = self.store.state()
        self.revisions.rev, self.revisions.epoch = state.rev, state.epoch
        self.revisions.keys_rev = state.keys_rev
        self.tasks.forget_all()
        self.scheduler.clear()
        self.settling.forget()
        self.outbox.reset()
        if state.clock_now is not None and isinstance(self.clock, VirtualClock):
            self.clock.reset(state.clock_now)
        if not state.rev:
            # Every write of a key, a rule or a task (and so of a callback) moves rev, and
            # a reset moves it too: at rev 0 the store is new (a test's fake opens one per
            # test) and holds nothing to read, and this process has cached nothing yet.
            return
        self.accounts.reload()
        self.rules.reload(state.scenarios_rev)
        self.settling.load()
        self.outbox.resume()

    def changes(self) -> tuple[int, int, int]:
        """What moves with every change to what is stored (a dashboard section's
        version)."""
        return self.store.changes()

    def sync(self, exact: bool = False) -> None:
        """Catch up with what other processes wrote, if anything. The change signal is
        exact for SQLite (shared memory) but on PostgreSQL a notification reaches the
        other replicas a moment after the commit; ``exact`` reads the store's revision
        instead of trusting the signal: one query, for the control API, so a test's
        control calls see every replica's writes (docs/deployment.md)."""
        signal = self.store.signal
        if not exact and not signal.changed():
            return
        seen = signal.snapshot()
        state = self.store.state()
        seen_by_us = self.revisions
        if state.epoch != seen_by_us.epoch:
            self.load()
            self.journal.forget()
        elif state.rev != seen_by_us.rev:
            for task in self.store.tasks_since(seen_by_us.rev):
                if task.settled:
                    self.tasks.refresh(task)
                else:
                    self.tasks.adopt(task)
            self.outbox.catch_up(seen_by_us.rev)
            if state.keys_rev != seen_by_us.keys_rev:
                self.accounts.reload()
                seen_by_us.keys_rev = state.keys_rev
            self.rules.reload(state.scenarios_rev)
            seen_by_us.rev = state.rev
        if state.clock_now is not None and self.clock.can_advance():
            self.clock.set(state.clock_now)
        signal.seen(seen)
