"""The shape of the code, as docs/ARCHITECTURE.md describes it: layers (kept by
import-linter in ``make lint``), no import cycles, small modules, docs that stand alone."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("mock_server", "contracts")
MAX_MODULE_LINES = 400


def _cycles(graph: grimp.ImportGraph) -> Iterator[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    yield sorted(component)


def test_packages_have_no_import_cycles() -> None:
    # grimp reads every import statement, those inside functions too.
    graph = grimp.build_graph(*PACKAGES)
    assert list(_cycles(graph)) == []


def _sources() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *PACKAGES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if name.endswith(".py") and (ROOT / name).exists()]


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_is_at_most_400_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= MAX_MODULE_LINES


def test_mock_server_is_split_into_layer_subpackages() -> None:
    flat = sorted(
        p.name
        for p in (ROOT / "mock_server").glob("*.py")
        if p.name not in ("__init__.py", "__main__.py", "cli.py")
    )
    assert flat == []


OUTSIDE_DOCS = re.compile(r"\b(DESIGN|STYLE)\.md\b")


def test_no_file_cites_a_document_outside_the_repo() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    citing = [
        name
        for name in listed
        if name.endswith((".py", ".md", ".yaml", ".toml", ".txt"))
        and name != "tests/test_architecture.py"
        and (ROOT / name).exists()
        and OUTSIDE_DOCS.search((ROOT / name).read_text(errors="replace"))
    ]
    assert citing == []
