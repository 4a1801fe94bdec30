"""Processes that open one new store file at the same moment take turns
(``store.sqlite.open_alone``), as two ``wanmock serve`` started together by a script do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

OPEN_AND_WRITE = (
    "import sys\n"
    "from mock_server.store.open import open_store\n"
    "store = open_store(sys.argv[1])\n"
    "store.next_task_number()\n"
    "store.signal.changed()\n"
    "store.close()\n"
)
# Without turns, about three pairs in five failed ("database is locked", "locking
# protocol", or SIGBUS on the -shm file): six pairs catch it.
PAIRS = 6


def test_store_file_opened_by_two_new_processes_at_once_opens_in_both(tmp_path: Path) -> None:
    for pair in range(PAIRS):
        db = str(tmp_path / f"new-{pair}.db")
        both = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN_AND_WRITE, db],
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        ended = [(process.wait(timeout=60), process.communicate()[1]) for process in both]
        assert [code for code, _ in ended] == [0, 0], ended
