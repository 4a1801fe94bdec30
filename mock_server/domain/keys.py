"""API keys: what each may do (its user group, the models it may use).

A key's money is in the ledger; this is the rest of what ``PUT /_mock/keys`` sets, and
the rules a key spec must follow (a bad one is a 400 naming the field).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mock_server.domain.errors import invalid


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """What a key may do; its money lives in the ledger."""

    user_group: str = "default"
    models: tuple[str, ...] | None = None  # None: every model

    def forbidden(self, all_models: Mapping[str, object]) -> frozenset[str]:
        if self.models is None:
            return frozenset()
        return frozenset(m for m in all_models if m not in self.models)

    def to_json(self) -> dict[str, Any]:
        return {"user_group": self.user_group, "models": list(self.models) if self.models else None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KeyInfo:
        models = data.get("models")
        return cls(data.get("user_group", "default"), tuple(models) if models is not None else None)


def parse_key_spec(
    key: object, spec: object, old: KeyInfo, all_models: Mapping[str, object]
) -> KeyInfo:
    """The key's new settings from ``{"user_group"?, "models"?, "credits"?}``; what the
    spec leaves out stays as ``old`` had it."""
    if not isinstance(key, str) or not key.strip() or any(c.isspace() for c in key):
        raise invalid("keys", f"bad key {key!r}: a key is a non-empty word")
    if not isinstance(spec, Mapping):
        raise invalid(f"keys.{key}", 'each key maps to an object such as {"credits": "100"}')
    group = spec.get("user_group", old.user_group)
    if group not in ("default", "vip"):
        raise invalid(f"keys.{key}.user_group", "user_group must be default or vip")
    models = spec.get("models", old.models)
    if models is not None and (
        not isinstance(models, list | tuple)
        or any(not isinstance(m, str) or m not in all_models for m in models)
    ):
        raise invalid(f"keys.{key}.models", f"models must be a list of: {', '.join(all_models)}")
    return KeyInfo(group, tuple(models) if models is not None else None)
