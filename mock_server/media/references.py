"""Reference videos: what the fake knows of each URL, and the media a fake holds.

A reference's duration, container and size come, in order, from (SOURCES.md "Media"):

1. a file uploaded to this server (probed once, at upload);
2. the manifest (``mock_server/media/manifest.json`` and any ``--media-manifest``): URL ->
   duration, format, size, so tests and users can name remote URLs without fetching;
3. with ``--fetch-references`` only, the URL itself, downloaded and probed with PyAV;
4. else nothing: the configured default duration is billed and no rule is checked.

A reference that breaks the documented rules (not mp4/mov, under 2 s, over 30 s, over
100 MB) makes the task fail with ``invalid_parameters``; one that cannot be downloaded
(an expired upload, a fetch that fails) with ``resource_not_found``. Why a failed task
and not a 400 at create is recorded in contracts/SOURCES.md "Media".
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from contracts import facts
from mock_server.domain.models import ReferenceInfo
from mock_server.media.clips import RenderCache
from mock_server.media.uploads import Uploads
from mock_server.runtime.clock import Clock
from mock_server.runtime.config import Config
from mock_server.store.protocols import Store

# Package data, so an installed wanmock knows the same URLs as a checkout.
BUNDLED_MANIFEST = Path(__file__).resolve().parent / "manifest.json"
UPLOAD_PATH_RE = re.compile(r"/(?:files|api/v1/files/download)/(file_[0-9a-f]{20})(?:/|$)")
MILLISECOND = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class Probe:
    """A video's container, length and size; ``format`` None means unreadable."""

    format: str | None
    seconds: Decimal | None
    size: int
    video_codec: str | None = None
    audio_codec: str | None = None
    width: int | None = None
    height: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "seconds": None if self.seconds is None else str(self.seconds),
            "size": self.size,
            "video_codec": self.video_codec,
            "audio_codec": self.audio_codec,
            "width": self.width,
            "height": self.height,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Probe:
        seconds = data.get("seconds")
        return cls(
            data.get("format"),
            None if seconds is None else Decimal(str(seconds)),
            int(data.get("size", 0)),
            data.get("video_codec"),
            data.get("audio_codec"),
            data.get("width"),
            data.get("height"),
        )


def probe_file(path: Path) -> Probe:
    """Probe ``path`` with PyAV; never raises (an unreadable file has format None)."""
    import av

    size = path.stat().st_size
    try:
        with av.open(str(path)) as container:
            names = container.format.name.split(",")
            fmt = names[0]
            if "mp4" in names or "mov" in names:
                brand = str(container.metadata.get("major_brand", "")).strip()
                fmt = "mov" if brand == "qt" or path.suffix.lower() == ".mov" else "mp4"
            seconds = None
            if container.duration is not None:
                seconds = (Decimal(container.duration) / 1_000_000).quantize(MILLISECOND)
            video = container.streams.video[0] if container.streams.video else None
            audio = container.streams.audio[0] if container.streams.audio else None
            return Probe(
                fmt,
                seconds,
                size,
                video.codec_context.name if video else None,
                audio.codec_context.name if audio else None,
                video.codec_context.width if video else None,
                video.codec_context.height if video else None,
            )
    except (av.FFmpegError, UnicodeDecodeError, IndexError):
        return Probe(None, None, size)


def _name(url: str) -> str:
    return "Reference video " + (url if len(url) <= 120 else url[:117] + "...")


def reference_problem(probe: Probe, url: str) -> tuple[str, str] | None:
    """The failed-task error a reference earns by breaking a documented rule, if any."""
    low, high = facts.REFERENCE_SECONDS_RANGE
    if probe.size > facts.MAX_FILE_BYTES:
        message = f"{_name(url)} is larger than 100MB ({probe.size} bytes)"
    elif probe.format is None or probe.video_codec is None:
        message = f"{_name(url)} is not a readable video file"
    elif probe.format not in facts.REFERENCE_FORMATS:
        message = f"{_name(url)} must be mp4 or mov, got {probe.format}"
    elif probe.seconds is not None and not low <= probe.seconds <= high:
        message = f"{_name(url)} must last {low} to {high} seconds, got {probe.seconds}"
    else:
        return None
    return ("invalid_parameters", message)


def unreachable(url: str, why: str) -> tuple[str, str]:
    return ("resource_not_found", f"{_name(url)} could not be downloaded: {why}")


def load_manifest(paths: Iterable[Path]) -> dict[str, Probe]:
    """URL -> Probe from manifest files (later files win); a bad file names itself."""
    known: dict[str, Probe] = {}
    for path in paths:
        try:
            known.update(_read_manifest(path, path.stat().st_mtime_ns))
        except OSError as exc:
            raise ValueError(f"media manifest {path}: {exc!r}") from None
    return known


