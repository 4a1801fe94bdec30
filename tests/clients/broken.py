"""Clients of the Wan2.6 API with one classic mistake each, as Python callables for
``verify_client`` (and ``reference_client``, which makes none): the verifier's tests and
``make calibrate`` run them. Each is the reference client with one bug."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from typing import Any

import httpx

from contracts.client import Outcome

# 500/504 on a create: sent again, the legitimate way (its outcome is unknown)
UNKNOWN = {500, 504}
TRANSIENT = {429, 502, 503, *UNKNOWN}
TLS = ssl.create_default_context()  # built once: a forked client reuses it
Client = Callable[[str, str, dict[str, Any]], Outcome]
PAUSE = 0.015  # between polls: above the 10 ms tight-polling floor, so a broken client
# below is caught by the one property it breaks


def call(http: httpx.Client, method: str, path: str, patiently: bool = True, **kwargs: Any) -> Any:
    """One call, retried on 429/502/503 after Retry-After (or a short backoff), and on a
    broken connection when ``patiently``."""
    for attempt in range(6):
        if patiently:
            answer = patient(http, method, path, **kwargs)
        else:
            answer = http.request(method, path, **kwargs)
        if answer.status_code not in TRANSIENT:
            answer.raise_for_status()
            return answer.json()
        time.sleep(float(answer.headers.get("Retry-After", 0.01 * 2**attempt)))
    answer.raise_for_status()
    raise AssertionError("unreachable")


def patient(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request, sent again while its answer never comes in full (transport faults),
    and a create sent again while its outcome is unknown (500, 504)."""
    for attempt in range(5):
        try:
            answer = http.request(method, path, **kwargs)
        except httpx.TransportError:
            time.sleep(PAUSE * 2**attempt)
            continue
        if method != "POST" or answer.status_code not in UNKNOWN:
            return answer
        time.sleep(PAUSE * 2**attempt)
    return http.request(method, path, **kwargs)


def session(base_url: str, api_key: str) -> httpx.Client:
    auth = {"Authorization": f"Bearer {api_key}"}
    return httpx.Client(base_url=base_url, headers=auth, timeout=30, verify=TLS)


