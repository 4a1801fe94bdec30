"""Client verification: hypothesis draws server worlds, the client meets each on a fresh
fake, and the contract's client checks judge what it did (docs/verify-client.md "Verify a client").

One fake serves the whole run: a ``ServerThread`` on a loopback port with a stepped
clock (every API request moves server time ``step`` seconds, so an unmodified polling
client sees its task progress however fast it polls) and the ``fast`` profile, reset
before each example. A callback receiver on loopback takes the request's
``callback_url``. ``hypothesis.find`` searches for a world that breaks the client and
shrinks it; every run is cached by its world and request, so shrinking never runs a
client twice on the same world and a flaky client cannot confuse the search. The search
tries ``--examples`` worlds in the order the seed fixes (time is only a reported safety
net), so a verdict depends on the client and the seed, never on the machine's speed.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, Verbosity, find, settings
from hypothesis.errors import NoSuchExample

from contracts import checks
from contracts.checks import Outcome
from contracts.checks.client import ClientRun, broken_answer
from contracts.checks.pacing import pace, poll_intervals
from contracts.client.cases import cases, client_request, simpler_requests
from contracts.client.limits import Limits, shrink_limits, watchdog
from contracts.client.options import Example, Options, Result
from contracts.client.report import ClientReport
from contracts.client.runner import (
    Attempt,
    ClientFn,
    CommandClient,
    client_env,
    run_callable,
    run_command,
)
from contracts.client.timing import monotonic, wall_time
from contracts.client.world import HANG_SECONDS, Case, ServerWorld
from mock_server.testing.embedded import ServerThread
from mock_server.testing.receiver import Receiver, Script

CLIENT_CHECKS = checks.collect(checks.client, checks.pacing)
# Server seconds the verifier moves after a run, so the task ends and every callback
# attempt is made before the task is judged: past the longest world (60 + 180 s).
SETTLE_SECONDS = 3600.0
CANNOT_RUN = (126, 127)  # the shell's "not executable" and "not found"
POLISH_SECONDS = 2.0
SLOW_RUN = 3.0  # wall seconds: a failing run slower than this is shrunk greedily only
JOURNAL_WAIT = 0.02  # wall seconds between looks for a held request's journal entry


class CannotRun(Exception):
    """The client could not be started at all (a command that is not found)."""


class _SearchDone(BaseException):
    """The search's time is spent with no failure found: the worlds tried stand."""


class _OutOfTime(BaseException):
    """Stops hypothesis once the shrinking budget is spent (a BaseException, so the
    engine does not take it for a failure of the client and shrink it too)."""


