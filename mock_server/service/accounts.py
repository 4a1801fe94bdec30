"""Accounts: API keys, what each may do, and the money each holds.

A key's settings are cached here (a key is checked on every request, so it is a dict
lookup); its money is the store's ledger, read through on every question after the
tasks due by now are billed (``settle_due``), so a balance never lags the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from contracts import facts
from mock_server.domain import billing
from mock_server.domain.errors import ApiError, invalid
from mock_server.domain.keys import KeyInfo, parse_key_spec
from mock_server.domain.models import LedgerEntry, Task
from mock_server.runtime.clock import Clock
from mock_server.runtime.config import Config
from mock_server.store.protocols import Store


@dataclass
class Accounts:
    """Keys and balances, as this process sees the shared store."""

    config: Config
    store: Store
    clock: Clock
    settle_due: Callable[[], None]
    keys: dict[str, KeyInfo] = field(init=False, default_factory=dict)

    def reload(self) -> None:
        """Read every key's settings again (at start, and when another process wrote)."""
        self.keys = {k: KeyInfo.from_json(v) for k, v in self.store.keys().items()}

    def install_config_keys(self) -> None:
        """``--api-key`` keys not in the store yet, with their credits."""
        missing = {k: v for k, v in self.config.keys.items() if k not in self.keys}
        if missing:
            self._write_keys({k: {"credits": str(v)} for k, v in missing.items()})

    # -- who is asking -----------------------------------------------------------------

    def authenticate(
        self, authorization: str | None, message: str = facts.CREATE_AUTH_MESSAGE
    ) -> str:
        """The key of a ``Bearer`` header, else the real API's 401."""
        scheme, _, key = (authorization or "").strip().partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or key not in self.keys:
            raise ApiError(401, message)
        return key

    def known(self, key: str) -> bool:
        return key in self.keys

    def info(self, key: str) -> KeyInfo:
        return self.keys[key]

    def names(self) -> list[str]:
        """Configured keys first, then any other key with ledger entries."""
        return list(dict.fromkeys([*self.keys, *self.balances()]))

    # -- steering ------------------------------------------------------------------------

    def put_keys(self, keys: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
        """Create or update keys; ``credits`` sets the available balance exactly. Every
        key's settings and balance after the change."""
        self._write_keys(keys)
        return self.key_table()

    def _write_keys(self, keys: Mapping[str, Mapping[str, Any]]) -> None:
        """``put_keys`` without its answer: a fake's start (``install_config_keys``, once
        per fake, so once per test in the pytest plugin) has nobody to read the table
        of balances, which settles what is due and reads every balance to make."""
        now = self.clock.now()
        infos: dict[str, KeyInfo] = {}
        credits: dict[str, Decimal] = {}
        for key, spec in keys.items():
            infos[key] = parse_key_spec(
                key, spec, self.keys.get(key, KeyInfo()), self.config.models
            )
            if "credits" in spec:
                try:
                    credits[key] = billing.parse_credits(spec["credits"])
                except ValueError as exc:
                    raise invalid(f"keys.{key}.credits", str(exc)) from None

        def grants(key: str, available: Decimal) -> list[LedgerEntry]:
            if key not in credits:
                return []
            return billing.credit_grants(key, credits[key], available, now)

        self.store.put_keys({k: v.to_json() for k, v in infos.items()}, grants)
        self.keys.update(infos)

    # -- money ---------------------------------------------------------------------------

    def balance(self, key: str) -> billing.Balance:
        self.settle_due()
        return self.store.balance(key)

    def balances(self) -> dict[str, billing.Balance]:
        self.settle_due()
        return self.store.balances()

    def own_balance(self, authorization: str | None) -> billing.Balance:
        """The balance of the key a request authenticates with (``GET /v1/credits``)."""
        return self.balance(self.authenticate(authorization))

    def ledger_entries(self, key: str | None = None) -> list[LedgerEntry]:
        self.settle_due()
        return self.store.ledger_entries(key)

    def ledger_after(
        self, key: str | None, task_id: str | None, at: float, seq: int, limit: int
    ) -> list[LedgerEntry]:
        """Up to ``limit`` entries after (``at``, ``seq``), oldest first (a keyset page)."""
        return self.store.ledger_after(key, task_id, at, seq, limit)

    def key_table(self) -> dict[str, dict[str, Any]]:
        """Every key's settings with its balance (``GET /_mock/keys``)."""
        balances = self.balances()
        return {
            k: {**info.to_json(), **balances.get(k, billing.Balance()).to_json()}
            for k, info in self.keys.items()
        }

    def ledger(self, key: str | None = None) -> dict[str, Any]:
        """The ledger's entries and balances, of one key if asked (``GET /_mock/ledger``)."""
        balances = {k: b.to_json() for k, b in self.balances().items() if key in (None, k)}
        entries = [e.to_json() for e in self.ledger_entries(key)]
        return {"entries": entries, "balances": balances}

    def charge_of(self, task: Task) -> Decimal | None:
        """What an ended task is charged: its price on success, nothing otherwise."""
        if task.plan.outcome != "completed":
            return None
        model = self.config.models[task.request.model]
        return billing.request_cost(model, task.request, task.input_seconds)