def reference_client(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    """Creates once, polls with backoff, honours Retry-After, reports what the task says."""
    with session(base_url, api_key) as http:
        task = call(http, "POST", "/v1/videos/generations", json=request)
        wait = 0.015
        while task["status"] not in ("completed", "failed"):
            time.sleep(wait)
            wait = min(wait * 2, 0.03)
            task = call(http, "GET", f"/v1/tasks/{task['id']}")
    if task["status"] == "completed":
        return Outcome.completed(task["results"])
    return Outcome.failed(task["error"]["code"])


def gives_up_on_429(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:
        answer = patient(http, "POST", "/v1/videos/generations", json=request)
        if answer.status_code == 429:
            return Outcome.failed("rate_limited")
        task = answer.json()
        while task["status"] not in ("completed", "failed"):
            time.sleep(PAUSE)
            answer = patient(http, "GET", f"/v1/tasks/{task['id']}")
            if answer.status_code == 429:
                return Outcome.failed("rate_limited")
            task = answer.json() if answer.status_code == 200 else task
            time.sleep(float(answer.headers.get("Retry-After", 0)))
    return reference_outcome(task)


def resubmits_on_503(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:
        task = call(http, "POST", "/v1/videos/generations", json=request)
        while task["status"] not in ("completed", "failed"):
            time.sleep(PAUSE)
            answer = patient(http, "GET", f"/v1/tasks/{task['id']}")
            if answer.status_code == 503:  # "it is gone": start over
                task = call(http, "POST", "/v1/videos/generations", json=request)
            elif answer.status_code == 200:
                task = answer.json()
            else:
                time.sleep(float(answer.headers.get("Retry-After", 0)))
    return reference_outcome(task)


def failed_as_completed(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    outcome = reference_client(base_url, api_key, request)
    return Outcome.completed(outcome.video_urls)


KNOWN = {"created", "id", "model", "object", "progress", "status", "task_info", "type", "usage"}


def strict_parser(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:
        task = call(http, "POST", "/v1/videos/generations", json=request)
        while True:
            unknown = set(task) - KNOWN - {"results", "error"}
            unknown |= set(task["task_info"]) - {"can_cancel", "estimated_time"}
            if unknown:
                raise KeyError(f"unexpected fields {sorted(unknown)}")
            if task["status"] in ("completed", "failed"):
                return reference_outcome(task)
            time.sleep(PAUSE)
            task = call(http, "GET", f"/v1/tasks/{task['id']}")


def never_stops(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:
        task = call(http, "POST", "/v1/videos/generations", json=request)
        while True:  # waits for a "done" status the API never sends
            time.sleep(PAUSE)
            task = call(http, "GET", f"/v1/tasks/{task['id']}")


def ignores_retry_after(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:

        def hasty(method: str, path: str, **kwargs: Any) -> Any:
            while (answer := patient(http, method, path, **kwargs)).status_code in TRANSIENT:
                time.sleep(PAUSE)  # "Retry-After is only a hint"
            answer.raise_for_status()
            return answer.json()

        task = hasty("POST", "/v1/videos/generations", json=request)
        while task["status"] not in ("completed", "failed"):
            time.sleep(PAUSE)
            task = hasty("GET", f"/v1/tasks/{task['id']}")
    return reference_outcome(task)


def polls_tightly(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:
        task = call(http, "POST", "/v1/videos/generations", json=request)
        while task["status"] not in ("completed", "failed"):
            task = call(http, "GET", f"/v1/tasks/{task['id']}")  # no pause at all
    return reference_outcome(task)


def reports_first_result(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    outcome = reference_client(base_url, api_key, request)
    return Outcome(outcome.status, outcome.video_urls[:1], outcome.error_code)


def gives_up_on_a_stall(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:
        task = call(http, "POST", "/v1/videos/generations", json=request)
        seen: list[int] = []
        while task["status"] not in ("completed", "failed"):
            seen.append(task["progress"])
            if task["status"] == "processing" and seen[-3:] == [0, 0, 0]:
                return Outcome.failed("generation_timeout")  # "stuck at 0: it is dead"
            time.sleep(PAUSE)
            task = call(http, "GET", f"/v1/tasks/{task['id']}")
    return reference_outcome(task)


def waits_on_a_failed_task(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:
        task = call(http, "POST", "/v1/videos/generations", json=request)
        while task["status"] != "completed":  # a failed task: wait on, forever
            time.sleep(PAUSE)
            task = call(http, "GET", f"/v1/tasks/{task['id']}")
    return reference_outcome(task)


def resubmits_after_a_broken_poll(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    with session(base_url, api_key) as http:
        task = call(http, "POST", "/v1/videos/generations", json=request)
        while task["status"] not in ("completed", "failed"):
            time.sleep(PAUSE)
            try:
                task = call(http, "GET", f"/v1/tasks/{task['id']}", patiently=False)
            except httpx.TransportError:  # "the task is lost": start over
                task = call(http, "POST", "/v1/videos/generations", json=request)
    return reference_outcome(task)


def gives_up_on_a_broken_connection(
    base_url: str, api_key: str, request: dict[str, Any]
) -> Outcome:
    with session(base_url, api_key) as http:
        try:
            task = call(http, "POST", "/v1/videos/generations", False, json=request)
            while task["status"] not in ("completed", "failed"):
                time.sleep(PAUSE)
                task = call(http, "GET", f"/v1/tasks/{task['id']}", patiently=False)
        except httpx.TransportError:
            return Outcome.failed("network_error")
    return reference_outcome(task)


def reference_outcome(task: dict[str, Any]) -> Outcome:
    if task["status"] == "completed":
        return Outcome.completed(task["results"])
    return Outcome.failed(task["error"]["code"])


def gives_up_on_a_poll_after_two_failures(
    base_url: str, api_key: str, request: dict[str, Any]
) -> Outcome:
    """Retries a poll once, where the worlds may put three failures in a row on it."""
    with session(base_url, api_key) as http:
        task = call(http, "POST", "/v1/videos/generations", json=request)
        while task["status"] not in ("completed", "failed"):
            time.sleep(PAUSE)
            for _attempt in range(2):
                try:
                    answer = http.get(f"/v1/tasks/{task['id']}")
                except httpx.TransportError:
                    continue
                if answer.status_code == 200:
                    task = answer.json()
                    break
                time.sleep(float(answer.headers.get("Retry-After", PAUSE)))
            else:
                return Outcome.failed("poll_failed")
    return reference_outcome(task)


def completes_without_a_task(base_url: str, api_key: str, request: dict[str, Any]) -> Outcome:
    """When the create's outcome is unknown, says the work is done."""
    with session(base_url, api_key) as http:
        try:
            answer = http.post("/v1/videos/generations", json=request)
            task = answer.json() if answer.status_code not in UNKNOWN else None
        except (httpx.TransportError, ValueError):
            task = None
        if task is None:
            return Outcome.completed([])
        if answer.status_code != 200:
            task = call(http, "POST", "/v1/videos/generations", json=request)
        while task["status"] not in ("completed", "failed"):
            time.sleep(PAUSE)
            task = call(http, "GET", f"/v1/tasks/{task['id']}")
    return reference_outcome(task)
