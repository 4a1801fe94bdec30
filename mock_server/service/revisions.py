"""Which of the store's changes this process has seen.

Every transaction that changes what a cache holds moves the store's ``rev``; a reset
moves its ``epoch``; a key change moves ``keys_rev``. A service that writes tells this
counter (``wrote``), so its own change is not read back as another process's.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Revisions:
    rev: int = 0
    epoch: int = 0
    keys_rev: int = 0

    def wrote(self, rev: int) -> None:
        """This process made change ``rev``: nothing to pull if it is the next one."""
        if rev == self.rev + 1:
            self.rev = rev
