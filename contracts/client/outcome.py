"""What a client under test reports at the end: the one thing it must get right.

A Python client returns an ``Outcome`` (or the same shape as a dict); a command prints
it as one JSON line, ``{"status": "completed", "video_urls": [...]}`` or
``{"status": "failed", "error_code": "..."}`` (docs/verify-client.md "Verify a client").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class BadOutcome(ValueError):
    """The client's answer is not an outcome in the documented shape."""


@dataclass(frozen=True)
class Outcome:
    """A client's verdict on its task: completed with its videos, or failed with a code."""

    status: str
    video_urls: list[str] = field(default_factory=list)
    error_code: str | None = None

    @classmethod
    def completed(cls, video_urls: list[str]) -> Outcome:
        return cls("completed", list(video_urls))

    @classmethod
    def failed(cls, error_code: str) -> Outcome:
        return cls("failed", error_code=error_code)

    def to_json(self) -> dict[str, Any]:
        if self.status == "completed":
            return {"status": "completed", "video_urls": list(self.video_urls)}
        return {"status": self.status, "error_code": self.error_code}

    @classmethod
    def of(cls, value: object) -> Outcome:
        """An ``Outcome``, or a dict of its JSON shape, checked; ``BadOutcome`` otherwise."""
        if isinstance(value, Outcome):
            value = value.to_json()
        if not isinstance(value, Mapping):
            raise BadOutcome(f"expected an Outcome or a JSON object, got {value!r:.200}")
        status = value.get("status")
        if status == "completed":
            urls = value.get("video_urls")
            if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
                raise BadOutcome(f"a completed outcome needs video_urls: [str], got {urls!r:.200}")
            return cls.completed(urls)
        if status == "failed":
            code = value.get("error_code")
            if not isinstance(code, str):
                raise BadOutcome(f"a failed outcome needs error_code: str, got {code!r:.200}")
            return cls.failed(code)
        raise BadOutcome(f'status must be "completed" or "failed", got {status!r:.200}')

    @classmethod
    def from_output(cls, stdout: str) -> Outcome:
        """The outcome a command printed: its last non-empty line, as JSON."""
        lines = [line for line in stdout.splitlines() if line.strip()]
        if not lines:
            raise BadOutcome("the command printed nothing; expected one JSON line")
        try:
            value = json.loads(lines[-1])
        except json.JSONDecodeError as exc:
            raise BadOutcome(f"the last line is not JSON ({exc}): {lines[-1]!r:.200}") from None
        return cls.of(value)
