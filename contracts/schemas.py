"""The real API's shapes as JSON Schema (the 2020-12 dialect OpenAPI 3.1 uses), in one place.

Every check in ``contracts/checks/``, the provider verifier, the drift test and
``contracts/openapi.yaml`` read their shapes from here: ``tests/test_openapi.py`` proves the
document's component schemas equal these dictionaries, so the two cannot drift apart.

Plain dictionaries, checked by ``contracts/validate.py`` (why not the ``jsonschema``
package is said there). Facts cite ``contracts/SOURCES.md`` keys.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Final

from contracts.validate import Schema as Schema
from contracts.validate import conforms as conforms
from contracts.validate import problems as problems

#: ``status`` values in lifecycle order ([Q] enum; no ``cancelled``, SOURCES.md "Cancel").
TASK_STATUSES: Final = ("pending", "processing", "completed", "failed")
#: The ended states: a task never leaves them.
TERMINAL_STATUSES: Final = frozenset({"completed", "failed"})
#: ``error.type`` by HTTP status, as documented ([Q], [I2V]; SOURCES.md "HTTP errors").
ERROR_TYPE_BY_STATUS: Final = MappingProxyType(
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
#: Documented failed-task codes ([CLIENT] ``TaskErrorCode`` plus the docs' extra three).
TASK_ERROR_CODES: Final = frozenset(
    {
        "content_policy_violation",
        "invalid_parameters",
        "image_dimension_mismatch",
        "image_processing_error",
        "request_cancelled",
        "resource_not_found",
        "generation_timeout",
        "quota_exceeded",
        "resource_exhausted",
        "generation_failed_no_content",
        "service_error",
        "service_unavailable",
        "unknown_error",
        "model_unavailable",
        "upstream_error",
        "rate_limited",
    }
)
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

_URI: Final = {"type": "string", "format": "uri"}
_TIME: Final = {"type": "string", "format": "date-time"}
_COUNT: Final = {"type": "integer", "minimum": 0}

#: The task object: create answer, query answer and callback body ([REF], [Q], [I2V]).
TASK: Final[Schema] = {
    "type": "object",
    "required": ["created", "id", "model", "object", "progress", "status", "task_info", "type"],
    "properties": {
        "created": _COUNT,
        "id": {"type": "string", "pattern": "^task-unified-[0-9]{1,12}-[a-z0-9]{8}$"},
        "model": {"type": "string", "minLength": 1},
        "object": {"const": "video.generation.task"},
        "progress": {"type": "integer", "minimum": 0, "maximum": 100},
        "status": {"enum": list(TASK_STATUSES)},
        "results": {"type": "array", "minItems": 1, "items": _URI},
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "type": {"type": "string"},
            },
        },
        "task_info": {
            "type": "object",
            "required": ["can_cancel"],
            "properties": {"can_cancel": {"type": "boolean"}, "estimated_time": _COUNT},
        },
        "type": {"const": "video"},
        "usage": {
            "type": "object",
            "properties": {
                "billing_rule": {"enum": ["per_call", "per_token", "per_second"]},
                "credits_reserved": {"type": "number", "minimum": 0},
                "user_group": {"enum": ["default", "vip"]},
            },
        },
    },
}

#: Every HTTP error of the generation API ([I2V] ``ErrorResponse``, [Q], [CLIENT]).
API_ERROR: Final[Schema] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "type"],
            "properties": {
                "code": {"type": "integer"},
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": "string"},
                "fallback_suggestion": {"type": "string"},
            },
        }
    },
}

#: The create request body ([REF], [PARAMS]; SOURCES.md "Create request"). Optional fields
#: may also be ``null``, meaning "use the default" (the fake's documented choice).
CREATE_REQUEST: Final[Schema] = {
    "type": "object",
    "required": ["model", "prompt", "video_urls"],
    "properties": {
        "model": {"enum": ["wan2.6-reference-video", "wan2.6-reference-video-flash"]},
        "prompt": {"type": "string", "minLength": 1, "maxLength": 1500, "pattern": "\\S"},
        "video_urls": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "items": {"type": "string", "pattern": "^https?://[a-z0-9]", "maxLength": 2048},
        },
        "aspect_ratio": {"enum": ["16:9", "9:16", "1:1", "4:3", "3:4", None]},
        "quality": {"enum": ["720p", "1080p", None]},
        "duration": {"type": ["integer", "null"], "minimum": 2, "maximum": 10},
        "model_params": {
            "type": ["object", "null"],
            "properties": {
                "shot_type": {"enum": ["single", "multi", None]},
                "generate_audio": {"type": ["boolean", "null"]},
            },
        },
        "generate_audio": {"type": ["boolean", "null"]},
        "callback_url": {"type": ["string", "null"], "pattern": "^https://", "maxLength": 2048},
    },
}

#: ``data`` of an upload answer ([F-STREAM]).
FILE_RECORD: Final[Schema] = {
    "type": "object",
    "required": [
        "file_id",
        "file_name",
        "original_name",
        "file_size",
        "mime_type",
        "upload_path",
        "file_url",
        "download_url",
        "upload_time",
        "expires_at",
    ],
    "properties": {
        "file_id": {"type": "string", "minLength": 1},
        "file_name": {"type": "string"},
        "original_name": {"type": "string"},
        "file_size": _COUNT,
        "mime_type": {"type": "string"},
        "upload_path": {"type": "string"},
        "file_url": _URI,
        "download_url": _URI,
        "upload_time": _TIME,
        "expires_at": _TIME,
    },
}


def _file_success(data: Schema, *, msg: bool = True) -> Schema:
    required = ["success", "code", "data"] + (["msg"] if msg else [])
    properties: dict[str, Any] = {"success": {"const": True}, "code": {"const": 200}, "data": data}
    properties["msg"] = {"type": "string"}
    return {"type": "object", "required": required, "properties": properties}


#: A successful upload (stream, base64 or URL) ([F-STREAM], [F-DOCS]).
FILE_UPLOADED: Final[Schema] = _file_success(FILE_RECORD)
#: A page of a key's files ([CLIENT] ``file-client.ts``).
FILE_LIST: Final[Schema] = _file_success(
    {
        "type": "object",
        "required": ["total", "files"],
        "properties": {
            "total": _COUNT,
            "files": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["file_id", "file_name"],
                    "properties": {
                        "file_id": {"type": "string"},
                        "file_name": {"type": "string"},
                        "file_size": _COUNT,
                        "upload_time": _TIME,
                    },
                },
            },
        },
    },
    msg=False,
)
#: A key's file quota; the documented body has no ``msg`` ([F-DOCS] quota page).
FILE_QUOTA: Final[Schema] = _file_success(
    {
        "type": "object",
        "required": [
            "user_group",
            "used_files",
            "max_files",
            "remain_files",
            "is_custom",
            "quota_reason",
        ],
        "properties": {
            "user_group": {"type": "string"},
            "used_files": _COUNT,
            "max_files": _COUNT,
            "remain_files": _COUNT,
            "is_custom": {"type": "boolean"},
            "quota_reason": {"type": "string"},
        },
    },
    msg=False,
)
#: A deleted file: only the envelope is known ([CLIENT] treats ``success`` as the answer).
FILE_DELETED: Final[Schema] = {
    "type": "object",
    "required": ["success", "code"],
    "properties": {"success": {"const": True}, "code": {"const": 200}, "msg": {"type": "string"}},
}
#: Every error of the file service ([SKILL], [CLIENT]; SOURCES.md "Files").
FILE_ERROR: Final[Schema] = {
    "type": "object",
    "required": ["success", "code", "msg"],
    "properties": {
        "success": {"const": False},
        "code": {"type": "integer"},
        "msg": {"type": "string"},
    },
}
#: ``GET /v1/credits`` ([CREDITS]; SOURCES.md "Contract and provider verification").
CREDITS: Final[Schema] = {
    "type": "object",
    "required": ["success", "data"],
    "properties": {
        "success": {"const": True},
        "message": {"type": "string"},
        "data": {
            "type": "object",
            "required": ["token"],
            "properties": {
                "token": {
                    "type": "object",
                    "required": ["remaining_credits"],
                    "properties": {
                        "remaining_credits": {"type": "number"},
                        "unlimited_credits": {"type": "boolean"},
                        "used_credits": {"type": "number"},
                    },
                },
                "user": {
                    "type": "object",
                    "properties": {
                        "remaining_credits": {"type": "number"},
                        "used_credits": {"type": "number"},
                    },
                },
            },
        },
    },
}

#: Every named shape, as ``contracts/openapi.yaml`` names its components.
SCHEMAS: Final = MappingProxyType(
    {
        "TaskObject": TASK,
        "ErrorResponse": API_ERROR,
        "CreateRequest": CREATE_REQUEST,
        "FileRecord": FILE_RECORD,
        "FileUploaded": FILE_UPLOADED,
        "FileList": FILE_LIST,
        "FileQuota": FILE_QUOTA,
        "FileDeleted": FILE_DELETED,
        "FileError": FILE_ERROR,
        "Credits": CREDITS,
    }
)
