"""One frozen ``Config``, read once from flags, ``WANMOCK_*`` variables and a TOML file.

The settings (flag, parser, default) are the rows of ``SETTINGS`` in
``mock_server/runtime/settings.py``; ``Config`` has one field per row and takes its
default from there, so no default is written twice. Precedence: flag, then environment,
then file, then default.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from contracts import facts
from mock_server.domain import catalog
from mock_server.runtime.settings import (
    DEFAULT_CREDITS,
    DEFAULT_KEY,
    SETTINGS,
    SETTINGS_BY_NAME,
    ConfigError,
    Setting,
    parse_credits,
)

_DEFAULT: Final = MappingProxyType({s.name: s.default for s in SETTINGS})


@dataclass(frozen=True)
class Config:
    """Every setting, parsed and frozen: one field per row of ``SETTINGS``, defaulting to
    that row's default, plus ``models`` (the price table, overridable by the file)."""

    host: str = _DEFAULT["host"]
    port: int = _DEFAULT["port"]
    db: str = _DEFAULT["db"]
    db_wait: float = _DEFAULT["db_wait"]
    graceful_timeout: float = _DEFAULT["graceful_timeout"]
    clock: str = _DEFAULT["clock"]
    time_scale: float = _DEFAULT["time_scale"]
    step: float = _DEFAULT["step"]
    profile: str = _DEFAULT["profile"]
    seed: int | None = _DEFAULT["seed"]
    workers: int = _DEFAULT["workers"]
    cache_tasks: int = _DEFAULT["cache_tasks"]
    api_key: tuple[tuple[str, Decimal], ...] = _DEFAULT["api_key"]
    allow_callback_host: tuple[str, ...] = _DEFAULT["allow_callback_host"]
    callback_ca_file: str | None = _DEFAULT["callback_ca_file"]
    callback_wall_timeout: float = _DEFAULT["callback_wall_timeout"]
    control_token: str | None = _DEFAULT["control_token"]
    public_url: str | None = _DEFAULT["public_url"]
    max_body_bytes: int = _DEFAULT["max_body_bytes"]
    reference_seconds: Decimal = _DEFAULT["reference_seconds"]
    media_dir: str = _DEFAULT["media_dir"]
    fetch_references: bool = _DEFAULT["fetch_references"]
    media_manifest: tuple[str, ...] = _DEFAULT["media_manifest"]
    file_quota: int = _DEFAULT["file_quota"]
    file_quota_vip: int = _DEFAULT["file_quota_vip"]
    max_file_bytes: int = _DEFAULT["max_file_bytes"]
    scenarios: str | None = _DEFAULT["scenarios"]
    failure_rate: float = _DEFAULT["failure_rate"]
    latency: tuple[float, float] = _DEFAULT["latency"]
    poll_interval_min: float = _DEFAULT["poll_interval_min"]
    journal_limit: int = _DEFAULT["journal_limit"]
    retention: float = _DEFAULT["retention"]
    models: Mapping[str, catalog.ModelProfile] = field(default_factory=lambda: catalog.MODELS)

    @property
    def keys(self) -> dict[str, Decimal]:
        """Configured keys and their starting credits; the default key when none is given."""
        return dict(self.api_key) if self.api_key else {DEFAULT_KEY: DEFAULT_CREDITS}

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def replace(self, **changes: Any) -> Config:
        return dataclasses.replace(self, **changes)


def _parse(setting: Setting, raw: Any, source: str) -> Any:
    try:
        if setting.repeatable:
            items = raw if isinstance(raw, list) else [p for p in str(raw).split(",") if p.strip()]
            return tuple(setting.parse(str(item)) for item in items)
        return setting.parse(str(raw) if not isinstance(raw, bool) else str(raw).lower())
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"{source}: bad value {raw!r}: {exc}") from None


def _model_overrides(table: Mapping[str, Any], source: str) -> Mapping[str, catalog.ModelProfile]:
    """``[models."<name>"]`` tables may override a model's ``rate``, ``minimum_charge``,
    ``silent_price_factor`` and ``billing_rule``."""
    models = dict(catalog.MODELS)
    for name, overrides in table.items():
        if name not in models or not isinstance(overrides, dict):
            raise ConfigError(f"{source}: [models] has no model {name!r}")
        changes: dict[str, Any] = {}
        for key, value in overrides.items():
            where = f"{source}: models.{name}.{key}"
            if key in ("rate", "minimum_charge", "silent_price_factor"):
                changes[key] = _parse(Setting(key, parse_credits, None, ""), value, where)
            elif key == "billing_rule" and value in facts.BILLING_RULES:
                changes[key] = value
            else:
                raise ConfigError(f"{where}: unknown setting or bad value {value!r}")
        models[name] = dataclasses.replace(models[name], **changes)
    return MappingProxyType(models)


def load_config(
    cli: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | None = None,
) -> Config:
    """Merge the sources; ``cli`` holds raw strings (or lists) for the flags given."""
    cli = cli or {}
    env = os.environ if env is None else env
    config_file = config_file or env.get("WANMOCK_CONFIG")
    file_values: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    if config_file:
        try:
            file_values = tomllib.loads(Path(config_file).read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"--config {config_file}: {exc}") from None
        if "models" in file_values:
            changes["models"] = _model_overrides(file_values.pop("models"), config_file)
    for name in file_values:
        if name.replace("-", "_") not in SETTINGS_BY_NAME:
            raise ConfigError(f"{config_file}: unknown setting {name!r}")
    for setting in SETTINGS:
        file_key = next((k for k in file_values if k.replace("-", "_") == setting.name), None)
        if setting.name in cli and cli[setting.name] not in (None, [], ()):
            changes[setting.name] = _parse(setting, cli[setting.name], setting.flag)
        elif setting.env in env:
            changes[setting.name] = _parse(setting, env[setting.env], setting.env)
        elif file_key is not None:
            changes[setting.name] = _parse(
                setting, file_values[file_key], f"{config_file}: {file_key}"
            )
    return Config(**changes)
