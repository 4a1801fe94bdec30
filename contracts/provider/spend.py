"""Real generations, only within ``--allow-spend``: lifecycle, results and billing.

A provider is a black box with its own clock, so tasks are only ever *polled* (every
``--poll-interval`` seconds, until ``--timeout``); a few extra polls after a task ends
check that it stays ended. Money is read from ``GET /v1/credits`` ([CREDITS]) or, on
wanmock, from its ledger. The failure probe runs alone first, so whatever the balance
does meanwhile is that failed task's doing; the successes run together after it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from contracts import checks
from contracts.checks import SettledTask, Settlement, TaskHistory
from contracts.facts import TERMINAL_STATUSES
from contracts.pricing import as_credits, expected_charge
from contracts.provider import files
from contracts.provider.files import Reference
from contracts.provider.http import Provider
from contracts.provider.refusals import BROKE_KEY, as_error, judge
from contracts.provider.report import Report

EXTRA_POLLS: Final = 2
VIRTUAL_STEP: Final = 5.0  # server seconds per polling round on wanmock's virtual clock
TRANSIENT: Final = frozenset({429, 500, 502, 503})
#: The wanmock token fails the probe on the fake; a real service fails it on the download.
FAILURE_PROMPT: Final = "[wanmock:fail=generation_failed_no_content] wanmock verify-provider probe"
UNREACHABLE: Final = "https://example.com/wanmock-verify/unreachable.mp4"


@dataclass
class Generation:
    """One paid task: what is asked, what it should cost, and what was seen of it."""

    name: str
    request: dict[str, Any]
    reference_seconds: list[Decimal] | None
    estimate: Decimal
    task_id: str = ""
    reserved: Decimal | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    extra: int = -1  # polls since the first ended status; -1 until then
    abandoned: bool = False

    @property
    def status(self) -> str | None:
        """The last status seen."""
        status = self.history[-1].get("status") if self.history else None
        return status if isinstance(status, str) else None

    @property
    def done(self) -> bool:
        """Ended, and polled ``EXTRA_POLLS`` more times since."""
        return self.abandoned or self.extra >= EXTRA_POLLS


def plans(reference: Reference | None) -> list[Generation]:
    """Cheapest and most telling first: the failure probe, then one, two, three references."""
    probe = {
        "model": "wan2.6-reference-video-flash",
        "prompt": FAILURE_PROMPT,
        "video_urls": [UNREACHABLE],
        "duration": 2,
        "generate_audio": False,
    }
    found = [Generation("failure probe", probe, None, expected_charge(probe, [Decimal(5)]))]
    if reference is None or reference.seconds is None:
        return found
    shapes: list[tuple[str, dict[str, Any], int]] = [
        # the longest and cheapest first: the most polls while processing
        (
            "one reference, 10 s silent",
            {"model": "wan2.6-reference-video-flash", "duration": 10, "generate_audio": False},
            1,
        ),
        ("two references", {"model": "wan2.6-reference-video", "duration": 2}, 2),
        (
            "three references, 1080p",
            {"model": "wan2.6-reference-video-flash", "quality": "1080p", "duration": 2},
            3,
        ),
    ]
    for name, fields, count in shapes:
        body = {
            "prompt": "A person waves at the camera, wanmock verify-provider",
            "video_urls": [reference.url] * count,
            **fields,
        }
        seconds = [reference.seconds] * count
        found.append(Generation(name, body, seconds, expected_charge(body, seconds)))
    return found


async def start(provider: Provider, report: Report, gen: Generation) -> bool:
    """Create the task; an answer other than 200 is judged as an error and ends it."""
    answer = await provider.create(gen.request, operation="create-paid")
    if answer.status == 200 and isinstance(answer.body, dict):
        gen.history.append(answer.body)
        gen.task_id = str(answer.body.get("id", ""))
        usage = answer.body.get("usage")
        reserved = usage.get("credits_reserved") if isinstance(usage, dict) else None
        gen.reserved = as_credits(reserved)
        report.note(f"{gen.name}: created {gen.task_id} (reserved {gen.reserved})")
        return True
    outcomes = checks.run(as_error(answer, None, None, gen.name))
    name = f"generation {gen.name}: create"
    if any(o.violation for o in outcomes):
        report.add(name, outcomes, detail=f"HTTP {answer.status}")
    else:
        report.skip(name, f"create answered HTTP {answer.status}")
    return False


async def hidden_from_others(provider: Provider, report: Report, gen: Generation) -> None:
    """Another key's query of the task is 404, as for a task that does not exist ([Q])."""
    name = "another key cannot see the task -> 404"
    if not await provider.has_control():
        report.skip(name, "needs a second key (wanmock's /_mock control API)")
        return
    answer = await provider.query(gen.task_id, auth=f"Bearer {BROKE_KEY}", operation="query-other")
    judge(report, name, answer, 404, "task_id")


