"""The fake, composed: one store, the services over it, and a facade of the operations
tests, the pytest plugin and the embedded fake call by name.

Each service gets what it needs passed in (docs/ARCHITECTURE.md "Services"); this module
only builds them in order and forwards. It holds no domain logic and imports no web
framework: ``api/`` parses HTTP, calls one service operation and renders its answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Unpack

from mock_server.delivery.attempt import Sender
from mock_server.delivery.outbox import Outbox
from mock_server.domain import billing
from mock_server.domain.lifecycle import Observation
from mock_server.domain.models import Outcome, Task
from mock_server.media.references import Media
from mock_server.runtime.config import Config
from mock_server.runtime.scheduler import Scheduler
from mock_server.service.accounts import Accounts
from mock_server.service.files import Files
from mock_server.service.journal import RequestJournal
from mock_server.service.replica import Replica
from mock_server.service.results import Results
from mock_server.service.revisions import Revisions
from mock_server.service.rulebook import RuleBook
from mock_server.service.settling import SettleWindow
from mock_server.service.startup import start
from mock_server.service.tasks import Tasks
from mock_server.service.timekeeper import Ending, Timekeeper


def _http_sender(config: Config) -> Sender:
    """The callback sender, imported when the first attempt is due: httpx and a TLS
    context cost a fake that never calls back nothing."""
    from mock_server.delivery.sender import HttpSender

    return HttpSender(config)


class Fake:
    """One fake EvoLink account service, as one process sees the shared store."""

    def __init__(self, config: Config) -> None:
        self.config = config
        begun = start(config)
        store, clock = begun.store, begun.clock
        self.store, self.clock, self.seed = store, clock, begun.seed
        self.stepped = clock.mode == "stepped"
        self.scheduler = scheduler = Scheduler(clock)
        revisions = Revisions()
        self.settling = SettleWindow(store, scheduler)
        self.outbox = Outbox(
            config, store, clock, scheduler, sender_factory=lambda: _http_sender(config)
        )
        self.media = Media(config, store, clock)
        self.rules = RuleBook(store)
        # A balance bills what has ended first; time is built below, so ask it late.
        self.accounts = Accounts(config, store, clock, lambda: self.time.settle_due())
        self.tasks = Tasks(
            config,
            store,
            clock,
            scheduler,
            accounts=self.accounts,
            rules=self.rules,
            media=self.media,
            settling=self.settling,
            seed=self.seed,
            secret=begun.secret,
        )
        self.journal = RequestJournal(config, store)
        self.replica = Replica(
            config,
            store,
            clock,
            scheduler,
            revisions=revisions,
            tasks=self.tasks,
            accounts=self.accounts,
            rules=self.rules,
            settling=self.settling,
            outbox=self.outbox,
            journal=self.journal,
            media=self.media,
        )
        self.time = Timekeeper(
            config,
            store,
            clock,
            scheduler,
            tasks=self.tasks,
            accounts=self.accounts,
            settling=self.settling,
            outbox=self.outbox,
            revisions=revisions,
            sync=self.replica.sync,
            seed=self.seed,
        )
        self.files = Files(config, self.media.uploads, self.accounts)
        self.results = Results(config, clock, self.tasks, self.media.renders, begun.secret)
        self.replica.start()

    # -- the facade: operations called by name from outside the api ----------------------

    def now(self) -> float:
        return self.clock.now()

    def create_task(self, key: str, body: object) -> Task:
        return self.tasks.create(key, body)

    def get_task(self, key: str, task_id: str) -> Task:
        return self.tasks.get(key, task_id)

    def control_task(self, task_id: str) -> Task:
        return self.tasks.fresh(task_id)

    def task_json(self, task: Task) -> bytes:
        return self.tasks.answer(task)

    def observe(self, task: Task) -> Observation:
        return self.tasks.observe(task)

    async def advance(self, seconds: float) -> float:
        return await self.time.advance(seconds)

    def force(self, task_id: str, outcome: Outcome, **ending: Unpack[Ending]) -> Task:
        return self.time.force(task_id, outcome, **ending)

    def put_keys(self, keys: Mapping[str, Mapping[str, Any]]) -> None:
        self.accounts.put_keys(keys)

    def balance(self, key: str) -> billing.Balance:
        return self.accounts.balance(key)

    def balances(self) -> dict[str, billing.Balance]:
        return self.accounts.balances()

    # -- the process's life (service/replica.py) -------------------------------------

    async def housekeeping(self) -> None:
        await self.replica.housekeeping()

    async def aclose(self) -> None:
        await self.replica.aclose()

    def reset(self) -> None:
        self.replica.reset()