class Verifier:
    """Runs one client against many worlds on one fake."""

    def __init__(
        self,
        client: ClientFn | CommandClient,
        options: Options,
        report: ClientReport,
        server: ServerThread,
        receiver: Receiver,
    ) -> None:
        self.client, self.options, self.report = client, options, report
        self.server, self.receiver = server, receiver
        # One keep-alive client for the control API: a fresh one per call costs a TLS
        # context (tens of ms), and the watchdog asks for the clock every 50 ms.
        self.http = httpx.Client(base_url=f"{server.base_url}/_mock", timeout=60)
        self.cache: dict[str, Example] = {}
        self.examples = 0
        self.shrinks = 0
        self.phase = "search"  # then "shrink" (hypothesis, time-boxed), then "polish"
        self.shrink_deadline = 0.0
        self.shrink_end = 0.0
        self.smallest: Case | None = None
        self.seen: dict[str, list[Outcome]] = {}
        self.intervals: list[float] = []  # every poll interval the search observed
        self.user = Limits(options.timeout, options.max_requests)
        self.broken: set[str] = set()  # the checks the first failure broke: its class
        self.slowest_pass = 0.0  # wall seconds of the slowest run that kept the contract
        self.last_note = 0.0
        self.search_deadline = monotonic() + options.search_seconds

    # -- the search ---------------------------------------------------------------------

    def search(self) -> Result:
        config = settings(
            max_examples=self.options.examples,
            database=None,
            deadline=None,
            phases=(Phase.generate, Phase.shrink),
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
        )
        try:
            find(
                cases(self.options.max_retry_after, self.options.max_consecutive_failures),
                self.breaks,
                settings=config,
                random=random.Random(self.options.seed),
            )
        except NoSuchExample:
            return Result(0, self.examples, self.shrinks, None, self.seen, self.intervals)
        except _SearchDone:
            self.report.note(
                f"the search's safety net of {self.options.search_seconds:g} s is spent: only "
                f"{self.examples} of {self.options.examples} worlds tried, none broke the "
                "client; this verdict may differ on a faster machine"
            )
            return Result(
                0, self.examples, self.shrinks, None, self.seen, self.intervals, cut_short=True
            )
        except _OutOfTime:
            pass  # the shrinker only ever tries smaller worlds: the last failure stands
        found = self.smallest
        assert found is not None
        self.phase = "polish"  # a few runs, within what is left of the shrinking time
        self.shrink_deadline = max(self.shrink_end, monotonic() + POLISH_SECONDS)
        try:
            found = self.polish(found)
        except _OutOfTime:
            found = self.smallest or found
        failure = self.cache[_key(found)]
        for outcome in failure.outcomes:
            self.seen.setdefault(outcome.check.name, []).append(outcome)
        return Result(1, self.examples, self.shrinks, failure, self.seen, self.intervals)

    def breaks(self, case: Case) -> bool:
        """The condition ``find`` looks for: this world breaks the client. Once a failure
        is known, only a failure of the same class (a check it broke) counts, so
        shrinking never wanders off to another bug."""
        key = _key(case)
        if key in self.cache:
            return self._same_class(self.cache[key])
        shrinking = self.phase != "search"
        if shrinking and monotonic() > self.shrink_deadline:
            raise _OutOfTime  # the smallest failure so far stands
        if not shrinking and self.examples and monotonic() > self.search_deadline:
            raise _SearchDone
        example = self.run(case)
        self.cache[key] = example
        self.report.tried(example, self.phase, None if shrinking else self.examples + 1)
        if shrinking:
            self.shrinks += 1
            if self._same_class(example):
                self.smallest = case
            self._progress()
            return self._same_class(example)
        self.examples += 1
        self._show(example)
        if example.violations:
            self.smallest = case
            self.broken = {v.check for v in example.violations}
            self.phase = "shrink"
            self.shrink_end = monotonic() + self.options.shrink_seconds
            # Hypothesis gets 60 % of the time; the greedy polish what is left, at least
            # POLISH_SECONDS, since its first steps are the biggest.
            self.shrink_deadline = monotonic() + 0.6 * self.options.shrink_seconds
            self.report.note(
                f"shrinking to the smallest world that breaks the client "
                f"({', '.join(sorted(self.broken))}; at most {self.options.shrink_seconds:g} s)…"
            )
            self.last_note = monotonic()
            if "client_terminates" in self.broken or example.attempt.seconds > SLOW_RUN:
                # Hypothesis tries dozens of near neighbours; with runs this slow the
                # greedy polish (biggest simplification first) gets further in the time.
                raise _OutOfTime
        else:
            self.slowest_pass = max(self.slowest_pass, example.attempt.seconds)
            for outcome in example.outcomes:
                self.seen.setdefault(outcome.check.name, []).append(outcome)
        return bool(example.violations)

    def _same_class(self, example: Example) -> bool:
        found = {v.check for v in example.violations}
        return bool(found & self.broken) if self.broken else bool(found)

    def _progress(self) -> None:
        """While shrinking, a line every few seconds: the work is going on."""
        if monotonic() - self.last_note < 3 or self.smallest is None:
            return
        self.last_note = monotonic()
        left = max(0.0, self.shrink_deadline - monotonic())
        self.report.note(
            f"  … {self.shrinks} shrinking runs, {left:.0f} s left; smallest so far: "
            f"{self.smallest.world.describe('callback_url' in self.smallest.request)}"
        )

    def polish(self, case: Case) -> Case:
        """Greedy last steps after hypothesis: simpler worlds, then a simpler request,
        each kept when it still breaks the client (so a short shrinking budget still
        ends in a world a person can read)."""
        improved = True
        while improved:
            improved = False
            candidates = [Case(w, case.request) for w in case.world.simpler()]
            candidates += [Case(case.world, r) for r in simpler_requests(case.request)]
            for candidate in candidates:
                if self.breaks(candidate):
                    case, improved = candidate, True
                    break
        return case

    def _show(self, example: Example) -> None:
        attempt = example.attempt
        if attempt.outcome is not None:
            said = attempt.outcome.status
            if attempt.outcome.error_code:
                said += f" ({attempt.outcome.error_code})"
        else:
            said = attempt.problem or "?"
        intervals = poll_intervals(example.run.journal)
        self.intervals += intervals
        detail = f"{said}, {len(example.run.journal)} requests, {attempt.seconds:.2f} s"
        detail += f", {pace(intervals)}"
        world = example.case.world.describe("callback_url" in example.run.request)
        self.report.example(self.examples, world, not example.violations, detail)

    # -- one run ------------------------------------------------------------------------

    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call the fake's control API; its JSON answer."""
        answer = self.http.request(method, path, json=body)
        answer.raise_for_status()
        return answer.json()

    def run(self, case: Case) -> Example:
        world = case.world
        self.control("POST", "/reset")
        self.receiver.clear(Script.from_json(world.receiver_script()))
        self.control("POST", "/scenarios", world.rules())
        request = client_request(case.request, self.receiver.url)
        start = float(self.control("GET", "/clock")["now"])
        limits, cut = self._limits(world)
        begun = wall_time()
        attempt = self._attempt(request, start, limits)
        if attempt.problem == "timeout" and cut:
            raise _OutOfTime  # cut short by the shrinking deadline: it proves nothing
        if attempt.exit_status in CANNOT_RUN and not self.cache:
            raise CannotRun(attempt.detail or f"exit status {attempt.exit_status}")
        journal = self._journal(start, begun)
        self.control("POST", "/clock/advance", {"seconds": SETTLE_SECONDS})
        tasks = {t["task"]["id"]: t["task"] for t in self.control("GET", "/tasks")["tasks"]}
        # The task the client saw created first; those whose answer it never got after.
        creates = [e for e in journal if e["method"] == "POST" and e["status"] == 200]
        made = [e["task_id"] for e in sorted(creates, key=broken_answer)]
        run = ClientRun(
            request=request,
            world=world.to_json(),
            outcome=attempt.outcome.to_json() if attempt.outcome else None,
            journal=journal,
            tasks=[tasks[t] for t in made if t in tasks],
            problem=attempt.problem,
            detail=attempt.detail,
            timeout=limits.seconds,
            extra_fields=world.fields,
            min_poll_interval=self.options.min_poll_interval,
            tight_polls=self.options.tight_polls,
            max_consecutive_failures=self.options.max_consecutive_failures,
        )
        return Example(case, run, checks.run(run, CLIENT_CHECKS), attempt)

    def _journal(self, start: float, begun: float) -> list[dict[str, Any]]:
        """This run's requests in the order they arrived. A request held back (a hang)
        is journaled only when its connection closes, after a client that timed out has
        moved on: the journal is read once every request the stepped clock counted is in
        (a few seconds at most), so a client is never judged on a journal missing its
        last request."""
        made = round((float(self.control("GET", "/clock")["now"]) - start) / self.options.step)
        limit = min(1000, self.options.max_requests + 100)  # the control API pages at 1000
        deadline = monotonic() + HANG_SECONDS + 1
        while True:
            journal = self.control("GET", f"/requests?limit={limit}")["requests"]
            # A request of an earlier, stopped run may still be held (a hang) and land
            # after the reset: it is not this client's.
            journal = [e for e in journal if e.get("wall_at") is None or e["wall_at"] >= begun]
            if len(journal) >= min(made, limit) or monotonic() > deadline:
                return sorted(journal, key=lambda e: float(e.get("wall_at") or 0))
            time.sleep(JOURNAL_WAIT)

    def _limits(self, world: ServerWorld) -> tuple[Limits, bool]:
        """The user's limits while searching; while shrinking, what reproduces the known
        failure, and never past the shrinking deadline (True: the deadline cut them)."""
        if self.phase == "search":
            return self.user, False
        limits = shrink_limits(
            self.user,
            world,
            self.options.step,
            self.slowest_pass,
            "client_terminates" in self.broken,
        )
        left = max(0.5, self.shrink_deadline - monotonic())
        return replace(limits, seconds=min(limits.seconds, left)), left < limits.seconds

    def _attempt(self, request: dict[str, Any], start: float, limits: Limits) -> Attempt:
        base_url, key = self.server.base_url, self.server.api_key
        runaway = watchdog(lambda path: self.control("GET", path), start, self.options.step, limits)
        if isinstance(self.client, CommandClient):
            env = client_env(base_url, key, request)
            return run_command(self.client, env, limits.seconds, runaway)
        return run_callable(self.client, (base_url, key, request), limits.seconds, runaway)


