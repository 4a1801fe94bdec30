"""The dashboard's page, state endpoint and assets over HTTP (mock_server/api/ui/pages.py)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from mock_server.api.app import create_app
from mock_server.service.fake import Fake
from tests.conftest import Api


def versions(state: dict[str, Any]) -> str:
    return ",".join(f"{name}:{v}" for name, v in state["v"].items())


def test_page_renders_tasks_on_the_server(api: Api) -> None:
    task = api.created(prompt="A heron <b>fishing</b>")
    page = api.client.get("/_mock/ui")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert task["id"] in page.text
    assert "A heron &lt;b&gt;fishing&lt;/b&gt;" in page.text


def test_page_prompt_with_a_placeholder_stays_text(api: Api) -> None:
    api.created(prompt="{{journal}} {{base}}")
    page = api.client.get("/_mock/ui")
    assert "{{journal}} {{base}}" in page.text


def test_page_refuses_non_loopback_peers_without_a_token(fake: Fake) -> None:
    client = TestClient(create_app(fake=fake), client=("203.0.113.9", 5000))
    assert client.get("/_mock/ui").status_code == 403
    assert client.get("/_mock/ui/state").status_code == 403
    assert client.get("/_mock/ui/static/app.js").status_code == 403


def test_page_with_a_token_serves_the_shell_and_keeps_state_behind_it(make_fake: Any) -> None:
    fake = make_fake(control_token="s3cret")
    client = TestClient(create_app(fake=fake), client=("203.0.113.9", 5000))
    task = client.post(
        "/v1/videos/generations",
        json={
            "model": "wan2.6-reference-video",
            "prompt": "x",
            "video_urls": ["https://e.x/r.mp4"],
        },
        headers={"Authorization": "Bearer sk-wanmock-test"},
    ).json()
    page = client.get("/_mock/ui")
    assert page.status_code == 200 and 'data-needs-token="1"' in page.text
    assert task["id"] not in page.text
    assert client.get("/_mock/ui/state").status_code == 401
    state = client.get("/_mock/ui/state", headers={"Authorization": "Bearer s3cret"})
    assert state.status_code == 200 and task["id"] in state.json()["html"]["tasks"]


def test_state_unchanged_poll_sends_no_sections(api: Api) -> None:
    api.created()
    first = api.client.get("/_mock/ui/state").json()
    again = api.client.get("/_mock/ui/state", params={"since": versions(first)}).json()
    assert again["html"] == {} and again["v"] == first["v"]


def test_state_sends_only_the_sections_that_moved(api: Api) -> None:
    api.created()
    first = api.client.get("/_mock/ui/state").json()
    api.advance(600)
    moved = api.client.get("/_mock/ui/state", params={"since": versions(first)}).json()
    assert {"tasks", "ledger"} <= set(moved["html"]) and "scenarios" not in moved["html"]
    assert "✓</span> completed" in moved["html"]["tasks"]


def test_state_journal_filter_by_task(api: Api) -> None:
    one, two = api.created(prompt="one"), api.created(prompt="two")
    api.status(one["id"])
    polled = api.status(two["id"])
    api.fake.journal.flush()
    html = api.client.get("/_mock/ui/state", params={"task": polled["id"]}).json()["html"]
    assert f"/v1/tasks/{two['id']}" in html["journal"]
    assert f"/v1/tasks/{one['id']}" not in html["journal"]


def test_asset_unknown_name_is_404(api: Api) -> None:
    answer = api.client.get("/_mock/ui/static/page.html")
    assert answer.status_code == 404 and "error" in answer.json()


def test_assets_are_package_data(api: Api) -> None:
    for name, kind in (("app.js", "text/javascript"), ("app.css", "text/css")):
        answer = api.client.get(f"/_mock/ui/static/{name}")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)


def test_page_names_no_other_host(api: Api) -> None:
    page = api.client.get("/_mock/ui").text
    script = api.client.get("/_mock/ui/static/app.js").text
    style = api.client.get("/_mock/ui/static/app.css").text
    for text in (page, script, style):
        assert "http://" not in text and "https://" not in text and 'src="//' not in text
