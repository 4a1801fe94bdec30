"""Provider verification: does a server that claims to be EvoLink's Wan2.6 API keep the contract?

``verify(options)`` runs the free checks (auth errors, every validation rule, task ids,
credits, the file service, and 402/403 where wanmock's control API allows), then, within
``--allow-spend`` credits only, real generations whose lifecycle, results and billing are
polled and judged by ``contracts.checks``. It prints one line per check (``report.py``)
and returns the exit status: 0 when every check kept the contract, 1 on any violation,
2 when the provider could not be reached. ``wanmock verify-provider`` is its CLI.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports this package: heavy modules load only when verifying
    from rich.console import Console

    from contracts.provider.http import Options
    from contracts.provider.report import Report

__all__ = ["verify", "verify_async"]


async def verify_async(options: Options, report: Report) -> int:
    """Run the suite against ``options.base_url``; the exit status."""
    import httpx
    from rich.markup import escape

    from contracts.provider import files, refusals, spend
    from contracts.provider.http import Listener, Provider
    from contracts.provider.recordings import Recorder

    listeners: list[Listener] = []
    if options.record is not None:
        secrets = [options.api_key, options.control_token or ""]
        listeners.append(Recorder(options.record, secrets))
    provider = Provider(options, listeners)
    report.console.print(
        f"[bold]Verifying[/bold] {escape(options.base_url)} (files: {escape(options.files)})"
    )
    try:
        # rendered before the first request: a connection idle while a slow machine
        # renders may be closed by the provider just as it is reused
        clip = files.reference_clip(options.reference_file)
        if await provider.has_control():
            report.note(
                "the provider answers wanmock's /_mock control API: 402/403 checks "
                "and per-task ledger charges are available"
            )
        await refusals.run(provider, report)
        reference, owned = await files.run(provider, report, clip)
        if options.allow_spend > 0:
            await spend.run(provider, report, reference)
        else:
            report.section("Generations")
            report.skip("real generations", "free checks only: pass --allow-spend CREDITS")
        await files.cleanup(provider, report, owned)
    except httpx.HTTPError as exc:
        report.console.print(
            f"\n[bold red]Cannot talk to the provider[/bold red]: "
            f"{escape(type(exc).__name__)}: {escape(str(exc))}"
        )
        return 2
    except Exception as exc:  # a provider's garbage must end in a report, not a traceback
        from contracts.checks import ContractViolation

        report.add(
            "the verifier could continue",
            extra=[
                ContractViolation(
                    "answers_are_usable",
                    "an answer broke the verifier; the run stopped here",
                    {"error": f"{type(exc).__name__}: {exc}"},
                )
            ],
        )
    finally:
        await provider.aclose()
    if options.record is not None:
        report.note(f"recorded answers (secrets scrubbed) in {options.record}")
    return report.summary()


def verify(options: Options, console: Console | None = None) -> int:
    """``verify_async`` on a fresh event loop (the CLI's entry point)."""
    from contracts.provider.report import Report

    return asyncio.run(verify_async(options, Report(console)))
