"""Retention (``--retention DAYS``): a fake that runs for months forgets what is old.

``purge`` removes tasks that ended and were settled more than DAYS ago on the server
clock, with their journal rows, their callback deliveries and attempts, and the rendered
result files no remaining task uses. Their ledger entries stay, so every key's balance
stays exact (granted = available + reserved + charged). A purged task answers 404 like
any unknown task. Off by default; ``api/app.background`` runs it every
``SWEEP_SECONDS`` when it is on (docs/deployment.md "Long-running fakes").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mock_server.service.fake import Fake

DAY = 86_400.0
SWEEP_SECONDS = 60.0  # wall seconds between two sweeps of a running server
BATCH = 1000  # tasks deleted per store transaction


@dataclass
class Purged:
    """What one ``purge`` removed."""

    tasks: int = 0
    journal_rows: int = 0
    files: list[str] = field(default_factory=list)


def purge(fake: Fake, days: float | None = None) -> Purged:
    """Remove settled tasks that ended more than ``days`` (default ``--retention``) ago,
    and what belongs to them only; nothing when retention is off."""
    days = fake.config.retention if days is None else days
    done = Purged()
    if not days:
        return done
    fake.time.settle_due()
    fake.journal.flush()
    cutoff = fake.now() - days * DAY
    while True:
        ids = fake.tasks.purge_settled(cutoff, BATCH)
        if not ids:
            break
        done.tasks += len(ids)
        done.journal_rows += fake.journal.purge(ids)
    fake.tasks.forget_settled_before(cutoff)
    if done.tasks:
        done.files = fake.results.prune_unused()
    return done
