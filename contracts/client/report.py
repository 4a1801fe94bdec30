"""The client verifier's report, in the provider verifier's style (``provider/report.py``):
one line per example as it runs, one line per property at the end, evidence under each
violation, and the smallest breaking world as a replayable scenario and a journal."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.markup import escape

from contracts.checks import Check, Outcome
from contracts.checks.client import describe
from contracts.checks.pacing import pace
from contracts.provider.report import MARKS, Line, Report
from contracts.reports.run_record import RunRecord
from contracts.reports.worlds import shrunk_json, world_json

if TYPE_CHECKING:
    from contracts.client.options import Example, Options, Result

JOURNAL_ENDS = 8  # a long journal shows its first and last entries


class ClientReport(Report):
    """Collects and prints the lines of one client verification run."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.worlds: list[dict[str, Any]] = []  # every run, for the JSON report
        self.latest: Example | None = None

    def tried(self, example: Example, phase: str, number: int | None) -> None:
        """Keep a run of the client (search, shrinking or polish) for the JSON report."""
        self.latest = example
        self.worlds.append(world_json(example, phase, number))

    def example(self, number: int, world: str, ok: bool, detail: str) -> None:
        """One example of the search, as it finishes (not the shrinking runs)."""
        broke = self.latest.violations if self.latest is not None and not ok else []
        status = "passed" if ok else "failed"
        line = Line(f"world {number}: {world}", status, detail, broke, counted=False)
        self.printed(line)  # a line of the JUnit and JSON reports, not of the totals
        mark = MARKS[line.status]
        self.console.print(f"  {mark} [dim]{escape(line.name)} — {escape(detail)}[/dim]")

    def properties(
        self, checks: Sequence[Check], seen: Mapping[str, list[Outcome]], failed: bool
    ) -> None:
        """One line per property: held in every run, broken by the smallest world, or
        never exercised."""
        self.section("Properties")
        for item in checks:
            outcomes = seen.get(item.name, [])
            broken = [o.violation for o in outcomes if o.violation is not None]
            name = item.doc.splitlines()[0] if item.doc else item.name
            label = f"{item.name}: {name}"
            if broken and failed:
                self.add(label, extra=broken[-1:])
            elif any(o.status == "passed" for o in outcomes):
                self.add(
                    label, detail=f"held in {sum(o.status == 'passed' for o in outcomes)} runs"
                )
            else:
                reason = outcomes[-1].reason if outcomes else "not run"
                self.skip(label, f"never exercised ({reason})")

    def world(self, title: str, text: str) -> None:
        self.console.print(f"  [bold]{escape(title)}[/bold] {escape(text)}")

    def block(self, value: Any) -> None:
        """A JSON value, indented, as a person copies it."""
        for line in json.dumps(value, indent=2, ensure_ascii=False).splitlines():
            self.console.print(f"    {escape(line)}", soft_wrap=True)

    def journal(self, entries: Sequence[Mapping[str, Any]]) -> None:
        """The run's requests on one line each, at server time from the first request."""
        origin = float(entries[0].get("at") or 0) if entries else 0.0
        for index, entry in enumerate(entries):
            if len(entries) > 2 * JOURNAL_ENDS and index == JOURNAL_ENDS:
                hidden = len(entries) - 2 * JOURNAL_ENDS
                self.console.print(f"    [dim]… {hidden} more (all in the journal file)[/dim]")
            if JOURNAL_ENDS <= index < len(entries) - JOURNAL_ENDS:
                continue
            at = float(entry.get("at") or 0) - origin
            task = entry.get("response")
            state = ""
            if isinstance(task, Mapping) and "status" in task:
                state = f"  {task.get('status')} {task.get('progress', '?')}%"
            self.console.print(
                f"    [dim]+{at:>5.0f} s[/dim]  {escape(describe(entry))}[dim]{escape(state)}[/dim]"
            )

    def conclusion(self, result: Result, options: Options, checks: Sequence[Check]) -> None:
        """Every property, then the smallest failing world: its request, the scenario rules
        that replay it (saved in ``options.replay_file``) and the journal of its run."""
        self.properties(checks, result.seen, result.failure is not None)
        if result.poll_intervals:
            self.note(
                f"the client {pace(result.poll_intervals)} over "
                f"{len(result.poll_intervals)} polls of running tasks"
            )
        failure = result.failure
        if failure is not None:
            self.section(
                f"The smallest world that breaks the client (after {result.examples} examples "
                f"and {result.shrinks} shrinking runs)"
            )
            world = failure.case.world
            self.world("world:", world.describe("callback_url" in failure.run.request))
            self.world("request:", "")
            self.block(failure.run.request)
            rules = world.rules()
            replay = f"wanmock serve --clock stepped --step {options.step:g} --profile fast"
            replay += " --db :memory:"
            if options.replay_file is not None:
                journal_file = options.replay_file.with_suffix(".journal.json")
                self.world("replay:", f"{replay} --scenarios {options.replay_file}")
                self.note(f"scenario rules in {options.replay_file}, journal in {journal_file}")
            else:
                self.world("replay:", f"{replay} --scenarios FILE, FILE holding:")
            script = world.receiver_script()
            if failure.run.request.get("callback_url") and (
                script.get("fail_first") or script.get("delay")
            ):
                flags = f"--fail-first {script['fail_first']}"
                if script.get("delay"):
                    flags += f" --delay {script['delay']}"
                self.note(f"callbacks: `wanmock receiver {flags}` as the callback_url")
            self.world("scenario rules:", "")
            self.block(rules)
            self.world("journal of that run:", "")
            self.journal(failure.run.journal)
        self.summary()

    def client_record(
        self, version: str, options: dict[str, object], result: Result, replay: Any
    ) -> RunRecord:
        """The run as the neutral record of ``contracts/reports``, with every world tried,
        the shrunk world and the replay file."""
        record = self.record("verify-client", version, options, result.status)
        record.extra = {"worlds": self.worlds, **shrunk_json(result.failure, replay)}
        record.extra["examples"], record.extra["shrinks"] = result.examples, result.shrinks
        return record

    def summary(self) -> int:
        """The totals; the exit status is 1 when any property was broken."""
        counts = {s: sum(1 for line in self.lines if line.status == s) for s in MARKS}
        text = f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
        if self.failed:
            self.console.print(f"\n[bold red]The client breaks the contract[/bold red]: {text}")
            return 1
        self.console.print(f"\n[bold green]The client keeps the contract[/bold green]: {text}")
        return 0
