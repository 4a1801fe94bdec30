"""What an id taken from a URL may look like by the time it reaches a store.

A path parameter is any text the client chose; a store cannot hold all of it
(PostgreSQL text refuses NUL) and need not compare megabytes of it. Every id the fake
hands out is short printable ASCII, so an id with a NUL or past ``MAX_ID_CHARS`` names
nothing; ``storable`` turns it into text every store holds that still names nothing,
and the route answers it as it answers any other unknown id.
"""

from __future__ import annotations

import re
from typing import Final

# Far longer than any id the fake makes (task ids are under 60 characters).
MAX_ID_CHARS: Final = 512
# The ids of scenario rules: "rule-" and the store's row number (a 63-bit integer).
RULE_ID: Final = re.compile(r"rule-([0-9]{1,18})")


def storable(text: str) -> str:
    """``text`` if a store can hold it, else text that can name no id either."""
    if "\x00" not in text and len(text) <= MAX_ID_CHARS:
        return text
    return text.replace("\x00", "\ufffd")[:MAX_ID_CHARS]


def rule_id(number: int) -> str:
    """The id of the rule the store keeps as row ``number``."""
    return f"rule-{number}"


def rule_number(text: str) -> int | None:
    """The row a rule id (``rule-N``) names; None for any other text, which names no rule."""
    match = RULE_ID.fullmatch(text)
    return int(match[1]) if match else None
