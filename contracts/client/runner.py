"""Running a client under test once: a Python callable or a command, with a deadline.

Both kinds run in a child process so a client that never stops can be stopped: a
callable in a forked child (no pickling, so a function defined inside a test works), a
command in its own session, killed with its whole process group. The verifier also
passes ``runaway()``, asked every 50 ms, which stops a client that keeps calling the
fake long after any honest client would have finished (a tight polling loop).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import signal
import subprocess
import threading
import traceback
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from contracts.client.outcome import BadOutcome, Outcome
from contracts.client.timing import monotonic

ClientFn = Callable[[str, str, dict[str, Any]], Any]
TAIL = 2000  # characters of a crash's output kept as evidence
TICK = 0.05


@dataclass(frozen=True)
class Attempt:
    """What one run of the client gave: an outcome, or the problem that prevented one.

    ``problem`` is None when the client answered, else ``crashed``, ``bad_output``,
    ``timeout`` or ``runaway``; ``detail`` says more (a traceback, stderr, a message).
    """

    outcome: Outcome | None
    problem: str | None = None
    detail: str = ""
    seconds: float = 0.0
    exit_status: int | None = None


@dataclass(frozen=True)
class CommandClient:
    """A client that is a shell command: it reads ``WANMOCK_BASE_URL``, ``WANMOCK_API_KEY``
    and ``WANMOCK_REQUEST`` (JSON) and prints one JSON line, its outcome."""

    command: str

    def __str__(self) -> str:
        return self.command


def _tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= TAIL else "…" + text[-TAIL:]


def _watch(
    done: Callable[[], bool], deadline: float, runaway: Callable[[], str | None]
) -> tuple[str, str] | None:
    """Wait until ``done()``; the reason to stop the client instead, if one comes first."""
    while not done():
        if monotonic() > deadline:
            return "timeout", ""
        why = runaway()
        if why:
            return "runaway", why
    return None


def run_command(
    client: CommandClient,
    env: Mapping[str, str],
    timeout: float,
    runaway: Callable[[], str | None],
) -> Attempt:
    started = monotonic()
    process = subprocess.Popen(
        client.command,
        shell=True,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    out: list[str] = []
    err: list[str] = []
    readers = [
        threading.Thread(target=lambda: out.append(process.stdout.read()), daemon=True),  # type: ignore[union-attr]
        threading.Thread(target=lambda: err.append(process.stderr.read()), daemon=True),  # type: ignore[union-attr]
    ]
    for reader in readers:
        reader.start()

    def finished() -> bool:
        try:
            process.wait(TICK)
        except subprocess.TimeoutExpired:
            return False
        return True

    stopped = _watch(finished, started + timeout, runaway)
    if stopped is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    for reader in readers:
        reader.join(5)
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()
    seconds = monotonic() - started
    stdout, stderr = "".join(out), "".join(err)
    if stopped is not None:
        return Attempt(None, stopped[0], stopped[1] or _tail(stderr), seconds)
    if process.returncode != 0:
        return Attempt(
            None, "crashed", _tail(stderr or stdout), seconds, exit_status=process.returncode
        )
    try:
        return Attempt(Outcome.from_output(stdout), seconds=seconds, exit_status=0)
    except BadOutcome as exc:
        return Attempt(None, "bad_output", f"{exc}\n{_tail(stderr)}".strip(), seconds, 0)


def _child(fn: ClientFn, args: tuple[str, str, dict[str, Any]], conn: Any) -> None:
    answer: tuple[str, Any]
    try:
        answer = ("ok", Outcome.of(fn(*args)).to_json())
    except BadOutcome as exc:
        answer = ("bad_output", str(exc))
    except BaseException:  # the client's own crash is the evidence
        answer = ("crashed", traceback.format_exc())
    conn.send(answer)
    conn.close()


def run_callable(
    fn: ClientFn,
    args: tuple[str, str, dict[str, Any]],
    timeout: float,
    runaway: Callable[[], str | None],
) -> Attempt:
    if "fork" not in multiprocessing.get_all_start_methods():
        return _run_in_thread(fn, args, timeout, runaway)
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(fn, args, send), daemon=True)
    started = monotonic()
    with warnings.catch_warnings():  # 3.12+ warns about fork with threads; the child
        warnings.simplefilter("ignore", DeprecationWarning)  # only runs the client
        process.start()
    send.close()
    stopped = _watch(
        lambda: receive.poll(TICK) or not process.is_alive(), started + timeout, runaway
    )
    seconds = monotonic() - started
    if stopped is not None:
        process.kill()
        process.join(5)
        return Attempt(None, stopped[0], stopped[1], seconds)
    try:
        kind, value = receive.recv()
    except EOFError:
        process.join(5)
        return Attempt(None, "crashed", f"the client's process died (exit {process.exitcode})")
    finally:
        receive.close()
    process.join(5)
    if kind == "ok":
        return Attempt(Outcome.of(value), seconds=seconds)
    return Attempt(None, kind, _tail(value), seconds)


def _run_in_thread(
    fn: ClientFn,
    args: tuple[str, str, dict[str, Any]],
    timeout: float,
    runaway: Callable[[], str | None],
) -> Attempt:
    """Where fork is missing (Windows): a thread, which a stuck client outlives."""
    result: list[Attempt] = []

    def target() -> None:
        try:
            result.append(Attempt(Outcome.of(fn(*args))))
        except BadOutcome as exc:
            result.append(Attempt(None, "bad_output", str(exc)))
        except BaseException:
            result.append(Attempt(None, "crashed", _tail(traceback.format_exc())))

    started = monotonic()
    thread = threading.Thread(target=target, daemon=True)
    thread.start()

    def finished() -> bool:
        thread.join(TICK)
        return not thread.is_alive()

    stopped = _watch(finished, started + timeout, runaway)
    if stopped is None:
        thread.join()
    seconds = monotonic() - started
    if stopped is not None or not result:
        kind, why = stopped or ("crashed", "")
        return Attempt(None, kind, why, seconds)
    return Attempt(result[0].outcome, result[0].problem, result[0].detail, seconds)


def client_env(base_url: str, api_key: str, request: Mapping[str, Any]) -> dict[str, str]:
    """The environment a command client reads (docs/verify-client.md "Verify a client")."""
    return {
        "WANMOCK_BASE_URL": base_url,
        "WANMOCK_API_KEY": api_key,
        "WANMOCK_REQUEST": json.dumps(request),
    }
