"""Invariants of a client under test: what one run of it against one server world showed.

The subject, ``ClientRun``, is what client verification observed: the request the
client was given, the world it met, what it reported, the fake's journal of its
requests and the task objects of the tasks it made (read after the run, once they had
ended). Injected answers (scenario rules) are marked in the journal's notes, so a 4xx
the world sent on purpose is never blamed on the client.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from contracts.checks.core import NotApplicable, check, fail

# A request the server refused, not made: what EvoLink's own client retries ([CLIENT]).
REFUSED: Final = frozenset({429, 502, 503})
# An answer that leaves a create's outcome unknown: the task may have been made.
UNKNOWN: Final = frozenset({500, 504})
TRANSIENT: Final = REFUSED | UNKNOWN  # a poll after any of these is safe to repeat
CREATE: Final = ("POST", "/v1/videos/generations")
FAULT_NOTES: Final = ("transport fault", "connection dropped")  # journal notes of the fake


@dataclass(frozen=True)
class ClientRun:
    """One run of a client: given ``request`` in ``world``, it reported ``outcome`` (or hit
    ``problem``: crashed, bad_output, timeout, runaway) after making ``journal``'s requests."""

    request: Mapping[str, Any]
    world: Mapping[str, Any]
    outcome: Mapping[str, Any] | None
    journal: Sequence[Mapping[str, Any]]
    tasks: Sequence[Mapping[str, Any]] = ()
    problem: str | None = None
    detail: str = ""
    timeout: float = 0.0
    extra_fields: Mapping[str, Any] = field(default_factory=dict)
    min_poll_interval: float = 0.01  # wall seconds: the floor of client_does_not_poll_tightly
    tight_polls: int = 3  # pauses under the floor that make tight polling (or their median)
    max_consecutive_failures: int = 3  # the worlds' budget of failures in a row on a request


def injected(entry: Mapping[str, Any]) -> bool:
    """The answer came from a scenario rule (the world), not from the API's own rules."""
    return any(n.startswith("scenario ") and "applied" in n for n in entry.get("notes") or ())


def describe(entry: Mapping[str, Any]) -> str:
    """One journal entry on one line: ``GET /v1/tasks/… → 503 (injected)``."""
    mark = " (injected)" if injected(entry) else ""
    return f"{entry.get('method')} {entry.get('path')} → {entry.get('status')}{mark}"


def _is_create(entry: Mapping[str, Any]) -> bool:
    return (entry.get("method"), entry.get("path")) == CREATE


def _recent(run: ClientRun, count: int = 6) -> list[str]:
    return [describe(e) for e in run.journal[-count:]]


def _first_task(run: ClientRun) -> Mapping[str, Any]:
    if not run.tasks or not saw_task(run):
        raise NotApplicable("the client made no task")
    return run.tasks[0]


@check(
    ClientRun,
    source='docs/verify-client.md "Verify a client" (a client ends; the verifier\'s time limit)',
)
def client_terminates(run: ClientRun) -> None:
    """The client ends on its own, within the time limit, and stops calling the API."""
    if run.problem == "timeout":
        raise fail(
            f"the client did not finish within {run.timeout:g} s",
            requests=len(run.journal),
            last_requests=_recent(run),
        )
    if run.problem == "runaway":
        ended = [
            e
            for e in run.journal
            if e.get("method") == "GET"
            and isinstance(e.get("response"), Mapping)
            and e["response"].get("status") in ("completed", "failed")
        ]
        also = f"; it polled the task {len(ended)} times after it had ended" if ended else ""
        also = "" if "ended" in run.detail else also
        raise fail(
            f"the client did not stop: {run.detail}{also}",
            requests=len(run.journal),
            last_requests=_recent(run),
        )


@check(ClientRun, source='docs/verify-client.md "Verify a client" (the outcome a client reports)')
def client_answers(run: ClientRun) -> None:
    """The client reports an outcome in the documented shape instead of crashing."""
    if run.problem == "crashed":
        raise fail(
            "the client crashed instead of reporting an outcome",
            output=run.detail,
            last_requests=_recent(run),
        )
    if run.problem == "bad_output":
        raise fail("the client's answer is not an outcome", problem=run.detail)


@check(ClientRun, source="[REF], [I2V] (validation rules); SOURCES.md 'HTTP errors'")
def client_sends_valid_requests(run: ClientRun) -> None:
    """The fake rejected none of the client's requests with a 4xx of its own."""
    rejected = [e for e in run.journal if 400 <= int(e.get("status") or 0) < 500]
    rejected = [e for e in rejected if not injected(e)]
    if rejected:
        first = rejected[0]
        error = first.get("response", {})
        error = error.get("error", error) if isinstance(error, Mapping) else error
        raise fail(
            f"the fake rejected {len(rejected)} of the client's requests, first {describe(first)}",
            answer=error,
            request=first.get("request"),
        )


