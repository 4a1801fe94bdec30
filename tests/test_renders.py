"""Rendering result videos: real H.264/AAC files, one render per spec."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from mock_server.media.clips import ClipSpec, RenderCache, render_clip
from tests.clips import inspect


def test_render_clip_writes_h264_aac_of_the_asked_size_and_length(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    render_clip(ClipSpec(320, 240, 2), path)
    seen = inspect(path.read_bytes(), tmp_path / "seen.mp4")
    assert (seen.video_codec, seen.audio_codec) == ("h264", "aac")
    assert (seen.width, seen.height, seen.frames) == (320, 240, 48)
    assert abs(seen.seconds - 2) < 1 / 24


def test_render_clip_without_audio_has_no_audio_track(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    render_clip(ClipSpec(160, 96, 2, audio=False), path)
    assert inspect(path.read_bytes(), tmp_path / "seen.mp4").audio_codec is None


def test_clip_spec_names_files_by_every_parameter() -> None:
    names = {
        ClipSpec(1280, 720, 5).file_name,
        ClipSpec(720, 1280, 5).file_name,
        ClipSpec(1280, 720, 6).file_name,
        ClipSpec(1280, 720, 5, audio=False).file_name,
    }
    assert len(names) == 4


def test_render_cache_renders_each_spec_once_under_concurrency(tmp_path: Path) -> None:
    started = threading.Event()
    release = threading.Event()

    def slow(spec: ClipSpec, path: Path) -> None:
        started.set()
        release.wait(10)
        path.write_bytes(b"video")

    cache = RenderCache(tmp_path, slow)
    spec = ClipSpec(64, 64, 2)
    results: list[Path] = []
    threads = [threading.Thread(target=lambda: results.append(cache.ensure(spec))) for _ in "abc"]
    for thread in threads:
        thread.start()
    assert started.wait(10)
    release.set()
    for thread in threads:
        thread.join(10)
    assert cache.renders == 1
    assert results == [tmp_path / spec.file_name] * 3
    assert [p.name for p in tmp_path.iterdir()] == [spec.file_name]  # no partial files left


def test_render_cache_leaves_no_file_when_a_render_fails(tmp_path: Path) -> None:
    def broken(spec: ClipSpec, path: Path) -> None:
        path.write_bytes(b"half")
        raise RuntimeError("encoder died")

    cache = RenderCache(tmp_path, broken)
    with pytest.raises(RuntimeError, match="encoder died"):
        cache.ensure(ClipSpec(64, 64, 2))
    assert list(tmp_path.iterdir()) == []
