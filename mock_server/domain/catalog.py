"""The fake's tables: models, prices, sizes and timing profiles.

Everything here is data, so a reader can check it against the real API at a glance and a
config file can override it. Facts of the real API cite ``contracts/SOURCES.md``; the rest
are the fake's own documented choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Final

# Request vocabulary (SOURCES.md: "Create request").
SHOT_TYPES: Final = ("single", "multi")
QUALITIES: Final = ("720p", "1080p")
ASPECT_RATIOS: Final = ("16:9", "9:16", "1:1", "4:3", "3:4")
DEFAULT_QUALITY: Final = "720p"
DEFAULT_ASPECT_RATIO: Final = "16:9"
DEFAULT_DURATION: Final = 5
DURATION_RANGE: Final = (2, 10)
PROMPT_MAX_CHARS: Final = 1500
VIDEO_URLS_RANGE: Final = (1, 3)
URL_MAX_CHARS: Final = 2048
CALLBACK_URL_MAX_CHARS: Final = 2048

# Input billing caps per reference, by number of references (SOURCES.md: "Billing").
INPUT_CAP_SECONDS: Final = MappingProxyType(
    {1: Decimal("5"), 2: Decimal("2.5"), 3: Decimal("1.65")}
)

# Pixel sizes per quality and aspect ratio (Alibaba's Wan documentation, see SOURCES.md).
SIZES: Final = MappingProxyType(
    {
        ("720p", "16:9"): (1280, 720),
        ("720p", "9:16"): (720, 1280),
        ("720p", "1:1"): (960, 960),
        ("720p", "4:3"): (1088, 832),
        ("720p", "3:4"): (832, 1088),
        ("1080p", "16:9"): (1920, 1080),
        ("1080p", "9:16"): (1080, 1920),
        ("1080p", "1:1"): (1440, 1440),
        ("1080p", "4:3"): (1632, 1248),
        ("1080p", "3:4"): (1248, 1632),
    }
)


# Price multiplier by quality (SOURCES.md "Prices": EvoLink's pricing rules, 1080p x1.67).
QUALITY_PRICE_FACTOR: Final = MappingProxyType({"720p": Decimal("1"), "1080p": Decimal("1.67")})


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """One model the fake serves: its prices and how long it takes.

    ``rate`` is credits per billed second (input plus output) at 720p; ``minimum_charge``
    is the least a successful task costs; ``silent_price_factor`` applies when
    ``generate_audio`` is false, which only the flash model documents. All from EvoLink's
    published pricing rules (SOURCES.md "Prices"), and all overridable by config.
    ``seconds_per_output_second`` drives ``task_info.estimated_time``: 24 s per output
    second gives the 120 s of the documented example for the default 5 s request.
    """

    name: str
    rate: Decimal
    seconds_per_output_second: MappingProxyType[str, float]
    minimum_charge: Decimal = Decimal("9")
    audio_optional: bool = False
    silent_price_factor: Decimal = Decimal("1")
    billing_rule: str = "per_second"


MODELS: Final = MappingProxyType(
    {
        "wan2.6-reference-video": ModelProfile(
            name="wan2.6-reference-video",
            rate=Decimal("4.76"),
            seconds_per_output_second=MappingProxyType({"720p": 24.0, "1080p": 36.0}),
        ),
        "wan2.6-reference-video-flash": ModelProfile(
            name="wan2.6-reference-video-flash",
            rate=Decimal("2.38"),
            seconds_per_output_second=MappingProxyType({"720p": 10.0, "1080p": 15.0}),
            audio_optional=True,
            silent_price_factor=Decimal("0.5"),
        ),
    }
)
DEFAULT_MODEL: Final = "wan2.6-reference-video"


@dataclass(frozen=True, slots=True)
class TimingProfile:
    """How long tasks take under a profile.

    ``queue_seconds`` is the pending time range; processing lasts the model's estimate
    times a factor drawn from ``processing_jitter``; everything, estimate included, is
    divided by ``speedup`` (the ``fast`` profile keeps realistic proportions, 40x quicker).
    """

    queue_seconds: tuple[float, float]
    processing_jitter: tuple[float, float]
    speedup: float


TIMING_PROFILES: Final = MappingProxyType(
    {
        "realistic": TimingProfile((10.0, 45.0), (0.8, 1.25), 1.0),
        "fast": TimingProfile((10.0, 45.0), (0.8, 1.25), 40.0),
    }
)

# Documented default for a reference whose duration the fake does not know (no upload,
# no manifest entry, no fetching): the single-reference input cap, so an estimate is
# never below what a real reference could cost.
DEFAULT_REFERENCE_SECONDS: Final = Decimal("5")

# Result links and uploads expire (SOURCES.md "Results", "Files").
RESULT_TTL_SECONDS: Final = 24 * 3600
UPLOAD_TTL_SECONDS: Final = 72 * 3600

# Reference video rules (SOURCES.md "Media"): mp4 or mov, 2-30 s, at most 100 MB.
REFERENCE_FORMATS: Final = ("mp4", "mov")
REFERENCE_SECONDS_RANGE: Final = (Decimal("2"), Decimal("30"))
MAX_FILE_BYTES: Final = 100 * 1024 * 1024

# The file service (SOURCES.md "Files"): files per key by user group, page sizes, types.
FILE_QUOTA: Final = 100
FILE_QUOTA_VIP: Final = 500
FILE_PAGE_SIZE: Final = (20, 100)  # default, maximum
UPLOAD_IMAGE_TYPES: Final = ("image/jpeg", "image/png", "image/gif", "image/webp")

# Rendered results: the fake's own choice of frame rate and audio (SOURCES.md "Media").
RESULT_FPS: Final = 24
RESULT_AUDIO_RATE: Final = 48000
