"""The documentation site: it builds with ``mkdocs build --strict`` (a broken link fails),
its CLI reference is what the parsers render, the README stays a landing page, and every
shell and Python example is run by a test or says why it cannot be."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from tests.test_readme import PAGES, ROOT, headings

BIN = Path(sys.executable).parent
RUN_BY = "tests/test_readme.py::"
# (page, section) -> the test that runs its examples, or why nothing can
EXAMPLES: dict[tuple[str, str], str] = {
    ("README.md", "A 30-second tour"): RUN_BY + "test_readme_tour_works_as_written",
    ("README.md", "In a test"): RUN_BY + "test_readme_landing_page_test_passes",
    ("docs/getting-started.md", "Install"): RUN_BY
    + "test_readme_getting_started_checks_the_installed_version",
    ("docs/getting-started.md", "Start the fake"): RUN_BY
    + "test_readme_getting_started_server_starts_as_written",
    ("docs/pytest.md", "Use it from pytest"): RUN_BY + "test_readme_pytest_example_passes",
    ("docs/scenarios.md", "Scenarios: make the fake misbehave on purpose"): RUN_BY
    + "test_readme_scenario_examples_work_as_written",
    ("docs/scenarios.md", "Magic prompt tokens"): RUN_BY
    + "test_readme_scenario_examples_work_as_written",
    ("docs/deployment.md", "One fake, several processes"): RUN_BY
    + "test_readme_two_servers_on_one_store_share_the_clock",
    ("docs/verify-client.md", "Verify a client"): RUN_BY
    + "test_readme_verify_client_examples_work_as_written",
    ("docs/verify-provider.md", "Verify a provider"): "tests/test_verify_provider.py::"
    "test_verify_provider_readme_commands_work_as_written",
    ("docs/media.md", "Real media: uploads, references, playable results"): RUN_BY
    + "test_readme_media_upload_example_works_as_written",
    ("docs/control-api.md", "Control API"): RUN_BY
    + "test_readme_control_api_paging_example_works_as_written",
    ("docs/callbacks.md", "Callbacks"): RUN_BY + "test_readme_callbacks_example_works_as_written",
    ("docs/ci.md", "Use in CI"): "tests/test_ci_recipe.py::"
    "test_ci_recipe_shell_equivalent_runs_the_same_commands",
    # Not run as written, and why:
    ("README.md", "Two commands"): "not run: `make test` is what CI runs (.ci/run), and "
    "`make serve` serves until stopped",
    ("docs/dashboard.md", "Dashboard"): "not run: it opens a browser; "
    "tests/test_ui_browser.py drives the page",
    ("docs/deployment.md", "Running a shared instance"): "not run: it needs root, a "
    "PostgreSQL server and nginx; tests/test_replicas.py runs replicas on a throwaway cluster",
}


def hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def example_sections() -> set[tuple[str, str]]:
    """(page, heading) of every ``sh`` and ``python`` block of README.md and docs/*.md."""
    found = set()
    for path in PAGES:
        text = path.read_text()
        marks = headings(text)
        for block in re.finditer(r"^```(sh|python)\n", text, re.M):
            heading = [h for h in marks if h.start() < block.start()][-1]
            found.add((str(path.relative_to(ROOT)), heading.group(2).strip()))
    return found


def test_docs_build_strict_with_architecture_and_sources(tmp_path: Path) -> None:
    site = tmp_path / "site"
    built = subprocess.run(
        [BIN / "mkdocs", "build", "--strict", "--site-dir", site],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    for page in ("sources", "changelog", "cli", "ARCHITECTURE", "getting-started", "ci"):
        assert (site / page / "index.html").exists(), page
    assert "Where each fact of the contract comes from" in (site / "sources/index.html").read_text()
    assert "wanmock verify-client" in (site / "cli/index.html").read_text()
    assert "A 30-second tour" in (site / "index.html").read_text()


def test_docs_cli_reference_is_what_the_parsers_render() -> None:
    rendered = hooks().render_cli()
    assert (ROOT / "docs" / "cli.md").read_text() == rendered, "run `make docs`"
    for command in ("serve", "verify-provider", "verify-client", "receiver", "wait"):
        assert f"## wanmock {command}\n" in rendered


def test_docs_links_to_sources_become_site_pages_or_code() -> None:
    relink = hooks().relink
    assert relink("[S](../contracts/SOURCES.md#x)", "fidelity.md") == "[S](sources.md#x)"
    assert relink("[p](docs/pytest.md)", "index.md") == "[p](pytest.md)"
    assert relink("[`f`](facts.py)", "sources.md") == "`f`"
    assert relink("[c](../examples/c.py)", "ci.md") == "`examples/c.py`"
    assert relink("[w](https://x.test/a.md)", "ci.md") == "[w](https://x.test/a.md)"


def test_docs_every_example_is_run_or_says_why() -> None:
    assert example_sections() <= set(EXAMPLES), example_sections() - set(EXAMPLES)
    for where in EXAMPLES.values():
        if where.startswith("not run"):
            continue
        path, name = where.split("::")
        assert re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.M), where


def test_docs_readme_is_a_landing_page_linking_every_page() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    for page in sorted((ROOT / "docs").glob("*.md")):
        assert f"(docs/{page.name}" in readme, page.name
    for section in ("## Two commands", "## A 30-second tour", "## Install"):
        assert section in readme
