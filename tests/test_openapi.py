"""contracts/openapi.yaml and the fake agree: schemathesis drives the in-process app.

Every EvoLink operation of the document gets a bounded number of derandomized examples
(positive and negative); each answer must have a documented status, content type and
schema, and input the document calls invalid must be refused. The document's component
schemas must equal ``contracts/schemas.py`` (the single source of truth), and every
route the fake serves must be documented.
"""

from __future__ import annotations

import tempfile
from decimal import Decimal
from importlib.resources import files
from typing import Any

import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks as openapi_checks
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from contracts import schemas
from mock_server.api.app import create_app
from mock_server.runtime.config import Config

KEY = "sk-wanmock-test"
ANNOTATIONS = frozenset({"description", "example", "examples", "default", "x-source", "title"})
# Rules JSON Schema cannot state (SSRF guard, file types, downloads; a query integer
# written "10.0", which JSON Schema calls an integer): a schema-valid request may still be
# refused there, so "valid data is accepted" is not asked of them.
SEMANTIC = frozenset(
    {"createGeneration", "uploadFileStream", "uploadFileBase64", "uploadFileUrl", "listFiles"}
)


def without_lifespan(app: ASGIApp) -> ASGIApp:
    """The app, its lifespan answered here: schemathesis stops an app's lifespan after
    each operation, and the fake closes its store when that happens."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await app(scope, receive, send)

    return wrapped


MEDIA = tempfile.TemporaryDirectory(prefix="wanmock-openapi-")
APP = create_app(
    Config(db=":memory:", clock="virtual", media_dir=MEDIA.name, api_key=((KEY, Decimal("1e9")),))
)
CONFIG = schemathesis.Config.from_dict(
    {
        "headers": {"Authorization": f"Bearer {KEY}"},
        # derandomized, and no example database: the same examples on every machine
        "generation": {"max-examples": 12, "deterministic": True, "database": "none"},
    }
)
SCHEMA = schemathesis.openapi.from_asgi(
    "/_mock/openapi.yaml", without_lifespan(APP), config=CONFIG
).include(tag="evolink")


@SCHEMA.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_openapi_fake_answers_as_documented(case: Any) -> None:
    excluded: list[Any] = []
    operation = case.operation.definition.raw.get("operationId")
    if operation in SEMANTIC:
        excluded.append(openapi_checks.positive_data_acceptance)
    if operation == "uploadFileStream":  # multipart cannot carry most schema violations
        excluded.append(openapi_checks.negative_data_rejection)
    case.call_and_validate(excluded_checks=excluded)


def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((files("contracts") / "openapi.yaml").read_text())
    return loaded


def plain(node: Any, components: dict[str, Any]) -> Any:
    """A schema with $refs resolved and annotations dropped, as schemas.py writes it."""
    if isinstance(node, dict):
        if "$ref" in node:
            return plain(components[node["$ref"].rsplit("/", 1)[1]], components)
        return {k: plain(v, components) for k, v in node.items() if k not in ANNOTATIONS}
    if isinstance(node, list):
        return [plain(v, components) for v in node]
    return node


def test_openapi_components_equal_contract_schemas() -> None:
    components = document()["components"]["schemas"]
    assert set(components) == set(schemas.SCHEMAS)
    for name, schema in schemas.SCHEMAS.items():
        assert plain(components[name], components) == schema, name


def test_openapi_documents_every_route_of_the_fake() -> None:
    documented = set(document()["paths"])
    served = set()
    for route in create_app(Config(db=":memory:", clock="virtual", media_dir=MEDIA.name)).routes:
        inner = route.routes if isinstance(route, Mount) else [route]
        prefix = route.path if isinstance(route, Mount) else ""
        for item in inner:
            assert isinstance(item, Route)
            served.add(prefix + item.path.replace(":path}", "}"))
    downloads = {
        p for p in served if p.startswith(("/results/", "/files/", "/api/v1/files/download"))
    }
    assert served - downloads - documented == set()


def test_openapi_marks_the_control_api_as_the_fakes_own() -> None:
    for path, operations in document()["paths"].items():
        for operation in operations.values():
            fake_only = operation.get("x-wanmock-only", False)
            assert fake_only == path.startswith("/_mock"), path
            assert operation["tags"] == (["wanmock-control"] if fake_only else ["evolink"])


def test_openapi_served_by_the_control_api_is_the_file() -> None:
    from starlette.testclient import TestClient

    with TestClient(without_lifespan(APP)) as client:
        answer = client.get("/_mock/openapi.yaml")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(answer.text) == document()