async def follow(
    provider: Provider, report: Report, gens: list[Generation], deadline: float
) -> None:
    """Poll every task round-robin until each has ended (plus extra polls) or time is up."""
    interval = provider.options.poll_interval
    virtual = await provider.clock_mode() == "virtual"
    with report.working(f"polling {len(gens)} task(s)"):
        while time.monotonic() < deadline and not all(g.done for g in gens):
            if virtual:  # wanmock on a virtual clock: nothing moves unless it is advanced
                await provider.control("POST", "/clock/advance", {"seconds": VIRTUAL_STEP})
            for gen in (g for g in gens if not g.done):
                answer = await provider.query(gen.task_id)
                if answer.status == 200 and isinstance(answer.body, dict):
                    gen.history.append(answer.body)
                    if gen.extra >= 0 or gen.status in TERMINAL_STATUSES:
                        gen.extra += 1
                elif answer.status not in TRANSIENT:
                    bad = checks.ContractViolation(
                        "own_task_readable",
                        f"polling a task just created answered HTTP {answer.status}",
                        {"task_id": gen.task_id, "body": answer.body},
                        "[Q]",
                    )
                    report.add(f"generation {gen.name}: poll", extra=[bad])
                    gen.abandoned = True
            await asyncio.sleep(interval)


async def check_result(provider: Provider, report: Report, gen: Generation) -> None:
    """The first result link serves an MP4 (``ftyp`` box at byte 4) ([Q], [REF])."""
    results = gen.history[-1].get("results")
    url = str(results[0]) if isinstance(results, list) and results else ""
    head, status = b"", 0
    try:
        async with provider.client.stream("GET", url, headers={"Range": "bytes=0-63"}) as answer:
            status = answer.status_code
            async for chunk in answer.aiter_bytes():
                head += chunk
                if len(head) >= 12:
                    break
    except Exception as exc:  # any failure to fetch is the evidence
        head = repr(exc).encode()
    found = (
        []
        if status in (200, 206) and head[4:8] == b"ftyp"
        else [
            checks.ContractViolation(
                "result_is_video",
                "the result link does not serve an MP4 video",
                {"url": url, "status": status, "first_bytes": head[:32]},
                "[Q] results, [REF]",
            )
        ]
    )
    report.add(f"generation {gen.name}: result video is reachable", extra=found)


async def charges(provider: Provider, gens: list[Generation], deadline: float) -> list[Any]:
    """Each task's own charge (None without a ledger), re-read while a completed task
    shows none yet: billing confirmation may trail the status a little."""
    found = [await provider.charges(g.task_id) for g in gens]
    for _ in range(10):
        waiting = [c == 0 for c, g in zip(found, gens, strict=True) if g.status == "completed"]
        if not any(waiting) or time.monotonic() >= deadline:
            break
        await asyncio.sleep(provider.options.poll_interval)
        found = [await provider.charges(g.task_id) for g in gens]
    return found


async def settle(
    provider: Provider,
    report: Report,
    gens: list[Generation],
    before: Decimal | None,
    deadline: float,
    shared: list[str],
) -> Settlement:
    """What the ended tasks cost: per task from a ledger, else the balance's fall.

    Per-task charges need no balance, so other users of the key cannot confound them;
    the balance is read only without them, and not judged while other verifier runs
    hold files on the key (they spend from the same balance)."""
    charged = await charges(provider, gens, deadline)
    tasks = [
        SettledTask(g.request, str(g.status), g.reference_seconds, g.reserved, charge, g.task_id)
        for g, charge in zip(gens, charged, strict=True)
    ]
    if all(charge is not None for charge in charged) or before is None:
        return Settlement(tasks)
    shared = shared or await files.other_runs(provider)
    if shared:
        report.note(
            f"other verifier runs share this key ({', '.join(shared[:3])}): its balance says "
            "nothing about this run's tasks, so it is not judged"
        )
        return Settlement(tasks)
    wanted = before - sum(
        (
            expected_charge(g.request, g.reference_seconds or [Decimal(5)])
            for g in gens
            if g.status == "completed"
        ),
        Decimal("0"),
    )
    after = await provider.balance()
    for _ in range(10):  # billing confirmation may trail the status a little
        if after == wanted or time.monotonic() >= deadline:
            break
        await asyncio.sleep(provider.options.poll_interval)
        after = await provider.balance()
    return Settlement(tasks, None if after is None else before - after)


