"""The fake's own tables: model profiles, timing profiles and rendering choices.

The real API's facts (limits, enums, prices, sizes) live in ``contracts/facts.py``; this
module adds what the fake chooses where the API is silent (SOURCES.md "Lifecycle
timings", "Media"), and builds each model's profile from the published prices so a
config file can override them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from contracts import facts


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """One model the fake serves: its prices and how long it takes.

    ``rate`` is credits per billed second (input plus output) at 720p; ``minimum_charge``
    is the least a successful task costs; ``silent_price_factor`` applies when
    ``generate_audio`` is false, which only the flash model documents. All from EvoLink's
    published pricing rules (SOURCES.md "Billing and prices"), and all overridable by config.
    ``seconds_per_output_second`` drives ``task_info.estimated_time``: 24 s per output
    second gives the 120 s of the documented example for the default 5 s request.
    """

    name: str
    rate: Decimal
    seconds_per_output_second: MappingProxyType[str, float]
    minimum_charge: Decimal = facts.MINIMUM_CHARGE
    audio_optional: bool = False
    silent_price_factor: Decimal = Decimal("1")
    billing_rule: str = facts.BILLING_RULE


# Seconds of processing per output second, by quality: the fake's choice (SOURCES.md
# "Lifecycle timings"). 24 s gives the documented example's 120 s for a 5 s request.
_PROCESSING_PACE: Final = MappingProxyType(
    {
        "wan2.6-reference-video": MappingProxyType({"720p": 24.0, "1080p": 36.0}),
        "wan2.6-reference-video-flash": MappingProxyType({"720p": 10.0, "1080p": 15.0}),
    }
)


def _profile(name: str, price: facts.ModelPrice) -> ModelProfile:
    return ModelProfile(
        name=name,
        rate=price.rate,
        seconds_per_output_second=_PROCESSING_PACE[name],
        audio_optional=price.silent_factor is not None,
        silent_price_factor=price.silent_factor or Decimal("1"),
    )


# The published prices (contracts/facts.py) with the fake's timings; config may override.
MODELS: Final = MappingProxyType({name: _profile(name, p) for name, p in facts.PRICES.items()})


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

# Rendered results: the fake's own choice of frame rate and audio (SOURCES.md "Media").
RESULT_FPS: Final = 24
RESULT_AUDIO_RATE: Final = 48000
