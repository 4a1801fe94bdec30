"""``make calibrate``: how often ``wanmock verify-client`` is wrong, measured on a corpus.

Every correct client of ``tests/clients`` is verified under 10 seeds and every broken
one under 3, with the default settings (``Options()``); the run prints each verdict with
its wall time, then the false-verdict rate (correct clients flagged), the miss rate
(broken clients passed, or caught under another property than their bug's) and the wall
time per verdict against the goals (45 s for a correct client, 30 s for a broken one).
Goals: 0 and 0. A harness traceback on stderr during a verdict counts as a defect too.

A correct client needing what this machine lacks (``node``; ``EVOLINK_MEDIA_DIR``, the
installed ``@evolinkai/evolink-media`` package) is skipped, and said so; under
``CI=true`` a missing ``node`` is an error. ``ARGS="--help"`` lists the knobs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from contracts.client import Options, verify_client
from contracts.client.report import ClientReport
from tests.clients import BROKEN, CORRECT, Member

GOAL_CORRECT_S = 45.0
GOAL_BROKEN_S = 30.0


@dataclass
class Verdict:
    member: str
    seed: int
    correct: bool  # the member is a correct client
    status: int
    broke: list[str]
    seconds: float
    noise: str  # a harness traceback seen on stderr

    @property
    def wrong(self) -> bool:
        if self.correct:
            return self.status != 0
        return self.status != 1 or not self.broke

    def line(self, expected: str | None) -> str:
        said = "pass" if self.status == 0 else f"fail {','.join(self.broke)}"
        mark = "WRONG" if self.wrong else "ok"
        return f"  {mark:5} seed {self.seed:2}  {self.seconds:5.1f} s  {said}" + (
            f"  (expected {expected})" if expected and self.wrong else ""
        )


def verdict(member: Member, seed: int, folder: Path, examples: int | None) -> Verdict:
    """Verify one member under one seed, quietly; what the verifier said."""
    settings: dict[str, Any] = {"seed": seed, "replay_file": folder / "failure.json"}
    if examples is not None:
        settings["examples"] = examples
    options = Options(**{**settings, **member.options})
    report = ClientReport(Console(file=io.StringIO(), width=200))
    stderr = io.StringIO()
    started = time.monotonic()
    with contextlib.redirect_stderr(stderr):
        result = verify_client(member.client, options, report)
    seconds = time.monotonic() - started
    broke = sorted({v.check for v in result.failure.violations}) if result.failure else []
    if member.breaks is not None and member.breaks in broke:
        broke = [member.breaks]  # named: the property its bug breaks
    elif member.breaks is not None:
        broke = []  # caught under another name only: a miss
    noise = stderr.getvalue() if "Traceback" in stderr.getvalue() else ""
    return Verdict(member.name, seed, member.breaks is None, result.status, broke, seconds, noise)


def run(members: tuple[Member, ...], seeds: int, args: argparse.Namespace) -> list[Verdict]:
    found: list[Verdict] = []
    with tempfile.TemporaryDirectory(prefix="wanmock-calibrate-") as folder:
        for member in members:
            if not seeds or (args.only and args.only not in member.name):
                continue
            missing = member.missing()
            if missing:
                if os.environ.get("CI") == "true" and "node" in missing:
                    raise SystemExit(f"{member.name}: needs {', '.join(missing)} under CI")
                print(f"{member.name}: skipped, needs {', '.join(missing)}")
                continue
            print(f"{member.name}" + (f" (breaks {member.breaks})" if member.breaks else ""))
            for seed in range(args.first_seed, args.first_seed + seeds):
                one = verdict(member, seed, Path(folder), args.examples)
                print(one.line(member.breaks), flush=True)
                if one.noise:
                    print("    harness traceback on stderr:\n" + one.noise[-800:])
                found.append(one)
    return found


def summary(verdicts: list[Verdict]) -> dict[str, Any]:
    correct = [v for v in verdicts if v.correct]
    broken = [v for v in verdicts if not v.correct]

    def rate(items: list[Verdict]) -> float | None:
        return sum(v.wrong for v in items) / len(items) if items else None

    def times(items: list[Verdict]) -> dict[str, float]:
        seconds = [v.seconds for v in items] or [0.0]
        return {"median": statistics.median(seconds), "max": max(seconds)}

    return {
        "false_verdict_rate": rate(correct),
        "miss_rate": rate(broken),
        "verdicts": {"correct": len(correct), "broken": len(broken)},
        "seconds_correct": times(correct),
        "seconds_broken": times(broken),
        "harness_tracebacks": sum(bool(v.noise) for v in verdicts),
        "wrong": [f"{v.member} seed {v.seed}" for v in verdicts if v.wrong],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make calibrate", description=__doc__.split("\n")[0])
    parser.add_argument("--correct-seeds", type=int, default=10)
    parser.add_argument("--broken-seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--examples", type=int, default=None, help="worlds per verdict (20)")
    parser.add_argument("--only", default="", help="run the members whose name has this")
    parser.add_argument("--output", type=Path, default=Path(".bench/calibrate.json"))
    args = parser.parse_args(argv)
    verdicts = run(CORRECT, args.correct_seeds, args) + run(BROKEN, args.broken_seeds, args)
    figures = summary(verdicts)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(figures, indent=2) + "\n")

    def percent(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.1f} %"

    c, b = figures["seconds_correct"], figures["seconds_broken"]
    print(f"\nfalse-verdict rate {percent(figures['false_verdict_rate'])} "
          f"of {figures['verdicts']['correct']} verdicts on correct clients (goal 0)")  # fmt: skip
    print(f"miss rate {percent(figures['miss_rate'])} "
          f"of {figures['verdicts']['broken']} verdicts on broken clients (goal 0)")  # fmt: skip
    print(f"wall time per verdict: correct median {c['median']:.1f} s, max {c['max']:.1f} s "
          f"(goal {GOAL_CORRECT_S:g}); broken median {b['median']:.1f} s, max {b['max']:.1f} s "
          f"(goal {GOAL_BROKEN_S:g})")  # fmt: skip
    print(f"harness tracebacks: {figures['harness_tracebacks']}")
    for wrong in figures["wrong"]:
        print(f"WARN wrong verdict: {wrong}")
    if c["max"] > GOAL_CORRECT_S or b["max"] > GOAL_BROKEN_S:
        print("WARN a verdict took longer than its goal")
    return 1 if figures["wrong"] or figures["harness_tracebacks"] else 0


if __name__ == "__main__":
    sys.exit(main())