def _key(case: Case) -> str:
    return json.dumps([case.world.to_json(), case.request], sort_keys=True, default=repr)


def verify_client(
    client: ClientFn | CommandClient | str,
    options: Options | None = None,
    report: ClientReport | None = None,
) -> Result:
    """Verify ``client`` (a callable, a ``CommandClient``, or a command string)."""
    options = options or Options()
    report = report or ClientReport()
    if isinstance(client, str):
        client = CommandClient(client)
    name = str(client) if isinstance(client, CommandClient) else _name(client)
    with Receiver() as receiver:
        server = ServerThread(
            clock="stepped",
            step=options.step,
            profile="fast",
            seed=options.seed,
            allow_callback_host=("127.0.0.1",),
            callback_ca_file=receiver.ca_file,
            callback_wall_timeout=2.0,
        )
        try:
            report.console.print(f"[bold]Verifying client[/bold] {_escape(name)}")
            report.note(
                f"fake at {server.base_url}: stepped clock ({options.step:g} s a request), "
                f"fast profile; callbacks to {receiver.url}"
            )
            report.note(
                f"{options.examples} worlds, seed {options.seed}, {options.timeout:g} s and "
                f"{options.max_requests} requests per run at most"
            )
            report.section("Examples")
            verifier = Verifier(client, options, report, server, receiver)
            try:
                result = verifier.search()
            except CannotRun as exc:
                report.console.print(
                    f"\n[bold red]Cannot run the client[/bold red]: {_escape(str(exc))}"
                )
                return Result(2)
            finally:
                verifier.http.close()
        finally:
            server.close()
    if result.failure is not None and options.replay_file is not None:
        save_failure(result.failure, options.replay_file)
    report.conclusion(result, options, CLIENT_CHECKS)
    return result


def _name(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def save_failure(failure: Example, path: Path) -> None:
    """The failing world as a ``wanmock serve --scenarios`` file, its journal beside it."""
    path.write_text(json.dumps(failure.case.world.rules(), indent=2) + "\n")
    journal = path.with_suffix(".journal.json")
    journal.write_text(json.dumps(list(failure.run.journal), indent=2) + "\n")
