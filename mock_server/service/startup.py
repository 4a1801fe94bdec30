"""What a process reads from the store before anything else: the seed, the secret that
signs result links, and where the clock stands.

The first process to open a store writes them (``init_state``); every later one, and
every restart, reads the same values back, so replicas and restarts are one fake.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from mock_server.runtime.clock import Clock, make_clock, wall_time
from mock_server.runtime.config import Config
from mock_server.store.open import open_store
from mock_server.store.protocols import Store


def fresh_seed() -> int:
    """A seed for a start without ``--seed``: printed, so the run can be reproduced."""
    return secrets.randbelow(2**31)


@dataclass(frozen=True)
class Start:
    store: Store
    seed: int
    secret: bytes
    clock: Clock


def start(config: Config) -> Start:
    """Open the store ``config`` names and read (or write) what the fake starts from."""
    store = open_store(config.db)
    given = config.seed
    state = store.init_state(
        clock_start=float(int(wall_time())),
        seed=given if given is not None else fresh_seed(),
        secret=secrets.token_hex(16),
        keep_seed=given is None,
    )
    begun = float(state.clock_start or 0.0)
    clock = make_clock(
        config.clock,
        time_scale=config.time_scale,
        step=config.step,
        start=state.clock_now if state.clock_now is not None else begun,
    )
    seed = given if given is not None else int(state.seed or 0)
    return Start(store, seed, bytes.fromhex(state.secret or ""), clock)
