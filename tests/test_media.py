"""Reference probing: PyAV on files, the manifest, fetching, and what billing gets."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from mock_server.media.references import Probe, load_manifest, probe_file, reference_problem
from mock_server.service.fake import Fake
from tests.conftest import BODY, KEY, Api

MANIFEST = "https://media.example.com/wanmock/"


def create(fake: Fake, *urls: str, **fields: Any) -> Any:
    return fake.create_task(KEY, {**BODY, "video_urls": list(urls), **fields})


def test_probe_file_reads_format_duration_size_and_codecs(clip: Callable[..., Path]) -> None:
    path = clip(3)
    probe = probe_file(path)
    assert probe == Probe("mp4", Decimal("3.000"), path.stat().st_size, "h264", "aac", 96, 64)


def test_probe_file_tells_mov_from_mp4(clip: Callable[..., Path]) -> None:
    assert probe_file(clip(2.5, fmt="mov")).format == "mov"


def test_probe_file_names_other_containers(clip: Callable[..., Path]) -> None:
    assert probe_file(clip(3, fmt="matroska")).format == "matroska"


def test_probe_file_marks_unreadable_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 100)
    assert probe_file(junk) == Probe(None, None, 1100)


@pytest.mark.parametrize(
    ("probe", "words"),
    [
        (Probe("mp4", Decimal("1.999"), 10, "h264"), "must last 2 to 30 seconds, got 1.999"),
        (Probe("mp4", Decimal("30.001"), 10, "h264"), "must last 2 to 30 seconds, got 30.001"),
        (Probe("webm", Decimal("5"), 10, "vp9"), "must be mp4 or mov, got webm"),
        (Probe("mp4", Decimal("5"), 100 * 1024 * 1024 + 1, "h264"), "larger than 100MB"),
        (Probe(None, None, 10), "not a readable video"),
    ],
)
def test_reference_problem_names_the_broken_rule(probe: Probe, words: str) -> None:
    problem = reference_problem(probe, "https://x.test/a.mp4")
    assert problem is not None
    assert problem[0] == "invalid_parameters"
    assert words in problem[1]


@pytest.mark.parametrize("seconds", ["2", "2.000", "30", "17.25"])
def test_reference_problem_accepts_the_documented_range(seconds: str) -> None:
    assert reference_problem(Probe("mov", Decimal(seconds), 10, "h264"), "u") is None


def test_load_manifest_names_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text('{"references": {"https://a.test/x.mp4": {"duration": "x"}}}')
    with pytest.raises(ValueError, match=r"media manifest .*m\.json"):
        load_manifest([bad])


def test_manifest_user_file_adds_urls(make_fake: Callable[..., Fake], tmp_path: Path) -> None:
    extra = tmp_path / "mine.json"
    extra.write_text(
        '{"references": {"https://my.test/a.mp4": {"duration": "4.2", "format": "mp4",'
        ' "size": 1000}}}'
    )
    fake = make_fake(media_manifest=(str(extra),))
    assert create(fake, "https://my.test/a.mp4").reference_seconds == (Decimal("4.2"),)
    assert create(fake, MANIFEST + "ref-8s.mp4").reference_seconds == (Decimal("8.0"),)


@pytest.mark.parametrize(
    ("names", "billed"),
    [
        (["ref-3.2s.mp4"], Decimal("3.2")),
        (["ref-8s.mp4"], Decimal("5")),
        (["ref-2s.mp4", "ref-8s.mp4"], Decimal("4.5")),
        (["ref-2s.mp4", "ref-3.2s.mp4", "ref-4s.mov"], Decimal("4.95")),
        (["ref-12.5s.mp4", "ref-30s.mp4", "ref-8s.mp4"], Decimal("4.95")),
    ],
)
def test_manifest_durations_feed_the_input_caps(
    fake: Fake, names: list[str], billed: Decimal
) -> None:
    task = create(fake, *(MANIFEST + n for n in names))
    assert task.input_seconds == billed
    assert task.plan.outcome == "completed"


def test_unknown_url_bills_the_configured_default(make_fake: Callable[..., Fake]) -> None:
    fake = make_fake(reference_seconds=Decimal("3.5"))
    assert create(fake, "https://nowhere.test/x.mp4").input_seconds == Decimal("3.5")


@pytest.mark.parametrize(
    "name", ["too-short-1.5s.mp4", "too-long-45s.mp4", "too-big-150mb.mp4", "wrong-format.webm"]
)
def test_rule_breaking_reference_fails_the_task_uncharged(api: Api, name: str) -> None:
    task = api.created(video_urls=[MANIFEST + "ref-4s.mov", MANIFEST + name])
    assert task["status"] == "pending"
    api.advance(3600)
    seen = api.status(task["id"])
    assert seen["status"] == "failed"
    assert seen["error"]["code"] == "invalid_parameters"
    assert name in seen["error"]["message"]
    assert api.balance() == {"credits": "1000", "granted": "1000", "reserved": "0", "charged": "0"}


def test_rule_breaking_reference_fails_when_work_would_start(fake: Fake) -> None:
    task = create(fake, MANIFEST + "too-long-45s.mp4")
    assert task.plan.finish == task.plan.start > task.plan.created
    assert task.plan.fail_progress == 0


def test_fetch_is_off_by_default(api: Api) -> None:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        route = router.get("https://remote.test/a.mp4")
        api.created(video_urls=["https://remote.test/a.mp4"])
    assert not route.called


def test_fetch_references_downloads_and_probes_unknown_urls(
    make_api: Callable[..., Api], clip: Callable[..., Path], tmp_path: Path
) -> None:
    api = make_api(fetch_references=True, media_dir=str(tmp_path))
    data = clip(3).read_bytes()
    with respx.mock(assert_all_called=True) as router:
        route = router.get("https://remote.test/a.mp4").respond(200, content=data)
        task = api.created(video_urls=["https://remote.test/a.mp4"])
        api.created(video_urls=["https://remote.test/a.mp4"])
    assert route.call_count == 1  # probed once, then known
    billing = api.control("GET", f"/tasks/{task['id']}").json()["billing"]
    assert billing["reference_seconds"] == ["3"]


def test_fetch_failure_fails_the_task_with_resource_not_found(
    make_api: Callable[..., Api], tmp_path: Path
) -> None:
    api = make_api(fetch_references=True, media_dir=str(tmp_path))
    with respx.mock() as router:
        router.get("https://remote.test/gone.mp4").respond(404)
        task = api.created(video_urls=["https://remote.test/gone.mp4"])
    api.advance(3600)
    error = api.status(task["id"])["error"]
    assert error["code"] == "resource_not_found"
    assert "HTTP 404" in error["message"]


def test_fetch_of_a_huge_file_breaks_the_size_rule(
    make_api: Callable[..., Api], tmp_path: Path
) -> None:
    api = make_api(fetch_references=True, media_dir=str(tmp_path))
    huge = {"content-length": str(200 * 1024 * 1024)}
    with respx.mock() as router:
        router.get("https://remote.test/huge.mp4").respond(200, headers=huge, content=b"")
        task = api.created(video_urls=["https://remote.test/huge.mp4"])
    api.advance(3600)
    error = api.status(task["id"])["error"]
    assert (error["code"], "larger than 100MB" in error["message"]) == ("invalid_parameters", True)


def test_fetch_connection_error_is_tried_again(
    make_api: Callable[..., Api], clip: Callable[..., Path], tmp_path: Path
) -> None:
    api = make_api(fetch_references=True, media_dir=str(tmp_path))
    with respx.mock() as router:
        route = router.get("https://remote.test/flaky.mp4")
        route.side_effect = [httpx.ConnectError("refused"), httpx.Response(200, content=b"x")]
        api.created(video_urls=["https://remote.test/flaky.mp4"])
        api.created(video_urls=["https://remote.test/flaky.mp4"])
    assert route.call_count == 2


def test_fetch_references_flag_given_bare_means_true() -> None:
    from mock_server.cli import build_parser
    from mock_server.runtime.config import load_config
    from mock_server.runtime.settings import SETTINGS

    args = build_parser().parse_args(["serve", "--fetch-references"])
    config = load_config({s.name: getattr(args, s.name) for s in SETTINGS}, env={})
    assert config.fetch_references is True
    assert load_config(env={"WANMOCK_FETCH_REFERENCES": "false"}).fetch_references is False


def test_media_known_references_ship_in_the_wheel(tmp_path: Path) -> None:
    """An installed wanmock knows the same reference URLs as a checkout."""
    import subprocess
    import sys
    import zipfile

    root = Path(__file__).resolve().parent.parent
    build = ["pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path)]
    subprocess.run(
        [sys.executable, "-m", *build, str(root)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("wanmock-*.whl")
    assert "mock_server/media/manifest.json" in zipfile.ZipFile(wheel).namelist()
