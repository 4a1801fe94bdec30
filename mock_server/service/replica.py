"""This process's caches, kept true to the shared store.

The store is the source of truth: every process sharing it is one fake. Each keeps
caches (tasks being polled, keys, the rule book, the clock, the events due) and refreshes
them when the store's change signal says another process wrote (``sync``): a memory
compare when nothing was, so the poll path can pay for it on every request.
"""

from __future__ import annotations

from mock_server.delivery.outbox import Outbox
from mock_server.runtime.clock import Clock, VirtualClock
from mock_server.runtime.scheduler import Scheduler
from mock_server.service.accounts import Accounts
from mock_server.service.journal import RequestJournal
from mock_server.service.revisions import Revisions
from mock_server.service.rulebook import RuleBook
from mock_server.service.settling import SettleWindow
from mock_server.service.tasks import Tasks
from mock_server.store.protocols import Store


class Replica:
    """Loads the caches from the store and catches them up with other processes."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        scheduler: Scheduler,
        *,
        revisions: Revisions,
        tasks: Tasks,
        accounts: Accounts,
        rules: RuleBook,
        settling: SettleWindow,
        outbox: Outbox,
        journal: RequestJournal,
    ) -> None:
        self.store = store
        self.clock = clock
        self.scheduler = scheduler
        self.revisions = revisions
        self.tasks = tasks
        self.accounts = accounts
        self.rules = rules
        self.settling = settling
        self.outbox = outbox
        self.journal = journal

    def load(self) -> None:
        """Fill the caches from the store (at start, and after a reset anywhere)."""
        state = self.store.state()
        self.revisions.rev, self.revisions.epoch = state.rev, state.epoch
        self.revisions.keys_rev = state.keys_rev
        self.tasks.cache.clear()
        self.scheduler.clear()
        self.outbox.reset()
        self.accounts.reload()
        self.rules.reload(state.scenarios_rev)
        if state.clock_now is not None and isinstance(self.clock, VirtualClock):
            self.clock.reset(state.clock_now)
        self.settling.load()
        self.outbox.resume()

    def changes(self) -> tuple[int, int]:
        """The store's (epoch, rev) now: what moves with every change to what is cached
        (a dashboard section's version)."""
        state = self.store.state()
        return state.epoch, state.rev

    def sync(self) -> None:
        """Catch up with what other processes wrote, if anything."""
        signal = self.store.signal
        if not signal.changed():
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
                    self.tasks.cache.refresh(task)
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
