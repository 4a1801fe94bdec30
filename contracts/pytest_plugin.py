"""pytest fixtures for code that calls EvoLink's Wan2.6 API: ``wanmock``, ``wanmock_server``.

Installed with the package (entry point ``pytest11``), so a test file needs no conftest:

    def test_my_client(wanmock):
        video = my_client.generate("A person dancing", ["https://example.com/ref.mp4"])
        ...

The plugin only builds and tears down public objects of ``mock_server.testing.embedded``; heavy
imports happen when a fixture is first used.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

MARKER = "wanmock_contract"


# Packages of this distribution whose asserts pytest need not rewrite: the fake itself.
NOT_REWRITTEN = ("mock_server",)


def leave_unrewritten(pluginmanager: pytest.PytestPluginManager) -> None:
    """Take the fake's modules off pytest's assertion-rewriting list.

    pytest rewrites the asserts of every package of a plugin's distribution, so that a
    failing assert in a test helper explains itself. ``mock_server`` holds no test
    helpers, and a rewritten module ignores its ordinary bytecode: where Python writes
    none (``PYTHONDONTWRITEBYTECODE``, common in CI images, or a read-only
    site-packages) every session parses, rewrites and compiles the fake's ~90 modules
    again, about 100 ms of the first test that uses it. pytest has no public way to
    unmark a package, so this edits the hook's set of marked names, and does nothing
    where a pytest version has none (rewriting then goes on as before)."""
    hook = getattr(pluginmanager, "rewrite_hook", None)
    marked = getattr(hook, "_must_rewrite", None)
    cache = getattr(hook, "_marked_for_rewrite_cache", None)
    if isinstance(marked, set) and isinstance(cache, dict):
        marked.difference_update(NOT_REWRITTEN)
        cache.clear()


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    # The first hook called once the plugin is registered: before conftests and tests.
    leave_unrewritten(pluginmanager)
    group = parser.getgroup("wanmock", "EvoLink Wan2.6 fake")
    group.addoption(
        "--wan-base-url",
        default=None,
        help=f"run tests marked {MARKER} against this real endpoint instead of the fake",
    )
    group.addoption("--wan-api-key", default=None, help="API key for --wan-base-url")
    group.addoption(
        "--wan-allow-spend",
        default="0",
        metavar="CREDITS",
        help="credits the real-endpoint tests may spend (default 0: free checks only)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}: a contract test that can also run against the real endpoint (--wan-base-url)",
    )


def _trusting(sink: Any) -> dict[str, Any]:
    """Settings that let a fake deliver callbacks to the HTTPS ``callback_sink``."""
    return {"allow_callback_host": ("127.0.0.1", "localhost"), "callback_ca_file": sink.ca_file}


@pytest.fixture(scope="session")
def _wanmock_sink_session() -> Iterator[Any]:
    from mock_server.testing.receiver import Receiver

    with Receiver() as receiver:
        yield receiver


@pytest.fixture
def callback_sink(_wanmock_sink_session: Any) -> Any:
    """An HTTPS callback receiver on 127.0.0.1 (``.url``, ``.calls``, ``.set_script``),
    emptied for each test; the ``wanmock`` and ``wanmock_server`` fakes trust it."""
    from mock_server.testing.receiver import Script

    _wanmock_sink_session.clear(Script.succeed())
    return _wanmock_sink_session


@pytest.fixture
def wanmock(request: pytest.FixtureRequest) -> Iterator[Any]:
    """An isolated in-process fake with a virtual clock; httpx calls to the real hosts
    (api.evolink.ai, files-api.evolink.ai) reach it unchanged."""
    from mock_server.testing.embedded import EmbeddedFake

    options = {}
    if "callback_sink" in request.fixturenames:
        options = _trusting(request.getfixturevalue("callback_sink"))
    fake = EmbeddedFake(**options)
    fake.route()
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture(scope="session")
def _wanmock_server_session(_wanmock_sink_session: Any) -> Iterator[Any]:
    from mock_server.testing.embedded import ServerThread

    server = ServerThread(**_trusting(_wanmock_sink_session))
    try:
        yield server
    finally:
        server.close()


@dataclass(frozen=True)
class RealEndpoint:
    """The real API, for tests marked ``wanmock_contract`` run with ``--wan-base-url``."""

    base_url: str
    api_key: str
    allow_spend: str
    is_real: bool = True


@pytest.fixture
def wanmock_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The fake on a real port (``.base_url``, ``.api_key``), one per session, reset per
    test. In a ``wanmock_contract`` test run with ``--wan-base-url`` it is the real API."""
    real_url = request.config.getoption("--wan-base-url")
    if real_url and request.node.get_closest_marker(MARKER):
        key = request.config.getoption("--wan-api-key")
        if not key:
            pytest.fail("--wan-base-url needs --wan-api-key")
        yield RealEndpoint(real_url.rstrip("/"), key, request.config.getoption("--wan-allow-spend"))
        return
    server = request.getfixturevalue("_wanmock_server_session")
    server.reset()
    yield server
