"""Client verification: does a client of the Wan2.6 API survive every server behaviour the
contract allows? (docs/verify-client.md "Verify a client"; SOURCES.md "Client verification".)

A client under test is a Python callable ``run(base_url, api_key, request) -> Outcome``
or a command (``CommandClient``) that reads ``WANMOCK_BASE_URL``, ``WANMOCK_API_KEY`` and
``WANMOCK_REQUEST`` and prints one JSON line. ``verify_client(client, Options(...))``
returns a ``Result`` whose ``status`` is the exit status of ``wanmock verify-client``.

Only ``Outcome`` and the world's plain data load eagerly; the verifier (hypothesis, the
fake, the receiver) loads on first use, so ``wanmock serve`` stays quick to start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts.client.outcome import BadOutcome, Outcome

if TYPE_CHECKING:
    from contracts.client.options import Options, Result
    from contracts.client.runner import CommandClient
    from contracts.client.verify import verify_client

__all__ = ["BadOutcome", "CommandClient", "Options", "Outcome", "Result", "verify_client"]

_LAZY = {
    "CommandClient": "contracts.client.runner",
    "Options": "contracts.client.options",
    "Result": "contracts.client.options",
    "verify_client": "contracts.client.verify",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'contracts.client' has no attribute {name!r}")
