"""Small real video files for tests, made with PyAV, and helpers to inspect what we get."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

FPS = 24
RATE = 48000


def make_clip(
    path: Path,
    seconds: float,
    *,
    width: int = 96,
    height: int = 64,
    fmt: str = "mp4",
    audio: bool = True,
) -> Path:
    """A tiny clip: ``seconds`` of grey frames at 24 fps, with a silent AAC track."""
    frames = round(seconds * FPS)
    with av.open(str(path), "w", format=fmt) as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast"}
        sound = out.add_stream("aac", rate=RATE) if audio else None
        picture = av.VideoFrame(width, height, "yuv420p")
        for plane in picture.planes:
            plane.update(b"\x80" * plane.buffer_size)
        for i in range(frames):
            picture.pts, picture.time_base = i, Fraction(1, FPS)
            out.mux(video.encode(picture))
        out.mux(video.encode(None))
        if sound is not None:
            total, sent = frames * RATE // FPS, 0
            while sent < total:
                count = min(1024, total - sent)
                chunk = av.AudioFrame(format="fltp", layout="mono", samples=count)
                chunk.planes[0].update(bytes(chunk.planes[0].buffer_size))
                chunk.sample_rate, chunk.pts, chunk.time_base = RATE, sent, Fraction(1, RATE)
                out.mux(sound.encode(chunk))
                sent += count
            out.mux(sound.encode(None))
    return path


@dataclass(frozen=True)
class Seen:
    """What PyAV sees in an MP4: codecs, picture size, seconds, frames."""

    video_codec: str
    audio_codec: str | None
    width: int
    height: int
    seconds: float
    frames: int


def inspect(data: bytes, scratch: Path) -> Seen:
    scratch.write_bytes(data)
    with av.open(str(scratch)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0] if container.streams.audio else None
        frames = sum(1 for _ in container.demux(video) if _.size)
        assert container.duration is not None
        return Seen(
            video.codec_context.name,
            audio.codec_context.name if audio else None,
            video.codec_context.width,
            video.codec_context.height,
            container.duration / 1_000_000,
            frames,
        )
