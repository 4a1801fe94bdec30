"""The plugin as users meet it: a test file with no conftest, run by pytest."""

from __future__ import annotations

from pathlib import Path

import pytest

import mock_server

USER_TEST = """
import asyncio
import httpx

BODY = {"model": "wan2.6-reference-video", "prompt": "A person dancing",
        "video_urls": ["https://example.com/ref.mp4"]}


def headers(key):
    return {"Authorization": f"Bearer {key}"}


def test_sync_client_reaches_the_in_process_fake(wanmock):
    task = httpx.post("https://api.evolink.ai/v1/videos/generations", json=BODY,
                      headers=headers(wanmock.api_key)).json()
    wanmock.run_until_idle()
    done = httpx.get(f"https://api.evolink.ai/v1/tasks/{task['id']}",
                     headers=headers(wanmock.api_key)).json()
    assert done["status"] == "completed"
    assert wanmock.ledger()["balances"][wanmock.api_key]["charged"] == "47.6"


def test_async_client_reaches_the_in_process_fake(wanmock):
    async def main():
        async with httpx.AsyncClient(base_url="https://api.evolink.ai") as client:
            answer = await client.post("/v1/videos/generations", json=BODY,
                                       headers=headers(wanmock.api_key))
            return answer.json()["id"]

    task_id = asyncio.run(main())
    wanmock.fail(task_id, "content_policy_violation")
    assert wanmock.tasks()[0]["task"]["error"]["code"] == "content_policy_violation"


def test_each_test_gets_a_fresh_fake(wanmock):
    assert wanmock.tasks() == []


def test_server_fixture_serves_a_real_port(wanmock_server):
    answer = httpx.post(f"{wanmock_server.base_url}/v1/videos/generations", json=BODY,
                        headers=headers(wanmock_server.api_key))
    assert answer.status_code == 200
    assert wanmock_server.advance(3600) > 0


def test_server_fixture_is_reset_between_tests(wanmock_server):
    tasks = httpx.get(f"{wanmock_server.base_url}/_mock/tasks").json()["tasks"]
    assert tasks == []


def test_callback_sink_receives_the_in_process_fakes_callback(wanmock, callback_sink):
    body = {**BODY, "callback_url": callback_sink.url}
    task = httpx.post("https://api.evolink.ai/v1/videos/generations", json=body,
                      headers=headers(wanmock.api_key)).json()
    wanmock.run_until_idle()
    assert callback_sink.call_count == 1
    assert callback_sink.last.json()["id"] == task["id"]
    assert callback_sink.last.json()["status"] == "completed"


def test_callback_sink_receives_the_servers_callback(wanmock_server, callback_sink):
    body = {**BODY, "callback_url": callback_sink.url}
    task = httpx.post(f"{wanmock_server.base_url}/v1/videos/generations", json=body,
                      headers=headers(wanmock_server.api_key)).json()
    wanmock_server.advance(3600)
    assert [c.json()["id"] for c in callback_sink.calls] == [task["id"]]


def test_other_hosts_reach_the_tests_own_respx_routes(wanmock, respx_mock):
    respx_mock.get("https://example.org/thing").respond(json={"mine": True})
    assert httpx.get("https://example.org/thing").json() == {"mine": True}
    answer = httpx.get("https://api.evolink.ai/v1/credits",
                       headers=headers(wanmock.api_key))
    assert answer.status_code == 200


def test_fixture_reads_journal_and_scenarios(wanmock):
    wanmock.add_scenario({"effect": {"http_status": 429}, "times": 1})
    answer = httpx.post("https://api.evolink.ai/v1/videos/generations", json=BODY,
                        headers=headers(wanmock.api_key))
    assert answer.status_code == 429
    assert [r["status"] for r in wanmock.requests()] == [429]
"""


def test_pytest_plugin_fixtures_work_without_a_conftest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=9)


def test_pytest_plugin_registers_its_options(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*--wan-base-url*", "*--wan-api-key*", "*--wan-allow-spend*"])


def test_pytest_plugin_contract_marker_targets_the_real_endpoint(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_real="""
import pytest

@pytest.mark.wanmock_contract
def test_points_at_the_real_endpoint(wanmock_server):
    assert wanmock_server.is_real and wanmock_server.base_url == "https://real.example"
    assert wanmock_server.api_key == "sk-real"
"""
    )
    result = pytester.runpytest_subprocess(
        "--wan-base-url", "https://real.example/", "--wan-api-key", "sk-real"
    )
    result.assert_outcomes(passed=1)


def test_pytest_plugin_leaves_the_fakes_modules_unrewritten(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fake's modules load as ordinary modules (their bytecode, if any), not through
    pytest's assertion rewriter, while the test file itself is still rewritten. The
    package is put on ``sys.path`` as a wheel's is (pytest rewrites only what it finds
    there, not what an editable install's finder maps)."""
    monkeypatch.setenv("PYTHONPATH", str(Path(mock_server.__file__).parent.parent))
    pytester.makepyfile(
        test_loaders="""
import sys
from _pytest.assertion.rewrite import AssertionRewritingHook

def test_loaders(wanmock):
    fake_module = sys.modules["mock_server.service.fake"]
    assert not isinstance(fake_module.__loader__, AssertionRewritingHook)
    assert isinstance(sys.modules[__name__].__loader__, AssertionRewritingHook)
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
