"""The file service, checked for free, and the reference video that generations use.

Uploads cost no credits. The reference is a short clip this verifier renders itself (or
``--reference-file``). Every file a run uploads is named after the run
(``wanmock-verify-<run id>-...``): under the real service's same-name override ([SKILL])
a fixed name would let concurrent runs sharing a key replace each other's reference. A
run deletes only what it uploaded, at the end; a file of its own that is gone before then
is reported as vanished (check ``upload_kept``), not blamed on what used it.
"""

from __future__ import annotations

import asyncio
import base64
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Final

from contracts import checks
from contracts.checks import FileAnswer
from contracts.provider import clip
from contracts.provider.http import Exchange, Provider
from contracts.provider.report import Report

PREFIX: Final = "wanmock-verify-"
REFERENCE_NAME: Final = "reference.mp4"
REFERENCE_SECONDS: Final = 6  # over every input cap, so each reference bills exactly its cap
#: The smallest PNG there is (1x1, transparent): an image every file service accepts.
PIXEL_PNG: Final = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@dataclass(frozen=True)
class Reference:
    """An uploaded reference video: its URL for ``video_urls`` and its probed length."""

    url: str
    seconds: Decimal | None
    file_id: str


def reference_clip(path: Path | None) -> tuple[bytes, Decimal | None]:
    """The bytes and length of the reference: ``path`` if given, else a rendered clip."""
    with tempfile.TemporaryDirectory(prefix="wanmock-verify-") as scratch:
        if path is None:
            path = Path(scratch) / f"{PREFIX}{REFERENCE_NAME}"
            clip.render(path, REFERENCE_SECONDS)
        return path.read_bytes(), clip.probe_seconds(path)


def judge(
    report: Report,
    name: str,
    answer: Exchange,
    schema: str,
    success: bool,
    status: int | None = None,
    code: int | None = None,
) -> bool:
    """Run the file checks on one answer and print its line; True when it kept the contract."""
    subject = FileAnswer(
        answer.status, answer.body, answer.content_type, schema, success, code, status
    )
    line = report.add(name, checks.run(subject), detail=f"HTTP {answer.status}")
    return line.status == "passed"


async def upload_stream(provider: Provider, data: bytes, name: str, auth: str = "key") -> Exchange:
    """``POST /api/v1/files/upload/stream`` with one multipart ``file``."""
    files = {"file": (name, data, "video/mp4")}
    return await provider.call(
        "upload-stream",
        "POST",
        provider.files_path("upload/stream"),
        auth=auth,
        files=files,
        data={"file_name": name},
    )


def run_file(provider: Provider, name: str) -> str:
    """The name this run gives an upload: unique to the run, recognisable as the verifier's."""
    return f"{PREFIX}{provider.run_id}-{name}"


async def listed(provider: Provider) -> dict[str, str] | None:
    """Every file of the key, ``file_id -> file_name`` (None when the list is unreadable)."""
    found: dict[str, str] = {}
    for page in range(1, 11):  # 1,000 files: twice the largest quota
        answer = await provider.call(
            "list-files", "GET", provider.files_path(f"list?page={page}&pageSize=100"), record=False
        )
        data = answer.body.get("data") if isinstance(answer.body, dict) else None
        files = data.get("files") if isinstance(data, dict) else None
        if answer.status != 200 or not isinstance(files, list):
            return None
        found.update(
            (str(f.get("file_id")), str(f.get("file_name"))) for f in files if isinstance(f, dict)
        )
        if len(files) < 100:
            break
    return found


async def vanished(provider: Provider, file_ids: list[str]) -> list[str]:
    """Those of ``file_ids`` (this run's uploads) the key's file list no longer shows."""
    if not file_ids:
        return []
    files = await listed(provider)
    return [] if files is None else [f for f in file_ids if f not in files]


async def other_runs(provider: Provider) -> list[str]:
    """Files other verifier runs hold on this key right now: they share its balance."""
    files = await listed(provider) or {}
    mine = run_file(provider, "")
    return sorted(
        name for name in files.values() if name.startswith(PREFIX) and not name.startswith(mine)
    )


