"""Result links: real MP4s, Range requests, signatures and expiry on the server's clock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from contracts.facts import RESULT_TTL_SECONDS, SIZES
from mock_server.api.app import create_app
from mock_server.api.results import parse_range
from mock_server.media.clips import ClipSpec
from tests.clips import inspect
from tests.conftest import AUTH, BODY, Api

REF = "https://media.example.com/wanmock/ref-4s.mov"


@pytest.fixture
def media_api(make_api: Callable[..., Api], media_dir: Path) -> Api:
    return make_api(media_dir=str(media_dir))


def finished(api: Api, **fields: Any) -> tuple[str, str]:
    """A completed task's id and result link."""
    task = api.created(video_urls=[REF], **fields)
    api.advance(3600)
    body = api.status(task["id"])
    assert body["status"] == "completed"
    [url] = body["results"]
    return task["id"], url


@pytest.mark.parametrize(
    ("quality", "ratio", "seconds"),
    [("720p", "16:9", 2), ("720p", "9:16", 2), ("720p", "4:3", 3), ("1080p", "1:1", 2),
     ("1080p", "3:4", 2)],
)  # fmt: skip
def test_result_is_h264_aac_at_the_size_and_length_asked(
    media_api: Api, tmp_path: Path, quality: str, ratio: str, seconds: int
) -> None:
    _, url = finished(media_api, quality=quality, aspect_ratio=ratio, duration=seconds)
    response = media_api.client.get(url)
    assert response.status_code == 200
    seen = inspect(response.content, tmp_path / "got.mp4")
    assert (seen.video_codec, seen.audio_codec) == ("h264", "aac")
    assert (seen.width, seen.height) == SIZES[(quality, ratio)]
    assert abs(seen.seconds - seconds) <= 1 / 24
    assert seen.frames == seconds * 24


def test_result_of_flash_without_audio_is_silent(media_api: Api, tmp_path: Path) -> None:
    _, url = finished(
        media_api, model="wan2.6-reference-video-flash", generate_audio=False, duration=2
    )
    seen = inspect(media_api.client.get(url).content, tmp_path / "got.mp4")
    assert seen.audio_codec is None


def test_result_headers_are_those_of_a_video_file(media_api: Api) -> None:
    _, url = finished(media_api, duration=2)
    response = media_api.client.get(url)
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["accept-ranges"] == "bytes"
    assert int(response.headers["content-length"]) == len(response.content)


def test_result_head_sends_headers_only(media_api: Api) -> None:
    _, url = finished(media_api, duration=2)
    whole = media_api.client.get(url)
    head = media_api.client.head(url)
    assert head.status_code == 200
    assert head.headers["content-length"] == whole.headers["content-length"]
    assert head.content == b""


@pytest.mark.parametrize(
    ("header", "first", "last"), [("bytes=0-99", 0, 99), ("bytes=100-", 100, None),
                                  ("bytes=-50", -50, None), ("bytes=10-999999999", 10, None)]
)  # fmt: skip
def test_result_range_gets_206_with_the_bytes_asked(
    media_api: Api, header: str, first: int, last: int | None
) -> None:
    _, url = finished(media_api, duration=2)
    whole = media_api.client.get(url).content
    part = media_api.client.get(url, headers={"Range": header})
    expected = whole[first : None if last is None else last + 1]
    assert part.status_code == 206
    assert part.content == expected
    start = first % len(whole)
    assert part.headers["content-range"] == (
        f"bytes {start}-{start + len(expected) - 1}/{len(whole)}"
    )
    assert part.headers["content-length"] == str(len(expected))


