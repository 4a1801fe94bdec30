"""The file service (service/files.py): staging, filing and cleaning up, without HTTP."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mock_server.media.uploads import FileApiError
from mock_server.service.fake import Fake
from tests.conftest import KEY

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def files_fake(make_fake: Callable[..., Fake], tmp_path: Path) -> Fake:
    return make_fake(media_dir=str(tmp_path))


def staged_left(fake: Fake) -> list[Path]:
    return list(fake.media.uploads.directory.glob(".incoming-*"))


def test_file_service_upload_base64_files_it_and_leaves_no_staged_copy(files_fake: Fake) -> None:
    data = "data:image/png;base64," + base64.b64encode(PNG).decode()
    answer = asyncio.run(files_fake.files.upload_base64(KEY, {"base64_data": data}))
    assert answer["data"]["mime_type"] == "image/png"
    record, path = files_fake.files.served(answer["data"]["file_id"])
    assert path.read_bytes() == PNG and record.mime_type == "image/png"
    assert staged_left(files_fake) == []


def test_file_service_upload_stream_cleans_up_when_filling_fails(files_fake: Fake) -> None:
    async def fill(staged: Path) -> dict[str, Any]:
        staged.write_bytes(b"half a file")
        raise FileApiError(40001, "too large")

    with pytest.raises(FileApiError):
        asyncio.run(files_fake.files.upload_stream(KEY, "", fill))
    assert staged_left(files_fake) == []


def test_file_service_upload_stream_refuses_a_declared_size_past_the_limit(
    files_fake: Fake,
) -> None:
    async def fill(staged: Path) -> dict[str, Any]:
        raise AssertionError("nothing is read once the declared size is too large")

    too_large = str(files_fake.config.max_file_bytes * 2)
    with pytest.raises(FileApiError) as refused:
        asyncio.run(files_fake.files.upload_stream(KEY, too_large, fill))
    assert refused.value.code == 40001


def test_file_service_upload_of_a_type_not_allowed_leaves_nothing(files_fake: Fake) -> None:
    data = base64.b64encode(b"plain words").decode()
    body = {"base64_data": data, "file_name": "notes.txt"}
    with pytest.raises(FileApiError) as refused:
        asyncio.run(files_fake.files.upload_base64(KEY, body))
    assert refused.value.code == 40002
    assert staged_left(files_fake) == [] and files_fake.files.quota(KEY)["data"]["used_files"] == 0


def test_file_service_upload_url_without_fetching_stages_nothing(files_fake: Fake) -> None:
    body = {"file_url": "https://cdn.example.com/ref.mp4"}
    with pytest.raises(FileApiError) as refused:
        asyncio.run(files_fake.files.upload_url(KEY, body))
    assert refused.value.code == 40004
    assert staged_left(files_fake) == []


def test_file_service_caller_refuses_an_unknown_key_with_401(files_fake: Fake) -> None:
    with pytest.raises(FileApiError) as refused:
        files_fake.files.caller("Bearer sk-nobody")
    assert refused.value.code == 401


def test_file_service_served_file_missing_from_this_media_dir_is_404(files_fake: Fake) -> None:
    data = base64.b64encode(PNG).decode()
    answer = asyncio.run(files_fake.files.upload_base64(KEY, {"base64_data": data}))
    _, path = files_fake.files.served(answer["data"]["file_id"])
    path.unlink()
    with pytest.raises(FileApiError) as refused:
        files_fake.files.served(answer["data"]["file_id"])
    assert refused.value.code == 404 and "--media-dir" in refused.value.msg