def judge_settlement(report: Report, label: str, settlement: Settlement) -> None:
    """One line per billing check."""
    for outcome in checks.run(settlement):
        name = f"billing {label}: {outcome.check.name.replace('_', ' ')}"
        if outcome.status == "skipped":
            report.skip(name, outcome.reason)
        else:
            report.add(name, [outcome])


async def batch(
    provider: Provider,
    report: Report,
    label: str,
    gens: list[Generation],
    deadline: float,
    reference: Reference | None,
    first: bool = False,
) -> None:
    """Run ``gens`` together and judge their lifecycles, results and money."""
    before = await provider.balance()
    shared = [] if await provider.has_control() else await files.other_runs(provider)
    started = [g for g in gens if await start(provider, report, g)]
    if not started:
        return
    if first:
        await hidden_from_others(provider, report, started[0])
    await follow(provider, report, started, deadline)
    for gen in started:
        seen = " -> ".join(dict.fromkeys(str(t.get("status")) for t in gen.history))
        outcomes = checks.run(TaskHistory(gen.history, gen.request))
        late = []
        if gen.extra < 0 and not gen.abandoned:
            late.append(
                checks.ContractViolation(
                    "task_ends",
                    f"the task was still {gen.status} when --timeout ran out",
                    {"task_id": gen.task_id, "last": gen.history[-1]},
                    "--timeout",
                )
            )
        report.add(
            f"generation {gen.name}: lifecycle",
            outcomes,
            detail=f"{len(gen.history)} observations: {seen}",
            extra=late,
        )
        if not late and gen.status == "completed":
            await check_result(provider, report, gen)
        elif gen.status == "failed" and gen.reference_seconds and reference is not None:
            await reference_kept(provider, report, gen, reference)
    ended = [g for g in started if g.status in TERMINAL_STATUSES and not g.abandoned]
    if ended:
        settlement = await settle(provider, report, ended, before, deadline, shared)
        judge_settlement(report, label, settlement)


async def reference_kept(
    provider: Provider, report: Report, gen: Generation, reference: Reference
) -> None:
    """A generation that failed with a valid request: if its reference file is gone, say
    so as that (``upload_kept``), not as anything the task did."""
    error = gen.history[-1].get("error")
    code = error.get("code") if isinstance(error, dict) else None
    if await files.vanished(provider, [reference.file_id]):
        name = f"generation {gen.name}: its reference file stayed uploaded"
        files.report_vanished(report, name, [reference.file_id], f"{gen.task_id} ({code})")
    else:
        report.note(f"{gen.name}: the task failed ({code}) although its request was valid")


async def run(provider: Provider, report: Report, reference: Reference | None) -> None:
    """Spend at most ``--allow-spend`` credits on real generations."""
    report.section(f"Generations (spending at most {provider.options.allow_spend} credits)")
    left = provider.options.allow_spend
    chosen = []
    for gen in plans(reference):
        if gen.estimate <= left:
            chosen.append(gen)
            left -= gen.estimate
        else:
            report.skip(f"generation {gen.name}", f"needs {gen.estimate} credits; {left} left")
    if reference is None:
        report.skip("generations with references", "no reference video could be uploaded")
    deadline = time.monotonic() + provider.options.timeout
    probes = [g for g in chosen if g.name == "failure probe"]
    if probes:
        await batch(provider, report, "failure probe", probes, deadline, reference, first=True)
    rest = [g for g in chosen if g.name != "failure probe"]
    if rest:  # the first (longest) alone: the densest history, whatever the provider's clock
        await batch(provider, report, rest[0].name, rest[:1], deadline, reference, first=not probes)
    if rest[1:]:
        await batch(provider, report, "other successes", rest[1:], deadline, reference)
