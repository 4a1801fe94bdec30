"""A small JSON Schema validator: the subset ``contracts/schemas.py`` uses, with readable paths.

Why not the ``jsonschema`` package: the contract needs type (one or a list), enum, const,
required, properties, additionalProperties: false, items, min/max items and lengths,
minimum/maximum, pattern, and the uri and date-time formats; written out here it names
each problem by its JSON path in the words a report shows, and ``contracts`` needs no
dependency for it. Extra object members are allowed unless a schema forbids them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

Schema = Mapping[str, Any]

_TYPES: Final = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
}


def _format_ok(fmt: str, value: str) -> bool:
    if fmt == "uri":
        parts = urlsplit(value)
        return bool(parts.scheme and parts.netloc) and not any(c.isspace() for c in value)
    if fmt == "date-time":
        try:
            return datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            return False
    return True


def problems(value: Any, schema: Schema, path: str = "$") -> list[str]:
    """Every way ``value`` breaks ``schema``, each as ``"<json path>: <what is wrong>"``.

    Extra object members are allowed unless the schema says otherwise: clients must
    tolerate fields the docs do not list, so a provider may send them.
    """
    found: list[str] = []
    if "const" in schema and value != schema["const"]:
        found.append(f"{path}: expected {schema['const']!r}, got {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: expected one of {schema['enum']}, got {value!r}")
    expected = schema.get("type")
    allowed = [expected] if isinstance(expected, str) else expected or []
    if allowed and not any(_TYPES[name](value) for name in allowed):
        wanted = " or ".join(allowed)
        return [*found, f"{path}: expected {wanted}, got {type(value).__name__} {value!r:.80}"]
    if isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                found.append(f"{path}: missing required field {name!r}")
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                found += problems(value[name], sub, f"{path}.{name}")
        if schema.get("additionalProperties") is False:
            extra = sorted(set(value) - set(schema.get("properties", {})))
            found += [f"{path}: unexpected field {name!r}" for name in extra]
    elif isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            found.append(f"{path}: expected at least {schema['minItems']} items, got {len(value)}")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            found.append(f"{path}: expected at most {schema['maxItems']} items, got {len(value)}")
        if "items" in schema:
            for index, item in enumerate(value):
                found += problems(item, schema["items"], f"{path}[{index}]")
    elif isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            found.append(f"{path}: expected at least {schema['minLength']} characters")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{path}: expected at most {schema['maxLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{path}: {value!r:.80} does not match {schema['pattern']!r}")
        if "format" in schema and not _format_ok(schema["format"], value):
            found.append(f"{path}: {value!r:.80} is not a valid {schema['format']}")
    elif _TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{path}: {value} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{path}: {value} is above the maximum {schema['maximum']}")
    return found


def conforms(value: Any, schema: Schema) -> bool:
    """Whether ``value`` has the shape ``schema`` describes."""
    return not problems(value, schema)
