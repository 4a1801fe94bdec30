"""The file service: uploads, list, quota, delete, expiry, and uploads used as references."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import respx

from contracts.facts import UPLOAD_TTL_SECONDS
from tests.conftest import AUTH, Api

UPLOAD_FIELDS = {
    "file_id", "file_name", "original_name", "file_size", "mime_type", "upload_path",
    "file_url", "download_url", "upload_time", "expires_at",
}  # fmt: skip


@pytest.fixture
def files_api(make_api: Callable[..., Api], tmp_path: Path) -> Api:
    return make_api(media_dir=str(tmp_path))


def upload(api: Api, path: Path, mime: str = "video/mp4", **fields: str) -> Any:
    with path.open("rb") as handle:
        return api.client.post(
            "/api/v1/files/upload/stream",
            files={"file": (path.name, handle, mime)},
            data=fields,
            headers=AUTH,
        )


def uploaded(api: Api, path: Path, **fields: str) -> dict[str, Any]:
    response = upload(api, path, **fields)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_upload_stream_answers_the_real_envelope(files_api: Api, clip: Callable[..., Path]) -> None:
    path = clip(3)
    response = upload(files_api, path)
    body = response.json()
    assert (response.status_code, body["success"], body["code"]) == (200, True, 200)
    assert body["msg"] == "File uploaded successfully"
    data = body["data"]
    assert set(data) == UPLOAD_FIELDS
    assert (data["file_size"], data["mime_type"]) == (path.stat().st_size, "video/mp4")
    assert data["original_name"] == path.name
    uploaded_at = datetime.fromisoformat(data["upload_time"])
    assert data["upload_time"].endswith("+08:00")
    assert uploaded_at.timestamp() == int(files_api.fake.now())
    expires = datetime.fromisoformat(data["expires_at"])
    assert (expires - uploaded_at).total_seconds() == UPLOAD_TTL_SECONDS


def test_upload_stream_takes_camel_case_names(files_api: Api, clip: Callable[..., Path]) -> None:
    data = uploaded(files_api, clip(2), uploadPath="refs/a", fileName="dancer.mp4")
    assert (data["upload_path"], data["file_name"]) == ("refs/a", "dancer.mp4")
    assert data["file_url"].endswith("/dancer.mp4")


def test_upload_stream_takes_snake_case_names(files_api: Api, clip: Callable[..., Path]) -> None:
    data = uploaded(files_api, clip(2), upload_path="refs", file_name="x.mp4")
    assert (data["upload_path"], data["file_name"]) == ("refs", "x.mp4")


def test_upload_files_by_type_when_no_path_is_given(
    files_api: Api, clip: Callable[..., Path]
) -> None:
    assert uploaded(files_api, clip(2))["upload_path"] == "videos"


def test_upload_serves_the_bytes_back_at_both_urls(
    files_api: Api, clip: Callable[..., Path]
) -> None:
    path = clip(2)
    data = uploaded(files_api, path)
    for url in (data["file_url"], data["download_url"]):
        response = files_api.client.get(url)
        assert response.status_code == 200
        assert response.content == path.read_bytes()
        assert response.headers["content-type"] == "video/mp4"
    part = files_api.client.get(data["file_url"], headers={"Range": "bytes=0-9"})
    assert (part.status_code, part.content) == (206, path.read_bytes()[:10])


def test_upload_too_large_is_refused_while_streaming(
    make_api: Callable[..., Api], clip: Callable[..., Path], tmp_path: Path
) -> None:
    api = make_api(media_dir=str(tmp_path), max_file_bytes=1000)
    response = upload(api, clip(2))
    assert response.status_code == 400
    assert response.json()["code"] == 40001
    assert response.json()["success"] is False
    assert list((tmp_path / "uploads").iterdir()) == []  # nothing half-written is kept


def test_upload_of_a_type_not_allowed_is_40002(files_api: Api, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    response = upload(files_api, text, mime="text/plain")
    assert (response.status_code, response.json()["code"]) == (400, 40002)


def test_upload_beyond_the_quota_is_40003(
    make_api: Callable[..., Api], clip: Callable[..., Path], tmp_path: Path
) -> None:
    api = make_api(media_dir=str(tmp_path), file_quota=2)
    uploaded(api, clip(2))
    uploaded(api, clip(3))
    response = upload(api, clip(2))
    assert (response.status_code, response.json()["code"]) == (400, 40003)


def test_upload_with_an_existing_name_replaces_the_old_file(
    make_api: Callable[..., Api], clip: Callable[..., Path], tmp_path: Path
) -> None:
    api = make_api(media_dir=str(tmp_path), file_quota=1)
    old = uploaded(api, clip(2), fileName="same.mp4")
    new = uploaded(api, clip(3), fileName="same.mp4")  # no 40003: it replaces
    assert api.client.get(old["file_url"]).status_code == 404
    assert api.client.get(new["file_url"]).status_code == 200


def test_upload_needs_an_api_key(files_api: Api, clip: Callable[..., Path]) -> None:
    with clip(2).open("rb") as handle:
        response = files_api.client.post(
            "/api/v1/files/upload/stream", files={"file": ("a.mp4", handle, "video/mp4")}
        )
    assert response.status_code == 401
    assert response.json() == {
        "success": False,
        "code": 401,
        "msg": "Invalid authentication credentials",
    }


def test_upload_without_a_file_part_is_400(files_api: Api) -> None:
    response = files_api.client.post(
        "/api/v1/files/upload/stream", files={"other": ("a.mp4", b"x")}, headers=AUTH
    )
    assert (response.status_code, response.json()["success"]) == (400, False)


def test_upload_base64_takes_a_data_url(files_api: Api, clip: Callable[..., Path]) -> None:
    raw = clip(2).read_bytes()
    payload = "data:video/mp4;base64," + base64.b64encode(raw).decode()
    response = files_api.client.post(
        "/api/v1/files/upload/base64",
        json={"base64_data": payload, "file_name": "b64.mp4"},
        headers=AUTH,
    )
    data = response.json()["data"]
    assert (data["mime_type"], data["file_size"], data["file_name"]) == (
        "video/mp4",
        len(raw),
        "b64.mp4",
    )
    assert files_api.client.get(data["file_url"]).content == raw


def test_upload_url_without_fetching_is_a_clear_40004(files_api: Api) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.get("https://remote.test/a.mp4")
        response = files_api.client.post(
            "/api/v1/files/upload/url", json={"file_url": "https://remote.test/a.mp4"}, headers=AUTH
        )
    assert (response.status_code, response.json()["code"]) == (400, 40004)
    assert "--fetch-references" in response.json()["msg"]
    assert not route.called


def test_upload_url_with_fetching_downloads_the_file(
    make_api: Callable[..., Api], clip: Callable[..., Path], tmp_path: Path
) -> None:
    api = make_api(media_dir=str(tmp_path), fetch_references=True)
    raw = clip(2).read_bytes()
    with respx.mock() as router:
        router.get("https://remote.test/a.mp4").respond(200, content=raw)
        response = api.client.post(
            "/api/v1/files/upload/url", json={"file_url": "https://remote.test/a.mp4"}, headers=AUTH
        )
    data = response.json()["data"]
    assert (data["upload_path"], data["file_size"], data["mime_type"]) == (
        "downloads",
        len(raw),
        "video/mp4",
    )


def test_list_shows_a_keys_files_newest_first_in_pages(
    files_api: Api, clip: Callable[..., Path]
) -> None:
    ids = []
    for seconds in (2, 3, 4):
        ids.append(uploaded(files_api, clip(seconds))["file_id"])
        files_api.advance(1)
    body = files_api.client.get("/api/v1/files/list?page=1&pageSize=2", headers=AUTH).json()
    assert body["success"] is True
    assert body["data"]["total"] == 3
    assert [f["file_id"] for f in body["data"]["files"]] == [ids[2], ids[1]]
    page_two = files_api.client.get("/api/v1/files/list?page=2&pageSize=2", headers=AUTH).json()
    assert [f["file_id"] for f in page_two["data"]["files"]] == [ids[0]]


def test_quota_counts_files_and_delete_frees_one(files_api: Api, clip: Callable[..., Path]) -> None:
    data = uploaded(files_api, clip(2))
    quota = files_api.client.get("/api/v1/files/quota", headers=AUTH).json()["data"]
    assert (quota["used_files"], quota["max_files"], quota["remain_files"]) == (1, 100, 99)
    deleted = files_api.client.delete(f"/api/v1/files/{data['file_id']}", headers=AUTH).json()
    assert deleted["success"] is True
    quota = files_api.client.get("/api/v1/files/quota", headers=AUTH).json()["data"]
    assert quota["used_files"] == 0
    assert files_api.client.get(data["file_url"]).status_code == 404


def test_delete_of_another_keys_file_is_404(files_api: Api, clip: Callable[..., Path]) -> None:
    data = uploaded(files_api, clip(2))
    files_api.control("PUT", "/keys", json={"keys": {"sk-other": {"credits": "10"}}})
    other = {"Authorization": "Bearer sk-other"}
    response = files_api.client.delete(f"/api/v1/files/{data['file_id']}", headers=other)
    assert (response.status_code, response.json()["code"]) == (404, 404)


def test_uploads_expire_72_hours_later_on_the_server_clock(
    files_api: Api, clip: Callable[..., Path]
) -> None:
    data = uploaded(files_api, clip(2))
    files_api.advance(UPLOAD_TTL_SECONDS - 1)
    assert files_api.client.get(data["file_url"]).status_code == 200
    files_api.advance(1)
    assert files_api.client.get(data["file_url"]).status_code == 404
    listing = files_api.client.get("/api/v1/files/list", headers=AUTH).json()["data"]
    assert listing["total"] == 0


def test_an_expired_upload_as_reference_fails_the_task(
    files_api: Api, clip: Callable[..., Path]
) -> None:
    data = uploaded(files_api, clip(3))
    files_api.advance(UPLOAD_TTL_SECONDS)
    task = files_api.created(video_urls=[data["file_url"]])
    files_api.advance(3600)
    assert files_api.status(task["id"])["error"]["code"] == "resource_not_found"


def charged(api: Api, task_id: str) -> Decimal:
    entries = api.control("GET", "/ledger").json()["entries"]
    [charge] = [e for e in entries if e["task_id"] == task_id and e["kind"] == "charge"]
    return Decimal(charge["amount"])


@pytest.mark.parametrize(
    ("seconds", "billed_input", "credits"),
    [
        ((3,), Decimal("3"), Decimal("38.08")),  # 4.76 x (3 + 5)
        ((3, 2), Decimal("4.5"), Decimal("45.22")),  # 2.5 + 2
        ((2, 3, 4), Decimal("4.95"), Decimal("47.36")),  # 3 x 1.65, 4.76 x 9.95 = 47.362
        ((2.5, 2.25), Decimal("4.75"), Decimal("46.41")),  # 2.5 + 2.25: 4.76 x 9.75
    ],
)
def test_uploaded_references_bill_their_probed_seconds_exactly(
    files_api: Api,
    clip: Callable[..., Path],
    seconds: tuple[float, ...],
    billed_input: Decimal,
    credits: Decimal,
) -> None:
    urls = [uploaded(files_api, clip(s))["file_url"] for s in seconds]
    task = files_api.created(video_urls=urls, duration=5)
    files_api.advance(3600)
    assert files_api.status(task["id"])["status"] == "completed"
    billing = files_api.control("GET", f"/tasks/{task['id']}").json()["billing"]
    assert Decimal(billing["input_seconds"]) == billed_input
    assert (
        charged(files_api, task["id"])
        == credits
        == (
            (Decimal("4.76") * (billed_input + 5)).quantize(
                Decimal("0.01"), rounding="ROUND_HALF_UP"
            )
        )
    )


def test_an_uploaded_clip_breaking_the_rules_fails_the_task(
    files_api: Api, clip: Callable[..., Path]
) -> None:
    too_short = uploaded(files_api, clip(1.5))["file_url"]
    task = files_api.created(video_urls=[too_short])
    files_api.advance(3600)
    error = files_api.status(task["id"])["error"]
    assert (error["code"], "got 1.500" in error["message"]) == ("invalid_parameters", True)


def test_upload_of_two_files_in_one_request_is_400(
    files_api: Api, clip: Callable[..., Path]
) -> None:
    raw = clip(2).read_bytes()
    response = files_api.client.post(
        "/api/v1/files/upload/stream",
        files=[("file", ("a.mp4", raw, "video/mp4")), ("file", ("b.mp4", raw, "video/mp4"))],
        headers=AUTH,
    )
    assert (response.status_code, response.json()["msg"]) == (400, "Only one file per request")
