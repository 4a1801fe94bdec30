"""The request journal (service/journal.py): recorded on the request path, written in
batches off it, read in pages."""

from __future__ import annotations

from mock_server.runtime.journal import Entry
from mock_server.service.fake import Fake
from tests.conftest import KEY


def entry(fake: Fake, path: str = "/v1/tasks/task-unified-1-abcdefgh") -> Entry:
    found = Entry(fake.now(), "GET", path, KEY)
    found.status = 200
    return found


def test_journal_record_waits_for_a_flush_to_be_written(fake: Fake) -> None:
    fake.journal.record(entry(fake))
    assert fake.journal.pending and fake.journal.written() == []
    fake.journal.flush()
    assert not fake.journal.pending and len(fake.journal.written()) == 1


def test_journal_page_flushes_first_and_pages_by_cursor(fake: Fake) -> None:
    for _ in range(3):
        fake.journal.record(entry(fake))
    first, cursor = fake.journal.page(limit=2)
    rest, end = fake.journal.page(limit=2, cursor=cursor)
    assert [len(first), len(rest), end] == [2, 1, None]
    assert first[0]["seq"] < first[1]["seq"] < rest[0]["seq"]


def test_journal_note_poll_measures_the_gap_per_path(fake: Fake) -> None:
    assert fake.journal.note_poll("/v1/tasks/a", 10.0) is None
    assert fake.journal.note_poll("/v1/tasks/b", 10.5) is None
    assert fake.journal.note_poll("/v1/tasks/a", 12.0) == 2.0


def test_journal_forget_drops_what_is_pending(fake: Fake) -> None:
    fake.journal.record(entry(fake))
    fake.journal.forget()
    fake.journal.flush()
    assert fake.journal.written() == []


def test_journal_newest_picks_one_tasks_entries_across_many_batches(fake: Fake) -> None:
    for n in range(20):  # a batch per flush: more batches than the store reads at once
        recorded = entry(fake)
        recorded.task_id = f"task-{n % 2}"
        fake.journal.record(recorded)
        fake.journal.flush()
    found = fake.journal.newest(task_id="task-1", limit=3)
    assert [e["task_id"] for e in found] == ["task-1"] * 3
    assert [e["seq"] for e in found] == [16, 18, 20]


def test_journal_newest_picks_one_keys_entries(fake: Fake) -> None:
    other = Entry(fake.now(), "GET", "/v1/tasks/x", "another-key")
    other.status = 200
    for recorded in (entry(fake), other):
        fake.journal.record(recorded)
    assert [e["key"] for e in fake.journal.newest(key=KEY)] == [KEY]
