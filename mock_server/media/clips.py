"""Result videos: real, playable MP4 files rendered with PyAV and cached on disk.

A result is H.264 video (yuv420p, ``RESULT_FPS`` frames a second) with, unless the task
asked for a silent video, an AAC stereo track, at the pixel size of the requested quality
and aspect ratio and exactly the requested seconds long (SOURCES.md "Media"). The picture
is a grey ramp with a white bar that sweeps from top to bottom, so a player shows motion
and the end of the clip is easy to see; the sound is a quiet 375 Hz beep at the start
of every second (silence between beeps also keeps the AAC encoder quick).

Rendering takes seconds (a cold 10 s clip at 1080p), so it happens once per
``(width, height, seconds, audio)``, in a worker thread, under a per-file lock; the file
is written beside its final name and renamed into place, so a reader never sees half a
file, even from another process sharing the directory.
"""

from __future__ import annotations

import asyncio
import math
import os
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from contracts.facts import SIZES
from mock_server.domain.catalog import RESULT_AUDIO_RATE, RESULT_FPS, ModelProfile

# Bump when the recipe changes, so stale cached files are not served.
RECIPE = "v1"
AUDIO_FRAME = 1024
TONE_HZ = 375  # 1024 samples at 48 kHz hold exactly 8 periods: frames join seamlessly
BEEP_SAMPLES = 4 * AUDIO_FRAME  # about 85 ms

if TYPE_CHECKING:
    import av


@dataclass(frozen=True, slots=True)
class ClipSpec:
    """What a result file is: its size, length and whether it has sound."""

    width: int
    height: int
    seconds: int
    audio: bool = True

    @property
    def file_name(self) -> str:
        sound = "av" if self.audio else "v"
        return f"{RECIPE}-{self.width}x{self.height}-{self.seconds}s-{sound}.mp4"


def _luma_frames(width: int, line: int, height: int, count: int) -> Callable[[int], bytes]:
    """The Y plane of frame ``i`` of ``count``: a ramp with a bar moving down."""
    ramp = bytes(16 + (x * 200) // max(1, width) if x < width else 16 for x in range(line))
    base = ramp * height
    bar = max(8, height // 12)
    white = b"\xeb" * (bar * line)

    def frame(i: int) -> bytes:
        top = (i * (height - bar)) // max(1, count - 1)
        return base[: top * line] + white + base[(top + bar) * line :]

    return frame


def _tone(samples: int) -> bytes:
    """``samples`` float32 samples of a quiet tone (one channel of planar float)."""
    return b"".join(
        struct.pack("<f", 0.1 * math.sin(2 * math.pi * TONE_HZ * k / RESULT_AUDIO_RATE))
        for k in range(samples)
    )


def render_clip(spec: ClipSpec, path: Path) -> None:
    """Write ``spec`` as an MP4 file at ``path`` (blocking; seconds for a large clip)."""
    import av  # heavy: imported where it is used

    fps = RESULT_FPS
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = spec.width, spec.height, "yuv420p"
        video.options = {"preset": "ultrafast", "tune": "stillimage", "crf": "30"}
        video.codec_context.gop_size = 2 * fps
        audio = None
        if spec.audio:
            audio = out.add_stream("aac", rate=RESULT_AUDIO_RATE)
            audio.layout = "stereo"
        count = spec.seconds * fps
        frame = av.VideoFrame(spec.width, spec.height, "yuv420p")
        lines = [plane.line_size for plane in frame.planes]
        for index in (1, 2):
            frame.planes[index].update(b"\x80" * (lines[index] * (spec.height // 2)))
        luma = _luma_frames(spec.width, lines[0], spec.height, count)
        for i in range(count):
            frame.planes[0].update(luma(i))
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if audio is not None:
            _write_audio(out, audio, spec.seconds * RESULT_AUDIO_RATE)


def _write_audio(out: av.container.OutputContainer, stream: av.AudioStream, total: int) -> None:
    import av

    tone, silence = _tone(AUDIO_FRAME), bytes(AUDIO_FRAME * 4)
    sent = 0
    while sent < total:
        count = min(AUDIO_FRAME, total - sent)
        frame = av.AudioFrame(format="fltp", layout="stereo", samples=count)
        for plane in frame.planes:
            beep = sent % RESULT_AUDIO_RATE < BEEP_SAMPLES
            chunk = (tone if beep else silence)[: count * 4]
            plane.update(chunk + bytes(plane.buffer_size - len(chunk)))
        frame.sample_rate, frame.pts = RESULT_AUDIO_RATE, sent
        frame.time_base = Fraction(1, RESULT_AUDIO_RATE)
        out.mux(stream.encode(frame))
        sent += count
    out.mux(stream.encode(None))


def result_spec(
    model: ModelProfile, quality: str, aspect_ratio: str, duration: int, generate_audio: bool
) -> ClipSpec:
    """What a task's result looks like: the size of its quality and ratio, its seconds,
    sound unless it asked for a silent video from a model where that is an option."""
    width, height = SIZES[(quality, aspect_ratio)]
    silent = model.audio_optional and not generate_audio
    return ClipSpec(width, height, duration, audio=not silent)


class RenderCache:
    """Result files on disk, rendered on first use; safe to share across threads."""

    def __init__(self, directory: Path, render: Callable[[ClipSpec, Path], None] = render_clip):
        self.directory = directory
        self.render = render
        self._locks: dict[ClipSpec, threading.Lock] = {}
        self._guard = threading.Lock()
        self.renders = 0  # how many files this cache has rendered (tests, metrics)

    def path(self, spec: ClipSpec) -> Path:
        return self.directory / spec.file_name

    def ensure(self, spec: ClipSpec) -> Path:
        """The file for ``spec``, rendering it first if no one has (blocking)."""
        path = self.path(spec)
        if path.exists():
            return path
        with self._guard:
            lock = self._locks.setdefault(spec, threading.Lock())
        with lock:
            if not path.exists():
                self.directory.mkdir(parents=True, exist_ok=True)
                partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
                try:
                    self.render(spec, partial)
                    os.replace(partial, path)
                finally:
                    partial.unlink(missing_ok=True)
                self.renders += 1
        return path

    def prune(self, keep: set[str]) -> list[str]:
        """Delete rendered files whose names are not in ``keep``; the names deleted."""
        gone = []
        for path in self.directory.glob(f"{RECIPE}-*.mp4") if self.directory.is_dir() else ():
            if path.name not in keep:
                path.unlink(missing_ok=True)
                gone.append(path.name)
        return sorted(gone)

    async def get(self, spec: ClipSpec) -> Path:
        """``ensure`` off the event loop: other requests go on while a clip renders."""
        path = self.path(spec)
        if path.exists():
            return path
        return await asyncio.to_thread(self.ensure, spec)