@check(ClientRun, source="choice: a client sends the request it was asked to make")
def client_sends_the_request(run: ClientRun) -> None:
    """Every field of the request the client was given reaches the create unchanged."""
    sent = [
        e["request"] for e in run.journal if _is_create(e) and isinstance(e.get("request"), Mapping)
    ]
    if not sent:
        raise NotApplicable("the client sent no create with a JSON body")
    body = sent[0]
    changed = {
        name: {"given": value, "sent": body.get(name, "<missing>")}
        for name, value in run.request.items()
        if body.get(name) != value
    }
    if changed:
        raise fail(
            f"the create does not carry the request as given: {', '.join(changed)}",
            fields=changed,
        )


def saw_task(run: ClientRun) -> bool:
    """The client saw a create answered in full: it knows of a task."""
    return any(
        _is_create(e) and e.get("status") == 200 and not broken_answer(e) for e in run.journal
    )


def broken_answer(entry: Mapping[str, Any]) -> bool:
    """The client never got this answer in full: the connection was dropped, held until
    it closed, reset or cut short (a transport fault the world injected)."""
    notes = entry.get("notes") or ()
    return any(n.startswith(FAULT_NOTES) for n in notes)


@check(ClientRun, source="[CLIENT] api-client.ts (retries 429/502/503; one create per task)")
def client_creates_once(run: ClientRun) -> None:
    """Once a create was answered in full, the client never sends it again; before that
    (a dropped, hung, reset or truncated answer), resubmitting is the one legitimate case."""
    creates = [i for i, e in enumerate(run.journal) if _is_create(e)]
    if not creates:
        raise fail("the client never sent the create", requests=_recent(run))
    accepted = [i for i in creates if run.journal[i].get("status") == 200]
    answered = [i for i in accepted if not broken_answer(run.journal[i])]
    if not answered:  # giving up is judged by client_retries_transient_errors
        raise NotApplicable("no create was answered in full")
    again = [i for i in creates if i > answered[0]]
    if again:
        second = again[0]
        made = [i for i in accepted if i <= second]
        what = (
            f"created {len(made)} tasks for one request"
            if run.journal[second].get("status") == 200
            else "sent the create again"
        )
        raise fail(
            f"the client {what}: it resubmitted the create after "
            f"{describe(run.journal[second - 1])}, though {describe(run.journal[answered[0]])} "
            "had answered it in full",
            tasks=[run.journal[i].get("task_id") for i in accepted],
            requests=[describe(e) for e in run.journal[: second + 1]][-6:],
        )


def failure(entry: Mapping[str, Any]) -> str | None:
    """How the world made this request fail, if it did: ``refused`` (429/502/503),
    ``unknown`` (500/504: the server may have acted) or ``fault`` (a transport fault)."""
    if broken_answer(entry):
        return "fault"
    if not injected(entry):
        return None
    status = entry.get("status")
    return "refused" if status in REFUSED else "unknown" if status in UNKNOWN else None


def request_kind(entry: Mapping[str, Any]) -> str:
    """``create``, ``poll`` or ``other``: what is safe to repeat depends on it."""
    if _is_create(entry):
        return "create"
    path = str(entry.get("path") or "")
    return "poll" if entry.get("method") == "GET" and path.startswith("/v1/tasks/") else "other"


