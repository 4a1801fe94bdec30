"""contracts/openapi.yaml and the fake agree: schemathesis drives the in-process app.

Every operation of the document, the real API, the file service and the control API,
gets derandomized examples (positive and negative), one call at a time and in chains
that follow the document's links (create, query, complete, ledger; upload, delete; add a
rule, delete it). Each answer must be no server error and have a documented status,
content type, headers and schema, input the document calls invalid must be refused, and
a call without the token must be refused. The document's component schemas must equal
``contracts/schemas.py`` (the single source of truth), and every route the fake serves
must be documented. ``make fuzz`` runs the same with many more examples
(WANMOCK_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import os
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
from mock_server.service.fake import Fake

KEY = "sk-wanmock-test"
AUTH = {"Authorization": f"Bearer {KEY}"}
ANNOTATIONS = frozenset({"description", "example", "examples", "default", "x-source", "title"})
# Examples per operation, and per run of linked chains; ``make fuzz`` raises both.
EXAMPLES = int(os.environ.get("WANMOCK_FUZZ_EXAMPLES", "12"))
CHAINS = int(os.environ.get("WANMOCK_FUZZ_CHAINS", "60"))
# Rules JSON Schema cannot state (SSRF guard, file types, downloads; a query integer
# written "10.0", which JSON Schema calls an integer; cursors only a listing hands out;
# rule effects and credit amounts with meanings): a schema-valid request may still be
# refused there, so "valid data is accepted" is not asked of them.
SEMANTIC = frozenset(
    {
        "createGeneration",
        "uploadFileStream",
        "uploadFileBase64",
        "uploadFileUrl",
        "listFiles",
        "mockTasks",
        "mockCallbacks",
        "mockRequests",
        "mockEvents",
        "mockPutKeys",
        "mockAddScenarios",
    }
)
# Multipart cannot carry most schema violations.
UNTYPED_BODY = frozenset({"uploadFileStream"})


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
# The API key is also the control token, so one header opens every operation and a
# call without it is refused everywhere the document says so.
APP = create_app(
    Config(
        db=":memory:",
        clock="virtual",
        media_dir=MEDIA.name,
        api_key=((KEY, Decimal("1e9")),),
        control_token=KEY,
    )
)
FAKE: Fake = APP.state.fake
CONFIG = schemathesis.Config.from_dict(
    {
        "headers": AUTH,
        # derandomized, and no example database: the same examples on every machine
        "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none"},
    }
)
SCHEMA = schemathesis.openapi.from_asgi(
    "/_mock/openapi.yaml", without_lifespan(APP), config=CONFIG, headers=AUTH
)


def excluded_checks(case: Any) -> list[Any]:
    operation = case.operation.definition.raw.get("operationId")
    excluded: list[Any] = []
    if operation in SEMANTIC:
        excluded.append(openapi_checks.positive_data_acceptance)
    if operation in UNTYPED_BODY:
        excluded.append(openapi_checks.negative_data_rejection)
    return excluded


def settle(case: Any) -> None:
    """After a call: a rule the fuzzer added is deleted at once, so it cannot turn later
    answers into the 5xx or dropped connections it asks for; the test key keeps its
    credits and models, so creates keep reaching the lifecycle."""
    path = case.operation.path
    if path.startswith("/_mock/scenarios") or path == "/_mock/reset":
        FAKE.rules.delete()
    if path in ("/_mock/keys", "/_mock/reset"):
        FAKE.put_keys({KEY: {"credits": "1e9", "user_group": "default", "models": None}})


@SCHEMA.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_openapi_every_operation_answers_as_documented(case: Any) -> None:
    try:
        case.call_and_validate(excluded_checks=excluded_checks(case))
    finally:
        settle(case)


class Chains(SCHEMA.as_state_machine()):  # type: ignore[misc]
    """Linked calls: each step may follow a link from an earlier answer."""

    def after_call(self, response: Any, case: Any) -> None:
        super().after_call(response, case)
        settle(case)

    def validate_response(
        self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
    ) -> None:
        case.validate_response(
            response,
            additional_checks=additional_checks,
            excluded_checks=excluded_checks(case),
            transport_kwargs=kwargs or None,
        )


def test_openapi_linked_chains_answer_as_documented() -> None:
    Chains.run(
        settings=settings(
            max_examples=CHAINS,
            derandomize=True,
            database=None,
            deadline=None,
            stateful_step_count=10,
            suppress_health_check=list(HealthCheck),
        )
    )


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
        answer = client.get("/_mock/openapi.yaml", headers=AUTH)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/yaml")
    assert yaml.safe_load(answer.text) == document()
