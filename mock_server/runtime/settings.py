"""Every setting of ``wanmock serve``, as one table: its flag, parser, default and help.

The CLI, the ``WANMOCK_*`` environment and the config file all go through the same
parsers, so ``"false"`` means false everywhere and a bad value's error names where it came
from. Each default is written here once; ``Config``'s fields take theirs from this table
(``mock_server/runtime/config.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
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
        "db_wait",
        parse_non_negative_float,
        5.0,
        "seconds to keep trying a --db that cannot be reached at start (PostgreSQL still "
        "starting beside the fake), with backoff; then exit 2",
        metavar="SECONDS",
    ),
    Setting(
        "graceful_timeout",
        parse_non_negative_float,
        10.0,
        "on SIGTERM or SIGINT: seconds for requests in flight to finish before the server "
        "stops anyway (it exits 0 either way)",
        metavar="SECONDS",
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