def failures_at_end(journal: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The failed requests the client made last, in a row, of the last one's kind."""
    found: list[Mapping[str, Any]] = []
    for entry in reversed(journal):
        if failure(entry) is None or (found and request_kind(entry) != request_kind(found[0])):
            break
        found.append(entry)
    return found[::-1]


def _what(entry: Mapping[str, Any]) -> str:
    """``a transient 429 (Retry-After: 1)`` or ``a transport fault (…)``."""
    if broken_answer(entry):
        notes = "; ".join(n for n in entry["notes"] if n.startswith(FAULT_NOTES))
        return f"a transport fault ({notes})"
    after = entry.get("retry_after")
    wait = "no Retry-After" if after is None else f"Retry-After: {after}"
    return f"a transient {entry.get('status')} ({wait})"


WHY: Final = {
    "poll": "a poll is safe to repeat, and no world puts more than {budget} failures in a "
    "row on one request",
    "create": "a create answered 429, 502 or 503 was refused, not made: EvoLink's own "
    "client retries it",
}


@check(
    ClientRun,
    source="[CLIENT] api-client.ts RETRYABLE_STATUS_CODES = 429, 502, 503 and network errors; "
    "SOURCES.md 'Client verification' (the budget; unknown outcomes)",
)
def client_retries_transient_errors(run: ClientRun) -> None:
    """The client does not give up on a poll after a transient answer or a transport
    fault, nor on a create the server refused (429/502/503), within the worlds' budget of
    failures in a row. A create whose outcome is unknown (500, 504, a broken connection)
    may end the run: reporting ``failed`` is as correct as sending it again."""
    if not any(failure(e) for e in run.journal):
        raise NotApplicable("the world sent no transient error or transport fault")
    streak = failures_at_end(run.journal)
    if not streak:
        return
    last, kind = streak[-1], request_kind(streak[-1])
    if kind == "other" or (kind == "create" and failure(last) != "refused"):
        return  # an unknown outcome: client_reports_right_result judges what it said
    count = len(streak)
    raise fail(
        f"the client gave up after {_what(last)} on {last.get('method')} {last.get('path')}: "
        f"a {kind} that had failed {count} time{'s' if count > 1 else ''} in a row; "
        + WHY[kind].format(budget=run.max_consecutive_failures),
        request_kind=kind,
        failures_in_a_row=count,
        budget=run.max_consecutive_failures,
        failures=[_what(e) for e in streak],
        outcome=run.outcome or run.problem,
        last_requests=_recent(run),
    )


@check(ClientRun, source="[Q] results; [REF] a failed task's error.code")
def client_reports_right_result(run: ClientRun) -> None:
    """completed with the task's result URLs (and no other), or failed with its error code."""
    if run.outcome is None:
        raise NotApplicable("the client reported no outcome")
    if not saw_task(run):
        if run.outcome.get("status") == "completed":
            raise fail(
                "the client reported completed, but it never saw a create answered in full: "
                "there is no task it could know the results of",
                outcome=run.outcome,
                creates=[describe(e) for e in run.journal if _is_create(e)],
            )
        return  # failed with an error code: a right answer to a create it could not make
    task = _first_task(run)
    status, said = task.get("status"), run.outcome.get("status")
    if status == "completed":
        if said != "completed":
            raise fail(
                f"the task completed but the client reported {said}",
                outcome=run.outcome,
                results=task.get("results"),
            )
        urls, results = list(run.outcome.get("video_urls") or []), list(task.get("results") or [])
        strangers = [u for u in urls if u not in results]
        if strangers or len(set(urls)) != len(urls):
            raise fail(
                "the client's video_urls are not the task's results",
                video_urls=urls,
                results=results,
            )
    elif status == "failed" and said == "failed":
        code = (task.get("error") or {}).get("code")
        if run.outcome.get("error_code") != code:
            raise fail(
                f"the task failed with {code} but the client reported "
                f"{run.outcome.get('error_code')!r}",
                error=task.get("error"),
            )


@check(ClientRun, source="[Q] results is an array of URL strings; SOURCES.md 'Client verification'")
def client_reports_all_results(run: ClientRun) -> None:
    """A completed task's every result URL is reported, however many ``results`` holds."""
    if run.outcome is None or run.outcome.get("status") != "completed":
        raise NotApplicable("the client reported no completed task")
    task = _first_task(run)
    results = list(task.get("results") or [])
    if task.get("status") != "completed" or not results:
        raise NotApplicable("the task did not complete")
    reported = set(run.outcome.get("video_urls") or [])
    missing = [u for u in results if u not in reported]
    if missing:
        raise fail(
            f"the task has {len(results)} results but the client reported "
            f"{len(results) - len(missing)} of them",
            missing=missing,
            video_urls=run.outcome.get("video_urls"),
        )


@check(ClientRun, source="[REF] a failed task carries error {code, message}; [CLIENT]")
def client_surfaces_failures(run: ClientRun) -> None:
    """A failed task is reported as failed, never as completed."""
    if run.outcome is None:
        raise NotApplicable("the client reported no outcome")
    task = _first_task(run)
    if task.get("status") == "failed" and run.outcome.get("status") == "completed":
        error = task.get("error") or {}
        raise fail(
            f"the task failed with {error.get('code')} but the client reported completed",
            error=error,
            outcome=run.outcome,
        )


@check(ClientRun, source="choice: a server may add fields (SOURCES.md 'Client verification')")
def client_tolerates_extra_fields(run: ClientRun) -> None:
    """Unknown fields in answers change nothing: the client does not crash on them."""
    if not run.extra_fields:
        raise NotApplicable("no unknown fields were sent")
    if run.problem in ("crashed", "bad_output"):
        last = run.detail.strip().splitlines()[-1:] or [""]
        raise fail(
            "with unknown fields in the answers ("
            + ", ".join(sorted(run.extra_fields))
            + f") the client crashed: {last[0]}",
            extra_fields=dict(run.extra_fields),
        )
