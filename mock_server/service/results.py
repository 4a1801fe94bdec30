"""Result videos: what a signed result link serves.

The links behave like the signed object-storage URLs the real service hands out
(``domain.taskview.result_signature``): a bad signature or a link past ``Expires``
is refused, a good one names a rendered MP4 (rendered once per size, then cached).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path

from mock_server.domain.models import Task
from mock_server.domain.taskview import result_path, result_signature
from mock_server.media.clips import ClipSpec, RenderCache, result_spec
from mock_server.runtime.clock import Clock
from mock_server.runtime.config import Config
from mock_server.service.tasks import Tasks


@dataclass
class ResultRefused(Exception):
    """Object storage's refusal: an HTTP status and its error code."""

    status: int
    code: str
    message: str


@dataclass
class Results:
    config: Config
    clock: Clock
    tasks: Tasks
    renders: RenderCache
    secret: bytes

    async def file(self, task_id: str, index: int, expires: int, signature: str) -> Path:
        """The video a link names, if its signature holds, it has not expired and the
        task completed with that many results; else ``ResultRefused``."""
        expected = result_signature(self.secret, result_path(task_id, index), expires)
        if not hmac.compare_digest(expected, signature):
            raise ResultRefused(
                403, "SignatureDoesNotMatch", "The request signature we calculated does not match"
            )
        if self.clock.now() >= expires:
            raise ResultRefused(403, "AccessDenied", "Request has expired")
        task = self.tasks.find(task_id)
        if (
            task is None
            or index >= task.plan.results
            or self.tasks.observe(task).status != "completed"
        ):
            raise ResultRefused(404, "NoSuchKey", "The specified key does not exist")
        return await self.renders.get(self.spec(task))

    def prune_unused(self) -> list[str]:
        """Remove the rendered videos no stored task's results look like (after a
        retention purge); their file names."""
        models = self.config.models
        keep = {
            result_spec(models[model], quality, ratio, seconds, audio).file_name
            for model, quality, ratio, seconds, audio in self.tasks.result_kinds()
            if model in models
        }
        return self.renders.prune(keep)

    def spec(self, task: Task) -> ClipSpec:
        """What a task's result looks like (``media.clips.result_spec``)."""
        request = task.request
        return result_spec(
            self.config.models[request.model],
            request.quality,
            request.aspect_ratio,
            request.duration,
            request.generate_audio,
        )
