"""Fixtures for wanmock's own tests: a fake on a virtual clock, in process or on a port."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mock_server.api.app import create_app
from mock_server.runtime.config import Config
from mock_server.service.fake import Fake

pytest_plugins = ["pytester", "tests.outage"]

# Modules whose tests run real processes or wait on the wall clock, longest first
# (``--durations``). ``make test`` spreads the tests over workers (pytest-xdist); started
# first, these overlap with the many short ones instead of ending the run alone.
LONG_FIRST = (
    "test_ci_recipe.py",
    "test_provider_concurrency.py",
    "test_readme.py",
    "test_client_verification.py",
    "test_verify_provider.py",
    "test_processes.py",
    "test_replicas.py",
    "test_pytest_plugin.py",
    "test_reports.py",
    "test_ui_browser.py",
)

KEY = "sk-wanmock-test"
AUTH = {"Authorization": f"Bearer {KEY}"}
BODY: dict[str, Any] = {
    "model": "wan2.6-reference-video",
    "prompt": "A person dancing",
    "video_urls": ["https://cdn.example.com/ref.mp4"],
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first, in ``LONG_FIRST`` order; the rest keep theirs (a stable sort)."""
    rank = {name: at for at, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def virtual_config(**overrides: Any) -> Config:
    """A config for tests: nothing on disk, time stands still until advanced."""
    return Config(**{"db": ":memory:", "clock": "virtual", **overrides})


@pytest.fixture
def make_fake() -> Iterator[Callable[..., Fake]]:
    fakes: list[Fake] = []

    def make(**overrides: Any) -> Fake:
        fake = Fake(virtual_config(**overrides))
        fakes.append(fake)
        return fake

    yield make
    for fake in fakes:
        fake.store.close()


@pytest.fixture
def fake(make_fake: Callable[..., Fake]) -> Fake:
    return make_fake()


class Api:
    """A test client that speaks the fake's API with the default key."""

    def __init__(self, client: TestClient, fake: Fake) -> None:
        self.client = client
        self.fake = fake

    def create(self, body: dict[str, Any] | None = None, **fields: Any) -> Any:
        return self.client.post(
            "/v1/videos/generations", json={**(body or BODY), **fields}, headers=AUTH
        )

    def created(self, body: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
        response = self.create(body, **fields)
        assert response.status_code == 200, response.text
        task: dict[str, Any] = response.json()
        return task

    def poll(self, task_id: str, headers: dict[str, str] | None = None) -> Any:
        return self.client.get(f"/v1/tasks/{task_id}", headers=AUTH if headers is None else headers)

    def status(self, task_id: str) -> dict[str, Any]:
        response = self.poll(task_id)
        assert response.status_code == 200, response.text
        task: dict[str, Any] = response.json()
        return task

    def advance(self, seconds: float) -> Any:
        response = self.client.post("/_mock/clock/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text
        return response.json()

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client.request(method, f"/_mock{path}", **kwargs)

    def balance(self, key: str = KEY) -> dict[str, str]:
        balances: dict[str, dict[str, str]] = self.control("GET", f"/ledger?key={key}").json()[
            "balances"
        ]
        return balances[key]


@pytest.fixture
def make_api(make_fake: Callable[..., Fake]) -> Iterator[Callable[..., Api]]:
    clients: list[TestClient] = []

    def make(**overrides: Any) -> Api:
        fake = make_fake(**overrides)
        client = TestClient(
            create_app(fake=fake), base_url="http://127.0.0.1:8080", raise_server_exceptions=False
        )
        clients.append(client)
        return Api(client, fake)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One media directory per session, so each result video renders once (tests/clips.py)."""
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``clip(seconds, fmt="mp4", audio=True)``: a tiny real video file, made once."""
    from tests.clips import make_clip

    folder = tmp_path_factory.mktemp("clips")

    def make(seconds: float, fmt: str = "mp4", audio: bool = True) -> Path:
        path = folder / f"clip-{seconds}s-{'a' if audio else 's'}.{fmt}"
        return path if path.exists() else make_clip(path, seconds, fmt=fmt, audio=audio)

    return make


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Any]:
    """A throwaway PostgreSQL cluster for the session (tests/postgres.py)."""
    from tests.postgres import cluster

    with cluster() as started:
        yield started


@pytest.fixture
def postgres_url(postgres_cluster: Any) -> str:
    """A fresh empty database in the session's cluster."""
    return str(postgres_cluster.new_database())
