"""The verifier's report: one line per check as it finishes, evidence under each failure.

Printed with ``rich`` so a person reads it at a glance (green, red, dim), and plain when
the output is not a terminal (CI logs, tests). The same object keeps every outcome, so
the exit status and any summary come from what was printed, and so do the JUnit and JSON
reports (``record()``, written by ``contracts/reports``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape

from contracts.checks import ContractViolation, Outcome
from contracts.reports.run_record import Entry, RunRecord, entry


@dataclass
class Line:
    """One check of the provider suite: its name, what it showed, and any violations."""

    name: str
    status: str  # passed | failed | skipped
    detail: str = ""
    violations: list[ContractViolation] = field(default_factory=list)
    section: str = ""  # filled in when printed
    seconds: float = 0.0  # wall seconds since the line before
    counted: bool = True  # in the printed totals (verify-client's worlds are not)


MARKS = {
    "passed": "[green]✓[/green]",
    "failed": "[bold red]✗[/bold red]",
    "skipped": "[dim]-[/dim]",
}


class Report:
    """Collects and prints the lines of one verification run."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.lines: list[Line] = []
        #: Every judged line printed, in order (``lines`` and any a subclass adds).
        self.entries: list[Line] = []
        self.current = "Run"  # lines before the first heading
        self.started = self.previous = time.monotonic()

    def section(self, title: str) -> None:
        """A heading before a group of checks."""
        self.current = title
        self.console.print(f"\n[bold]{escape(title)}[/bold]")

    def note(self, text: str) -> None:
        """A remark that is not a check (what is about to happen, what was chosen)."""
        self.console.print(f"  [dim]{escape(text)}[/dim]")

    def add(
        self,
        name: str,
        outcomes: Sequence[Outcome] = (),
        *,
        detail: str = "",
        extra: Sequence[ContractViolation] = (),
    ) -> Line:
        """Record a check from contract outcomes (and any violations found by hand)."""
        found = [o.violation for o in outcomes if o.violation is not None] + list(extra)
        status = "failed" if found else "passed"
        return self._print(Line(name, status, detail, found))

    def skip(self, name: str, why: str) -> Line:
        """Record a check that could not run here, and why."""
        return self._print(Line(name, "skipped", why))

    def _print(self, line: Line) -> Line:
        self.lines.append(line)
        self.printed(line)
        detail = f" [dim]— {escape(line.detail)}[/dim]" if line.detail else ""
        self.console.print(f"  {MARKS[line.status]} {escape(line.name)}{detail}")
        for violation in line.violations:
            for index, text in enumerate(str(violation).splitlines()):
                style = "red" if index == 0 else "dim"
                self.console.print(f"      [{style}]{escape(text)}[/{style}]")
        return line

    def printed(self, line: Line) -> None:
        """Keep ``line`` for the machine-readable reports, under the current section."""
        now = time.monotonic()
        line.section, line.seconds, self.previous = self.current, now - self.previous, now
        self.entries.append(line)

    def record(self, tool: str, version: str, options: dict[str, object], status: int) -> RunRecord:
        """The run so far as the neutral record the JUnit and JSON writers take."""
        entries: list[Entry] = [entry(line) for line in self.entries]
        return RunRecord(tool, version, options, entries, status, time.monotonic() - self.started)

    @contextlib.contextmanager
    def working(self, text: str) -> Iterator[None]:
        """A spinner while something slow runs (only on a terminal)."""
        if self.console.is_terminal:
            with self.console.status(escape(text)):
                yield
        else:
            yield

    @property
    def failed(self) -> list[Line]:
        """Lines that found a violation."""
        return [line for line in self.lines if line.status == "failed"]

    def summary(self) -> int:
        """Print the totals; the exit status is 1 when any check failed."""
        counts = {s: sum(1 for line in self.lines if line.status == s) for s in MARKS}
        text = f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped"
        if self.failed:
            self.console.print(f"\n[bold red]Contract violations found[/bold red]: {text}")
            for line in self.failed:  # a recap, unmarked: each check has one ✗ line
                checks = ", ".join(v.check for v in line.violations)
                self.console.print(
                    f"    [red]{escape(line.name)}[/red] [dim]({escape(checks)})[/dim]"
                )
            return 1
        self.console.print(f"\n[bold green]The provider keeps the contract[/bold green]: {text}")
        return 0
