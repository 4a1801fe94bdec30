"""The reference clip the provider verifier uploads: rendered and probed with PyAV here.

Why not the fake's renderer: ``verify-provider`` judges a real endpoint too, so nothing
it needs to run may come from the fake. The clip is tiny (320x180, grey with a moving
bar, a quiet tone): what matters is that it is a real H.264/AAC MP4 any video service
accepts, longer than every input cap (SOURCES.md "Billing and prices"), and that its
length is measured the way a provider would measure it, from the container.
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Final

FPS: Final = 12
AUDIO_RATE: Final = 48_000
_AUDIO_FRAME: Final = 1024


def render(path: Path, seconds: int, width: int = 320, height: int = 180) -> None:
    """Write an MP4 of ``seconds`` at ``path``: H.264 video and an AAC stereo tone."""
    import av  # heavy: imported where it is used

    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "35"}
        audio = out.add_stream("aac", rate=AUDIO_RATE)
        audio.layout = "stereo"
        frame = av.VideoFrame(width, height, "yuv420p")
        line = frame.planes[0].line_size
        for index in (1, 2):
            frame.planes[index].update(b"\x80" * (frame.planes[index].line_size * (height // 2)))
        count = seconds * FPS
        for i in range(count):
            top = i * (height - 16) // max(1, count - 1)
            rows = b"\x40" * (line * top) + b"\xeb" * (line * 16)
            frame.planes[0].update(rows + b"\x40" * (line * (height - top - 16)))
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        tone = b"".join(
            struct.pack("<f", 0.1 * math.sin(2 * math.pi * 375 * k / AUDIO_RATE))
            for k in range(_AUDIO_FRAME)
        )
        sent, total = 0, seconds * AUDIO_RATE
        while sent < total:
            samples = min(_AUDIO_FRAME, total - sent)
            sound = av.AudioFrame(format="fltp", layout="stereo", samples=samples)
            for plane in sound.planes:
                chunk = tone[: samples * 4]
                plane.update(chunk + bytes(plane.buffer_size - len(chunk)))
            sound.sample_rate, sound.pts = AUDIO_RATE, sent
            sound.time_base = Fraction(1, AUDIO_RATE)
            out.mux(audio.encode(sound))
            sent += samples
        out.mux(audio.encode(None))


def probe_seconds(path: Path) -> Decimal | None:
    """The container's duration in seconds, to the millisecond; None if it cannot say."""
    import av

    try:
        with av.open(str(path)) as container:
            if container.duration is None:
                return None
            return (Decimal(container.duration) / 1_000_000).quantize(Decimal("0.001"))
    except (av.FFmpegError, UnicodeDecodeError):
        return None
