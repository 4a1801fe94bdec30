"""The real API's facts, once: limits, enums, failure codes, error types, prices.

Everything here is what EvoLink's Wan2.6 reference-video API documents (or what its own
client and sister pages show), each line citing a ``contracts/SOURCES.md`` key. The
contract's schemas, strategies, checks and pricing oracle read these, and so does the
fake (``mock_server.domain``): a fact lives in the contract and the fake follows it,
never the other way round. What the fake chooses where the API is silent (timings,
frame rate, the 413 text) stays in the fake.

This module imports nothing but the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Final

# --- Create request (SOURCES.md "Create request") ----------------------------------

#: The models the endpoint serves ([REF], [PARAMS]); the first is the default.
MODELS: Final[tuple[str, ...]] = ("wan2.6-reference-video", "wan2.6-reference-video-flash")
#: What an unknown model's 404 suggests instead ([I2V]).
DEFAULT_MODEL: Final = MODELS[0]
#: ``quality`` values, the default first ([REF]).
QUALITIES: Final[tuple[str, ...]] = ("720p", "1080p")
DEFAULT_QUALITY: Final = "720p"
#: ``aspect_ratio`` values for both qualities, the default first ([REF]).
ASPECT_RATIOS: Final[tuple[str, ...]] = ("16:9", "9:16", "1:1", "4:3", "3:4")
DEFAULT_ASPECT_RATIO: Final = "16:9"
#: ``model_params.shot_type`` values ([PARAMS]).
SHOT_TYPES: Final[tuple[str, ...]] = ("single", "multi")
#: ``duration``: integer output seconds, inclusive range and default ([REF], [PARAMS]).
DURATION_RANGE: Final[tuple[int, int]] = (2, 10)
DEFAULT_DURATION: Final = 5
#: ``prompt``: at most this many characters ([REF], [PARAMS] ``maxLength``).
PROMPT_MAX_CHARS: Final = 1500
#: ``video_urls``: how many references, inclusive ([REF] "Maximum 3 videos").
VIDEO_URLS_RANGE: Final[tuple[int, int]] = (1, 3)
#: Schemes a reference URL may use ([REF] "Supports HTTP or HTTPS").
VIDEO_URL_SCHEMES: Final[tuple[str, ...]] = ("http", "https")
#: Longest reference URL: the callback limit applied to references (a **choice** in
#: SOURCES.md "Create request", kept here because the contract's strategies draw it).
URL_MAX_CHARS: Final = 2048
#: ``callback_url``: HTTPS only, at most 2048 characters ([REF] "Security Restrictions").
CALLBACK_URL_SCHEMES: Final[tuple[str, ...]] = ("https",)
CALLBACK_URL_MAX_CHARS: Final = 2048
#: Every documented top-level field of the create body ([REF], [PARAMS]).
CREATE_FIELDS: Final = frozenset(
    {
        "model",
        "prompt",
        "video_urls",
        "aspect_ratio",
        "quality",
        "duration",
        "model_params",
        "callback_url",
        "generate_audio",
    }
)

# --- Task object (SOURCES.md "Task object") ----------------------------------------

#: ``status`` values in lifecycle order ([Q] enum; no ``cancelled``, SOURCES.md "Cancel").
TASK_STATUSES: Final[tuple[str, ...]] = ("pending", "processing", "completed", "failed")
#: The ended states: a task never leaves them ([Q]).
TERMINAL_STATUSES: Final = frozenset({"completed", "failed"})
#: ``usage.billing_rule`` values ([I2V] ``Usage``).
BILLING_RULES: Final[tuple[str, ...]] = ("per_call", "per_token", "per_second")
#: ``usage.user_group`` values ([I2V] ``Usage``).
USER_GROUPS: Final[tuple[str, ...]] = ("default", "vip")
#: Result links stay valid this long after completion ([REF] "valid for 24 hours").
RESULT_TTL_SECONDS: Final = 24 * 3600
#: The task id: ``task-unified-<created>-<8 of [a-z0-9]>`` ([REF], [Q] example).
TASK_ID_PATTERN: Final = "^task-unified-[0-9]{1,12}-[a-z0-9]{8}$"

# --- Failed tasks (SOURCES.md "Failed tasks") --------------------------------------

#: Failed-task ``error.code`` -> the message the fake gives it. Codes: [CLIENT]
#: ``TaskErrorCode`` plus the docs' extra three (``model_unavailable``, ``upstream_error``,
#: ``rate_limited``); the messages paraphrase [CLIENT]'s descriptions (no server text is
#: documented).
TASK_ERRORS: Final = MappingProxyType(
    {
        "content_policy_violation": "The content may violate the content policy",
        "invalid_parameters": "Invalid parameters for this model",
        "image_dimension_mismatch": "Image dimensions do not match the requirements",
        "image_processing_error": "The input media could not be processed",
        "request_cancelled": "Task was cancelled",
        "resource_not_found": "A reference video could not be downloaded",
        "generation_timeout": "Video generation timed out",
        "quota_exceeded": "Quota exceeded",
        "resource_exhausted": "Resources are exhausted, try again later",
        "generation_failed_no_content": "The model generated no content",
        "service_error": "Video generation failed",
        "service_unavailable": "The service is temporarily unavailable",
        "unknown_error": "An unknown error occurred",
        "model_unavailable": "The model is temporarily unavailable",
        "upstream_error": "The upstream service returned an error",
        "rate_limited": "Too many requests to the upstream service",
    }
)
#: Every documented failed-task code.
TASK_ERROR_CODES: Final = frozenset(TASK_ERRORS)
#: The code of a cancelled task (SOURCES.md "Cancel").
CANCEL_CODE: Final = "request_cancelled"
#: The message of a failure whose code has none of its own.
GENERIC_FAILURE_MESSAGE: Final = TASK_ERRORS["service_error"]


def task_error_message(code: str) -> str:
    """The message a failed task with ``code`` carries (the generic one if unknown)."""
    return TASK_ERRORS.get(code, GENERIC_FAILURE_MESSAGE)


# --- HTTP errors (SOURCES.md "HTTP errors") ----------------------------------------

#: ``error.type`` by HTTP status: the documented nine ([Q], [I2V]).
ERROR_TYPES: Final = MappingProxyType(
    {
        400: "invalid_request_error",
        401: "authentication_error",
        402: "insufficient_quota_error",
        403: "permission_error",
        404: "not_found_error",
        429: "rate_limit_error",
        500: "internal_server_error",
        502: "upstream_error",
        503: "service_unavailable_error",
    }
)
#: Statuses EvoLink's own client retries ([CLIENT] ``RETRYABLE_STATUS_CODES``).
RETRYABLE_STATUSES: Final = frozenset({429, 502, 503})
#: Seconds the documented 429 and 503 bodies tell a client to wait ([Q], [I2V]).
RETRY_AFTER_SECONDS: Final = MappingProxyType({429: 60, 503: 30})
#: Where a 402 sends the user ([Q]).
BILLING_URL: Final = "https://evolink.ai/dashboard/billing"


def retry_suggestion(seconds: int | float | str) -> str:
    """The documented ``fallback_suggestion`` wording for a wait: "retry after N seconds"."""
    return f"retry after {seconds} seconds"


#: status -> (message, fallback_suggestion) of the docs' example bodies ([Q], [I2V]).
HTTP_ERRORS: Final = MappingProxyType(
    {
        400: ("Invalid request format", None),
        401: ("Invalid or expired token", None),
        402: ("Insufficient quota", BILLING_URL),
        403: ("Access denied", None),
        404: ("Task not found or expired", None),
        429: ("Rate limit exceeded", retry_suggestion(RETRY_AFTER_SECONDS[429])),
        500: ("Internal server error", "try again later"),
        502: ("Upstream service error", "try again later"),
        503: ("Service temporarily unavailable", retry_suggestion(RETRY_AFTER_SECONDS[503])),
    }
)
#: The documented texts of particular errors ([Q], [I2V]).
TASK_NOT_FOUND_MESSAGE: Final = "Task not found or expired"
INVALID_TASK_ID_MESSAGE: Final = "Invalid task ID format"
MODEL_NOT_FOUND_MESSAGE: Final = "Specified model not found"
MODEL_FORBIDDEN_MESSAGE: Final = "Access denied for this model"
CREATE_AUTH_MESSAGE: Final = "Invalid authentication credentials"
QUERY_AUTH_MESSAGE: Final = HTTP_ERRORS[401][0]
INSUFFICIENT_QUOTA_MESSAGE: Final = HTTP_ERRORS[402][0]

# --- Billing and prices (SOURCES.md "Billing and prices") --------------------------


@dataclass(frozen=True)
class ModelPrice:
    """A model's published price: credits per billed second at 720p, and the factor for a
    silent video (flash only, ``None`` where audio cannot be turned off) ([PRICE])."""

    rate: Decimal
    silent_factor: Decimal | None = None


#: Published rates ([PRICE], captured 2026-10-10).
PRICES: Final = MappingProxyType(
    {
        "wan2.6-reference-video": ModelPrice(Decimal("4.76")),
        "wan2.6-reference-video-flash": ModelPrice(Decimal("2.38"), Decimal("0.5")),
    }
)
#: The published ``billing_rule`` ([PRICE] lists ``per_second``).
BILLING_RULE: Final = "per_second"
#: Price multiplier by quality ([PRICE]: 1080p x1.67).
QUALITY_FACTOR: Final = MappingProxyType({"720p": Decimal("1"), "1080p": Decimal("1.67")})
#: The least a successful task costs ([PRICE]).
MINIMUM_CHARGE: Final = Decimal("9")
#: Input seconds each reference counts for at most, by how many there are ([REF]).
INPUT_CAPS: Final = MappingProxyType({1: Decimal("5"), 2: Decimal("2.5"), 3: Decimal("1.65")})

# --- Media and files (SOURCES.md "Media", "Files") ---------------------------------

#: Reference videos: container formats, length range in seconds, largest size ([REF]).
REFERENCE_FORMATS: Final[tuple[str, ...]] = ("mp4", "mov")
REFERENCE_SECONDS_RANGE: Final[tuple[Decimal, Decimal]] = (Decimal("2"), Decimal("30"))
#: Largest reference video and largest upload: 100 MB ([REF], [SKILL]).
MAX_FILE_BYTES: Final = 100 * 1024 * 1024
#: Output pixel sizes per (quality, aspect ratio) ([WAN]).
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
#: Uploaded files expire this long after upload ([F-STREAM], [F-DOCS], [SKILL]).
UPLOAD_TTL_SECONDS: Final = 72 * 3600
#: Files a key may keep, by user group ([SKILL]; the quota page's 2000 contradicts it).
FILE_QUOTA: Final = 100
FILE_QUOTA_VIP: Final = 500
#: File list page size: default and maximum ([CLIENT] ``file-client.ts``, [SKILL]).
FILE_PAGE_SIZE: Final[tuple[int, int]] = (20, 100)
#: Image types the file service accepts ([F-SKILL]); any ``audio/*`` and ``video/*`` too.
UPLOAD_IMAGE_TYPES: Final[tuple[str, ...]] = ("image/jpeg", "image/png", "image/gif", "image/webp")
#: File-service business codes ([SKILL] "File API Error Codes").
FILE_ERROR_CODES: Final = MappingProxyType(
    {
        40001: "file too large",
        40002: "file type not allowed",
        40003: "quota exceeded",
        40004: "URL download failed",
        50001: "storage service error",
    }
)

# --- Callbacks (SOURCES.md "Callbacks") --------------------------------------------

#: How long the server waits for a callback's answer ([REF] "Timeout: 10 seconds").
CALLBACK_TIMEOUT_SECONDS: Final = 10.0
#: Delay before each retry after a failed attempt: at most 4 attempts ([REF]).
CALLBACK_RETRY_DELAYS: Final[tuple[float, ...]] = (1.0, 2.0, 4.0)
