"""Hypothesis strategies for parts of a server world (issue 10 added them): lifecycle
shapes (progress in steps, an estimate that processing outlasts) and transport faults.
``server_worlds()`` in ``contracts/strategies.py`` calls them; each shrinks to none."""

from __future__ import annotations

from hypothesis import strategies as st

from contracts.client.world import FAULT_EFFECTS, Fault

Points = tuple[tuple[float, int], ...]


def _monotone(points: list[tuple[float, int]]) -> Points:
    highest, found = 0, []
    for fraction, progress in sorted(points):
        highest = max(highest, progress)
        found.append((fraction, highest))
    return tuple(found)


def progress_steps() -> st.SearchStrategy[Points]:
    """Progress as steps over the processing time, ``((fraction, progress), ...)``: it may
    sit at 0 well into processing, jump, and rest on long plateaus; never falls.

    Draws a stall at 0 for the first 10–90 % of processing, then 1–3 jumps to drawn
    values, each a plateau until the next. Shrinks to no steps (the smooth curve).
    """
    fractions = st.integers(1, 9).map(lambda tenths: tenths / 10)
    jumps = st.lists(st.tuples(fractions, st.integers(1, 99)), min_size=1, max_size=3)
    stalled = st.tuples(fractions, jumps).map(
        lambda drawn: _monotone(
            [(0.0, 0), (drawn[0], 0), *[(max(f, drawn[0]), p) for f, p in drawn[1]]]
        )
    )
    return st.one_of(st.just(()), stalled)


def estimates() -> st.SearchStrategy[int | None]:
    """What ``task_info.estimated_time`` starts at: the fake's own (None) or 0–30 s, which a
    world's processing (up to 180 s) usually outlasts. Shrinks to None."""
    return st.one_of(st.none(), st.integers(0, 30))


def faults() -> st.SearchStrategy[tuple[Fault, ...]]:
    """Up to two transport faults, each on the create or on a poll: a connection dropped
    before any answer, an answer held back (``hang``), a connection reset halfway through
    the body, a truncated body. Shrinks to none, then one drop on the create."""
    one = st.builds(
        Fault, st.sampled_from(list(FAULT_EFFECTS)), st.sampled_from(["create", "poll"])
    )
    return st.lists(one, max_size=2).map(tuple)
