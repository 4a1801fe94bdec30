"""Transport faults as scenario effects, the ways a fault-injecting proxy such as
Toxiproxy breaks a connection (docs/scenarios.md "Scenarios"):

* ``drop_connection``: closed before any byte of an answer;
* ``hang_seconds``: no answer at all for that many real seconds, then closed (a client
  with a shorter timeout gives up first);
* ``reset_connection``: the request is handled, its answer starts, and the connection is
  reset (TCP RST) halfway through the body;
* ``truncate_body``: the request is handled and the answer's headers promise its full
  ``Content-Length``, but only half the body comes before the connection closes.

A create that meets a drop or a hang makes no task; one that meets a reset or a
truncation does, though its client never saw the answer in full.
"""

from __future__ import annotations

from typing import Any, Final

from mock_server.domain.errors import invalid

MAX_HANG_SECONDS: Final = 600.0
BROKEN_BODIES: Final = ("reset_connection", "truncate_body")


def parse_transport(spec: dict[str, Any], values: dict[str, Any]) -> None:
    """Read the transport effects present in ``spec`` into ``values``."""
    for name in ("drop_connection", *BROKEN_BODIES):
        if spec.get(name) is not None:
            if not isinstance(spec[name], bool):
                raise invalid(f"effect.{name}", f"{name} must be true or false")
            values[name] = spec[name]
    hang = spec.get("hang_seconds")
    if hang is not None:
        if (
            isinstance(hang, bool)
            or not isinstance(hang, int | float)
            or not 0 <= hang <= MAX_HANG_SECONDS
        ):
            raise invalid(
                "effect.hang_seconds",
                f"hang_seconds must be a number from 0 to {MAX_HANG_SECONDS:g}",
            )
        values["hang_seconds"] = float(hang)


def broken_body(effect: Any) -> str | None:
    """``reset_connection`` or ``truncate_body`` when the effect breaks an answer's body."""
    return next((name for name in BROKEN_BODIES if getattr(effect, name, False)), None)