def report_vanished(report: Report, name: str, file_ids: list[str], used_by: str = "") -> None:
    """A file of this run gone before the run deleted it: its own check, whatever used it."""
    evidence: dict[str, object] = {"file_ids": file_ids}
    if used_by:
        evidence["used_by"] = used_by
    evidence["hint"] = "deleted by someone else sharing the key, or lost by the provider"
    report.add(
        name,
        extra=[
            checks.ContractViolation(
                "upload_kept",
                "a file this run uploaded vanished before the run deleted it or it expired",
                evidence,
                "[F-STREAM] Files will expire after 72 hours",
            )
        ],
    )


async def run(
    provider: Provider, report: Report, rendered: tuple[bytes, Decimal | None] | None = None
) -> tuple[Reference | None, list[str]]:
    """Check the file API; return the uploaded reference and every file id to delete."""
    report.section("File service")
    report.note(f"this run's uploads are named {run_file(provider, '*')}")
    # Rendered by the caller before the first request, else here in a thread: rendering
    # takes a moment, and other runs may share this event loop.
    if rendered is None:
        rendered = await asyncio.to_thread(reference_clip, provider.options.reference_file)
    video, seconds = rendered
    name = run_file(provider, REFERENCE_NAME)
    answer = await upload_stream(provider, video, name, auth="none")
    judge(report, "upload without a key -> 401", answer, "FileUploaded", False, 401)
    answer = await upload_stream(provider, video, name)
    uploaded = judge(report, "upload a reference video (stream)", answer, "FileUploaded", True, 200)
    reference = None
    owned: list[str] = []
    if uploaded:
        data = answer.body["data"]
        reference = Reference(data["file_url"], seconds, data["file_id"])
        owned.append(data["file_id"])
    png = "data:image/png;base64," + base64.b64encode(PIXEL_PNG).decode()
    answer = await provider.call(
        "upload-base64",
        "POST",
        provider.files_path("upload/base64"),
        json={"base64_data": png, "file_name": run_file(provider, "pixel.png")},
    )
    if judge(report, "upload an image (base64)", answer, "FileUploaded", True, 200):
        owned.append(answer.body["data"]["file_id"])
    text = "data:text/plain;base64," + base64.b64encode(b"not a picture").decode()
    answer = await provider.call(
        "upload-base64",
        "POST",
        provider.files_path("upload/base64"),
        json={"base64_data": text, "file_name": run_file(provider, "text.txt")},
    )
    judge(
        report,
        "upload a text file -> 40002 type not allowed",
        answer,
        "FileUploaded",
        False,
        code=40002,
    )
    answer = await provider.call(
        "list-files", "GET", provider.files_path("list?page=1&pageSize=100")
    )
    if judge(report, "list files", answer, "FileList", True, 200):
        listed = {f.get("file_id") for f in answer.body["data"]["files"]}
        missing = [file_id for file_id in owned if file_id not in listed]
        if missing:
            report.add(
                "list files shows the uploads",
                extra=[
                    checks.ContractViolation(
                        "files_listed",
                        "uploaded files are missing from the list",
                        {"missing": missing},
                        "[CLIENT] file-client.ts",
                    )
                ],
            )
    answer = await provider.call("quota", "GET", provider.files_path("quota"))
    judge(report, "file quota", answer, "FileQuota", True, 200)
    return reference, owned


async def cleanup(provider: Provider, report: Report, owned: list[str]) -> None:
    """Delete what this run uploaded, and only that; deleting twice is refused. A delete
    that fails because the file is no longer listed is reported as a vanished upload."""
    if not owned:
        return
    report.section("File service clean-up")
    deleted = []
    for file_id in owned:
        answer = await provider.call("delete-file", "DELETE", provider.files_path(file_id))
        body = answer.body if isinstance(answer.body, dict) else {}
        refused = not (answer.status == 200 and body.get("success") is True)
        if refused and await vanished(provider, [file_id]):
            report_vanished(report, f"{file_id} stayed until this run deleted it", [file_id])
            continue
        if judge(report, f"delete {file_id}", answer, "FileDeleted", True, 200):
            deleted.append(file_id)
    if deleted:
        answer = await provider.call("delete-file", "DELETE", provider.files_path(deleted[0]))
        judge(report, "delete a deleted file is refused", answer, "FileDeleted", False)