@functools.lru_cache(maxsize=32)
def _read_manifest(path: Path, modified: int) -> dict[str, Probe]:
    """One manifest file, parsed once per version of it (every fake of a test run reads
    the bundled one)."""
    try:
        entries = orjson.loads(path.read_bytes())["references"]
        return {
            url: Probe(
                str(entry["format"]),
                Decimal(str(entry["duration"])),
                int(entry["size"]),
                entry.get("video_codec", "h264"),
                entry.get("audio_codec"),
            )
            for url, entry in entries.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError, InvalidOperation) as exc:
        raise ValueError(
            f"media manifest {path}: {exc!r}; expected "
            '{"references": {URL: {"duration": "3.5", "format": "mp4", "size": BYTES}}}'
        ) from None


@dataclass
class Media:
    """Everything media a fake holds: uploads, known URLs, fetched probes, rendered results."""

    config: Config
    store: Store
    clock: Clock
    uploads: Uploads = field(init=False)
    renders: RenderCache = field(init=False)
    manifest: dict[str, Probe] = field(init=False)
    _fetched: dict[str, tuple[Probe | None, str]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        root = Path(self.config.media_dir)
        self.uploads = Uploads(self.config, self.store, self.clock, root / "uploads", probe_file)
        self.renders = RenderCache(root / "renders")
        bundled = [BUNDLED_MANIFEST] if BUNDLED_MANIFEST.exists() else []
        self.manifest = load_manifest([*bundled, *map(Path, self.config.media_manifest)])

    def reference(self, url: str) -> ReferenceInfo:
        """What is known of ``url`` right now (the create path: no I/O but SQLite)."""
        match = UPLOAD_PATH_RE.match(urlsplit(url).path)
        if match:
            record = self.uploads.get(match.group(1))
            if record is None:
                return ReferenceInfo(problem=unreachable(url, "HTTP 404"), source="upload")
            stored = Probe.from_json(record.probe) if record.probe else Probe(None, None, 0)
            return self._info(stored, url, "upload")
        probe = self.manifest.get(url) or self.manifest.get(url.split("?", 1)[0])
        if probe is not None:
            return self._info(probe, url, "manifest")
        if url in self._fetched:
            fetched, why = self._fetched[url]
            if fetched is None:
                return ReferenceInfo(problem=unreachable(url, why), source="fetched")
            return self._info(fetched, url, "fetched")
        return ReferenceInfo()

    @staticmethod
    def _info(probe: Probe, url: str, source: str) -> ReferenceInfo:
        return ReferenceInfo(probe.seconds, reference_problem(probe, url), source)

    async def prefetch(self, body: object) -> None:
        """With --fetch-references, download and probe a create body's unknown URLs."""
        if not self.config.fetch_references or not isinstance(body, dict):
            return
        urls = body.get("video_urls")
        if not isinstance(urls, list) or len(urls) > facts.VIDEO_URLS_RANGE[1]:
            return
        wanted = [u for u in urls if isinstance(u, str) and self._should_fetch(u)]
        await asyncio.gather(*(self._fetch(u) for u in dict.fromkeys(wanted)))

    def _should_fetch(self, url: str) -> bool:
        """Unknown URLs, and ones whose last download failed (tried again each time)."""
        if urlsplit(url).scheme not in ("http", "https"):
            return False
        source = self.reference(url).source
        return source == "default" or (source == "fetched" and self._fetched[url][0] is None)

    async def _fetch(self, url: str) -> None:
        folder = Path(self.config.media_dir) / "fetched"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / hashlib.sha256(url.encode()).hexdigest()[:32]
        try:
            await download(url, target, facts.MAX_FILE_BYTES)
        except TooLarge as exc:
            self._fetched[url] = (Probe(None, None, exc.size), "")
        except DownloadError as exc:
            self._fetched[url] = (None, str(exc))
        else:
            self._fetched[url] = (await asyncio.to_thread(probe_file, target), "")
        target.unlink(missing_ok=True)  # the probe is what is kept

    def reset(self) -> None:
        self.uploads.reset()
        self._fetched.clear()


class DownloadError(Exception):
    """A URL that could not be fetched; the message says why (status, refusal, size)."""


class TooLarge(DownloadError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than {limit} bytes")
        self.size = limit + 1


async def download(url: str, target: Path, limit: int) -> None:
    """Stream ``url`` into ``target``; at most ``limit`` bytes, else DownloadError."""
    import httpx

    try:
        async with (
            httpx.AsyncClient(follow_redirects=True, timeout=30.0) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                raise DownloadError(f"HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise TooLarge(limit)
            size = 0
            with target.open("wb") as out:
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise TooLarge(limit)
                    out.write(chunk)
    except httpx.HTTPError as exc:
        raise DownloadError(f"{type(exc).__name__}: {exc}") from None