def test_result_unsatisfiable_range_gets_416(media_api: Api) -> None:
    _, url = finished(media_api, duration=2)
    size = len(media_api.client.get(url).content)
    response = media_api.client.get(url, headers={"Range": f"bytes={size}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"


@pytest.mark.parametrize("header", ["bytes=5-2", "items=0-10", "bytes=abc", "bytes=0-1,5-9"])
def test_parse_range_ignores_what_it_cannot_serve_as_one_range(header: str) -> None:
    assert parse_range(header, 1000) is None


def test_result_link_expires_24_hours_after_completion(media_api: Api) -> None:
    task_id, url = finished(media_api, duration=2)
    finish = media_api.fake.control_task(task_id).plan.finish
    media_api.advance(finish + RESULT_TTL_SECONDS - 1 - media_api.fake.now())
    assert media_api.client.get(url).status_code == 200
    media_api.advance(1)
    expired = media_api.client.get(url)
    assert expired.status_code == 403
    assert "<Code>AccessDenied</Code>" in expired.text
    assert expired.headers["content-type"].startswith("application/xml")


@pytest.mark.parametrize(
    "change",
    [
        lambda url: url.replace("Signature=", "Signature=0"),
        lambda url: url.replace("Expires=", "Expires=9"),
        lambda url: url.replace("-0.mp4", "-1.mp4"),
        lambda url: url.split("?")[0],
    ],
)
def test_result_link_tampered_with_gets_403(media_api: Api, change: Callable[[str], str]) -> None:
    _, url = finished(media_api, duration=2)
    assert media_api.client.get(change(url)).status_code == 403


def test_result_of_a_task_not_completed_is_404(media_api: Api) -> None:
    _, url = finished(media_api, duration=2)
    media_api.control("POST", "/reset")
    response = media_api.client.get(url)
    assert response.status_code == 404
    assert "<Code>NoSuchKey</Code>" in response.text


def test_result_renders_once_for_many_downloads(media_api: Api, tmp_path: Path) -> None:
    api = media_api
    api.fake.media.renders.directory = tmp_path  # a cold cache for this test
    _, first = finished(api, duration=2, aspect_ratio="1:1")
    _, second = finished(api, duration=2, aspect_ratio="1:1")
    assert api.client.get(first).content == api.client.get(second).content
    assert api.fake.media.renders.renders == 1


def test_a_cold_render_does_not_block_other_requests(
    make_api: Callable[..., Api], tmp_path: Path
) -> None:
    fake = make_api(media_dir=str(tmp_path)).fake
    started, release = threading.Event(), threading.Event()

    def slow_render(spec: ClipSpec, path: Path) -> None:
        started.set()
        assert release.wait(30), "the poll never answered while the render ran"
        path.write_bytes(b"rendered")

    fake.media.renders.render = slow_render
    with TestClient(create_app(fake=fake), base_url="http://127.0.0.1:8080") as client:
        task = client.post("/v1/videos/generations", json={**BODY, "video_urls": [REF]},
                           headers=AUTH).json()  # fmt: skip
        client.post("/_mock/clock/advance", json={"seconds": 3600})
        [url] = client.get(f"/v1/tasks/{task['id']}", headers=AUTH).json()["results"]
        download: dict[str, Any] = {}
        downloader = threading.Thread(target=lambda: download.update(r=client.get(url)))
        downloader.start()
        assert started.wait(10)
        poll = client.get(f"/v1/tasks/{task['id']}", headers=AUTH)  # answered mid-render
        assert poll.status_code == 200 and not download
        release.set()
        downloader.join(10)
    assert download["r"].status_code == 200
    assert download["r"].content == b"rendered"


def test_result_count_scenario_gives_that_many_links_each_a_real_mp4(
    media_api: Api, tmp_path: Path
) -> None:
    rule = {"effect": {"results_count": 3}}
    assert media_api.control("POST", "/scenarios", json=rule).status_code == 200
    task = media_api.created(video_urls=[REF], duration=2)
    media_api.advance(3600)
    results = media_api.status(task["id"])["results"]
    assert [f"-{i}.mp4?" in url for i, url in enumerate(results)] == [True] * 3
    for index, url in enumerate(results):
        seen = inspect(media_api.client.get(url).content, tmp_path / f"got-{index}.mp4")
        assert seen.video_codec == "h264"
    beyond = results[0].replace("-0.mp4", "-3.mp4")
    assert media_api.client.get(beyond).status_code == 403  # not signed for a 4th
