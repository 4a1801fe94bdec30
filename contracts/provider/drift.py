"""Drift: does the fake still answer in the shapes a real provider was recorded answering?

A *shape* is a JSON value with its leaves replaced by type names (``"string"``,
``"number"``, ``"boolean"``, ``"null"``) and lists by the shape of their first item, so
ids, times and amounts may differ while fields and types may not. Error answers are
replayed against an in-process fake (same path, body and kind of key) and must match
status and shape; successful answers are compared with the fake's answer to the same
operation in the same state (a task in the same ``status``, an upload, a list...).
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from contracts.provider.files import PIXEL_PNG
from contracts.provider.refusals import BROKE_KEY, LIMITED_KEY


def shape(value: Any) -> Any:
    """``value`` with leaves replaced by their JSON type names."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else "string"


def differences(recorded: Any, fake: Any, path: str = "$") -> list[str]:
    """How the fake's shape differs from the recorded one, as readable lines."""
    if isinstance(recorded, dict) and isinstance(fake, dict):
        found = [
            f"{path}.{k}: recorded, but the fake does not send it"
            for k in recorded
            if k not in fake
        ]
        found += [
            f"{path}.{k}: the fake sends it, the recording does not"
            for k in fake
            if k not in recorded
        ]
        for key in recorded.keys() & fake.keys():
            found += differences(recorded[key], fake[key], f"{path}.{key}")
        return found
    if isinstance(recorded, list) and isinstance(fake, list):
        return differences(recorded[0], fake[0], f"{path}[0]") if recorded and fake else []
    if recorded != fake:
        return [f"{path}: recorded {recorded!r}, the fake has {fake!r}"]
    return []


class FakeOracle:
    """An in-process fake on a virtual clock that answers what a recording asked."""

    def __init__(self) -> None:
        from decimal import Decimal

        from starlette.testclient import TestClient

        from mock_server.api.app import create_app
        from mock_server.runtime.config import Config

        self._media = tempfile.TemporaryDirectory(prefix="wanmock-drift-")
        config = Config(
            db=":memory:",
            clock="virtual",
            media_dir=self._media.name,
            api_key=(("sk-wanmock-drift", Decimal(100000)),),
        )
        self.app = create_app(config)
        self.fake = self.app.state.fake
        self.client = TestClient(self.app, base_url="http://127.0.0.1:8080")
        self.key = "sk-wanmock-drift"
        self.fake.put_keys(
            {
                BROKE_KEY: {"credits": "0"},
                LIMITED_KEY: {"credits": "0", "models": ["wan2.6-reference-video"]},
            }
        )
        self._tasks: dict[tuple[str, str], Any] = {}

    def close(self) -> None:
        """Free the client and the media directory."""
        self.client.close()
        self._media.cleanup()

    def _headers(self, recording: dict[str, Any]) -> dict[str, str]:
        auth = recording.get("auth")
        key = {"key": self.key, "bad": "sk-wanmock-verify-no-such-key"}.get(str(auth))
        if auth == "other":
            key = BROKE_KEY if recording["operation"].endswith("402") else LIMITED_KEY
        return {"Authorization": f"Bearer {key}"} if key else {}

    def replay(self, recording: dict[str, Any]) -> tuple[int, Any]:
        """Send the recorded request to the fake; its status and JSON body."""
        method, path = recording["method"], recording["path"]
        headers = self._headers(recording)
        if recording["operation"] == "upload-stream":
            files = {"file": ("ref.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4")}
            answer = self.client.request(method, path, headers=headers, files=files)
        else:
            answer = self.client.request(method, path, headers=headers, json=recording["request"])
        return answer.status_code, answer.json()

    def task_in(self, status: str, code: str = "service_error") -> Any:
        """The fake's task object in ``status`` (failed with ``code``)."""
        if (status, code) not in self._tasks:
            body = {
                "model": "wan2.6-reference-video",
                "prompt": "drift",
                "video_urls": ["https://example.com/ref.mp4"],
            }
            auth = {"Authorization": f"Bearer {self.key}"}
            task = self.client.post("/v1/videos/generations", json=body, headers=auth).json()
            plan = self.fake.control_task(task["id"]).plan
            if status == "failed":
                self.fake.force(task["id"], "failed", code=code, message="drift")
            elif status != "pending":
                target = (plan.start + plan.finish) / 2 if status == "processing" else plan.finish
                self.client.post(
                    "/_mock/clock/advance",
                    json={"seconds": max(0.0, target - self.fake.now() + 0.001)},
                )
            answer = self.client.get(f"/v1/tasks/{task['id']}", headers=auth)
            self._tasks[status, code] = answer.json()
        return self._tasks[status, code]

    def success(self, recording: dict[str, Any]) -> Any:
        """The fake's answer to the same successful operation, or None if not comparable."""
        op = recording["operation"]
        auth = {"Authorization": f"Bearer {self.key}"}
        body = recording.get("body")
        if op.startswith(("create", "query")) and isinstance(body, dict):
            error = body.get("error")
            code = error.get("code") if isinstance(error, dict) else None
            return self.task_in(str(body.get("status")), str(code or "service_error"))
        if op.startswith("upload") or op == "delete-file":
            png = "data:image/png;base64," + base64.b64encode(PIXEL_PNG).decode()
            answer = self.client.post(
                "/api/v1/files/upload/base64", headers=auth, json={"base64_data": png}
            ).json()
            if op != "delete-file":
                return answer
            file_id = answer["data"]["file_id"]
            return self.client.delete(f"/api/v1/files/{file_id}", headers=auth).json()
        paths = {
            "list-files": "/api/v1/files/list",
            "quota": "/api/v1/files/quota",
            "credits": "/v1/credits",
        }
        if op in paths:
            return self.client.get(paths[op], headers=auth).json()
        return None


def drift(recordings: list[dict[str, Any]]) -> list[str]:
    """Every difference between the recordings and the fake, each naming its recording."""
    found: list[str] = []
    with oracle() as fake:
        for index, recording in enumerate(recordings):
            where = (
                f"#{index + 1} {recording['operation']} {recording['method']} "
                f"{recording['path']} -> {recording['status']}"
            )
            if recording["status"] >= 400:
                status, body = fake.replay(recording)
                if status != recording["status"]:
                    found.append(f"{where}: the fake answers HTTP {status}")
                    continue
            else:
                body = fake.success(recording)
                if body is None:
                    continue
            found += [f"{where}: {d}" for d in differences(shape(recording["body"]), shape(body))]
    return found


@contextmanager
def oracle() -> Iterator[FakeOracle]:
    """A ``FakeOracle`` that is closed afterwards."""
    fake = FakeOracle()
    try:
        yield fake
    finally:
        fake.close()
