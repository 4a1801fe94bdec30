"""One frozen ``Config``, read once from flags, ``WANMOCK_*`` variables and a TOML file.

Every setting is a row of ``SETTINGS``: its flag, its parser and its default. The CLI,
the environment and the config file all go through the same parsers, so ``"false"`` means
false everywhere and a bad value's error names where it came from (STYLE.md habit 5).
Precedence: flag, then environment, then file, then default.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from contracts import facts
from mock_server.domain import billing, catalog

DEFAULT_KEY = "sk-wanmock-test"
DEFAULT_CREDITS = Decimal("1000")


class ConfigError(ValueError):
    """A setting with a bad value; the message names the setting, its source and value."""


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("expected true or false")


def parse_positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError("must be a positive number")
    return value


def parse_positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be a positive whole number")
    return value


def parse_host(text: str) -> str:
    """A host as a URL names it: ``[::1]`` and ``::1`` alike, in lower case."""
    host = text.strip().strip("[]").lower()
    if not host or any(c.isspace() or c in "/@?#" for c in host):
        raise ValueError("expected a host name or address, such as 127.0.0.1 or localhost")
    return host


def parse_non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise ValueError("must be a non-negative number")
    return value


def parse_fraction(text: str) -> float:
    value = parse_non_negative_float(text)
    if value > 1:
        raise ValueError("must be between 0 and 1")
    return value


def parse_latency(text: str) -> tuple[float, float]:
    """``0.2`` or ``0.05-0.3``: seconds of real time."""
    low, _, high = text.partition("-")
    bounds = (parse_non_negative_float(low), parse_non_negative_float(high or low))
    if bounds[1] < bounds[0]:
        raise ValueError("MAX must not be below MIN")
    return bounds


def parse_port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError("must be between 0 and 65535")
    return value


def parse_credits(text: str) -> Decimal:
    return billing.parse_credits(text)


def parse_api_key(text: str) -> tuple[str, Decimal]:
    """``KEY`` or ``KEY=CREDITS``."""
    key, _, credits = text.partition("=")
    key = key.strip()
    if not key or any(c.isspace() for c in key):
        raise ValueError("a key must be a non-empty word")
    return key, parse_credits(credits) if credits else DEFAULT_CREDITS


def choice(*options: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return text

    return parse


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str
    repeatable: bool = False
    metavar: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return "WANMOCK_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("host", str, "127.0.0.1", "address to listen on"),
    Setting("port", parse_port, 8080, "port to listen on (0 picks a free one)"),
    Setting(
        "db",
        str,
        ".wanmock/state.db",
        "SQLite file, :memory: to keep nothing, or postgresql://USER:PASSWORD@HOST:PORT/DB "
        "shared by replicas",
    ),
    Setting(
        "clock",
        choice("real", "virtual", "stepped"),
        "real",
        "real: wall time; virtual: moves only when advanced; stepped: moves --step "
        "seconds on every API request",
    ),
    Setting(
        "time_scale",
        parse_positive_float,
        1.0,
        "real clock speed-up (60 runs a 2 min job in 2 s)",
        metavar="F",
    ),
    Setting(
        "step",
        parse_positive_float,
        1.0,
        "seconds a stepped clock moves per request",
        metavar="SECONDS",
    ),
    Setting(
        "profile",
        choice(*catalog.TIMING_PROFILES),
        "realistic",
        "task timings: realistic (tens of seconds queued, minutes processing) or fast",
    ),
    Setting(
        "seed",
        int,
        None,
        "seed for task timings and ids, so a run is reproducible (without it each start "
        "draws a fresh seed and prints it)",
        metavar="N",
    ),
    Setting(
        "workers",
        parse_positive_int,
        1,
        "server processes sharing the --db file: one fake, more polls per second",
        metavar="N",
    ),
    Setting(
        "cache_tasks",
        parse_positive_int,
        5_000,
        "tasks each process keeps in memory; older ones are read from the store",
        metavar="N",
    ),
    Setting(
        "api_key",
        parse_api_key,
        (),
        f"an API key and its credits (default {DEFAULT_KEY}={DEFAULT_CREDITS}); repeatable",
        repeatable=True,
        metavar="KEY[=CREDITS]",
    ),
    Setting(
        "allow_callback_host",
        parse_host,
        (),
        "let callbacks reach this host even if internal (a local receiver); repeatable",
        repeatable=True,
        metavar="HOST",
    ),
    Setting(
        "callback_ca_file", str, None, "PEM file of a CA that callback TLS trusts", metavar="PEM"
    ),
    Setting(
        "callback_wall_timeout",
        parse_positive_float,
        10.0,
        "virtual/stepped clock: real seconds to wait for a callback answer before the "
        "attempt counts as the 10 s timeout",
        metavar="SECONDS",
    ),
    Setting(
        "control_token",
        str,
        None,
        "require this bearer token on /_mock (else loopback only)",
        metavar="TOKEN",
    ),
    Setting(
        "public_url",
        str,
        None,
        "base URL that result links use (default: the listen address)",
        metavar="URL",
    ),
    Setting(
        "max_body_bytes",
        int,
        1_048_576,
        "largest JSON body accepted (bigger gets 413)",
        metavar="BYTES",
    ),
    Setting(
        "reference_seconds",
        parse_credits,
        catalog.DEFAULT_REFERENCE_SECONDS,
        "duration assumed for a reference video the fake cannot probe",
        metavar="SECONDS",
    ),
    Setting(
        "media_dir",
        str,
        ".wanmock/media",
        "where uploaded files and the cache of rendered result videos live",
        metavar="DIR",
    ),
    Setting(
        "fetch_references",
        parse_bool,
        False,
        "download and probe reference URLs the fake does not know (off: no outbound requests)",
    ),
    Setting(
        "media_manifest",
        str,
        (),
        "JSON file of known reference URLs (URL -> duration, format, size); repeatable",
        repeatable=True,
        metavar="FILE",
    ),
    Setting(
        "file_quota",
        parse_positive_int,
        facts.FILE_QUOTA,
        "files a key of the default group may keep uploaded",
        metavar="N",
    ),
    Setting(
        "file_quota_vip",
        parse_positive_int,
        facts.FILE_QUOTA_VIP,
        "files a key of the vip group may keep uploaded",
        metavar="N",
    ),
    Setting(
        "max_file_bytes",
        parse_positive_int,
        facts.MAX_FILE_BYTES,
        "largest upload the file API accepts (bigger gets business code 40001)",
        metavar="BYTES",
    ),
    Setting(
        "scenarios",
        str,
        None,
        "JSON or TOML file of scenario rules loaded at start and after each reset",
        metavar="FILE",
    ),
    Setting(
        "failure_rate",
        parse_fraction,
        0.0,
        "share of tasks that fail at random (seeded by --seed)",
        metavar="P",
    ),
    Setting(
        "latency",
        parse_latency,
        (0.0, 0.0),
        "extra real-time delay of each API answer, drawn uniformly from MIN-MAX seconds (seeded)",
        metavar="MIN[-MAX]",
    ),
    Setting(
        "poll_interval_min",
        parse_non_negative_float,
        1.0,
        "polls of one task closer than this many wall seconds get a contract note in the journal",
        metavar="SECONDS",
    ),
    Setting(
        "retention",
        parse_non_negative_float,
        0.0,
        "purge settled tasks that ended more than DAYS ago (server time), with their journal"
        " rows, callback records and unused rendered results; ledger entries stay. 0: never",
        metavar="DAYS",
    ),
    Setting(
        "journal_limit",
        parse_positive_int,
        10_000,
        "journal entries kept in the store",
        metavar="N",
    ),
)
SETTINGS_BY_NAME = MappingProxyType({s.name: s for s in SETTINGS})


@dataclass(frozen=True)
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    db: str = ".wanmock/state.db"
    clock: str = "real"
    time_scale: float = 1.0
    step: float = 1.0
    profile: str = "realistic"
    seed: int | None = None
    workers: int = 1
    cache_tasks: int = 5_000
    api_key: tuple[tuple[str, Decimal], ...] = ()
    allow_callback_host: tuple[str, ...] = ()
    callback_ca_file: str | None = None
    callback_wall_timeout: float = 10.0
    control_token: str | None = None
    public_url: str | None = None
    max_body_bytes: int = 1_048_576
    reference_seconds: Decimal = catalog.DEFAULT_REFERENCE_SECONDS
    media_dir: str = ".wanmock/media"
    fetch_references: bool = False
    media_manifest: tuple[str, ...] = ()
    file_quota: int = facts.FILE_QUOTA
    file_quota_vip: int = facts.FILE_QUOTA_VIP
    max_file_bytes: int = facts.MAX_FILE_BYTES
    scenarios: str | None = None
    failure_rate: float = 0.0
    latency: tuple[float, float] = (0.0, 0.0)
    poll_interval_min: float = 1.0
    journal_limit: int = 10_000
    retention: float = 0.0
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
