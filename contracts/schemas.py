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

from contracts import facts
from contracts.validate import Schema as Schema
from contracts.validate import conforms as conforms
from contracts.validate import problems as problems

_URI: Final = {"type": "string", "format": "uri"}
_TIME: Final = {"type": "string", "format": "date-time"}
_COUNT: Final = {"type": "integer", "minimum": 0}

#: The task object: create answer, query answer and callback body ([REF], [Q], [I2V]).
TASK: Final[Schema] = {
    "type": "object",
    "required": ["created", "id", "model", "object", "progress", "status", "task_info", "type"],
    "properties": {
        "created": _COUNT,
        "id": {"type": "string", "pattern": facts.TASK_ID_PATTERN},
        "model": {"type": "string", "minLength": 1},
        "object": {"const": "video.generation.task"},
        "progress": {"type": "integer", "minimum": 0, "maximum": 100},
        "status": {"enum": list(facts.TASK_STATUSES)},
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
                "billing_rule": {"enum": list(facts.BILLING_RULES)},
                "credits_reserved": {"type": "number", "minimum": 0},
                "user_group": {"enum": list(facts.USER_GROUPS)},
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
        "model": {"enum": list(facts.MODELS)},
        "prompt": {
            "type": "string",
            "minLength": 1,
            "maxLength": facts.PROMPT_MAX_CHARS,
            "pattern": "\\S",
        },
        "video_urls": {
            "type": "array",
            "minItems": facts.VIDEO_URLS_RANGE[0],
            "maxItems": facts.VIDEO_URLS_RANGE[1],
            "items": {
                "type": "string",
                "pattern": "^https?://[a-z0-9]",
                "maxLength": facts.URL_MAX_CHARS,
            },
        },
        "aspect_ratio": {"enum": [*facts.ASPECT_RATIOS, None]},
        "quality": {"enum": [*facts.QUALITIES, None]},
        "duration": {
            "type": ["integer", "null"],
            "minimum": facts.DURATION_RANGE[0],
            "maximum": facts.DURATION_RANGE[1],
        },
        "model_params": {
            "type": ["object", "null"],
            "properties": {
                "shot_type": {"enum": [*facts.SHOT_TYPES, None]},
                "generate_audio": {"type": ["boolean", "null"]},
            },
        },
        "generate_audio": {"type": ["boolean", "null"]},
        "callback_url": {
            "type": ["string", "null"],
            "pattern": "^https://",
            "maxLength": facts.CALLBACK_URL_MAX_CHARS,
        },
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
