"""The shape of the code, as docs/ARCHITECTURE.md describes it: layers (kept by
import-linter in ``make lint``), no import cycles, small modules, docs that stand alone."""

from __future__ import annotations

import importlib
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


# A citation of a file outside the repo: the design brief and style guide by name, a path
# into the brief's folder beside the repo (relative or not), or an absolute path into the
# machine it was written on. Whoever reads the repo elsewhere has none of them.
BRIEF = "sha" + "red"  # the brief's folder beside the repo
OUTSIDE_CITATION = re.compile(
    r"\b(?:DESIGN|STYLE)\.md\b"
    r"|(?<![\w.-])(?:\.\./)*shared/[\w.-]"
    r"|(?<![\w.-])/(?:work|home|tmp)/[\w.-]"
)
# A Markdown link's target: ``[text](target)``.
MARKDOWN_LINK = re.compile(r"\]\(([^)\s#]+)[^)]*\)")
CITING_FILES = (".py", ".md", ".yaml", ".toml", ".txt", ".cfg", ".ini", ".js", ".html")


def _listed() -> list[str]:
    return subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()


def _citing_files() -> list[str]:
    return [
        name
        for name in _listed()
        if name.endswith(CITING_FILES)
        and name != "tests/test_architecture.py"
        and (ROOT / name).exists()
    ]


def test_no_file_cites_a_document_outside_the_repo() -> None:
    citing = {
        name: found.group(0)
        for name in _citing_files()
        if (found := OUTSIDE_CITATION.search((ROOT / name).read_text(errors="replace")))
    }
    assert citing == {}


@pytest.mark.parametrize(
    "text",
    [
        # Built from parts, so this file cites nothing outside the repo itself.
        "see `" + BRIEF + "/reference/page.txt`",
        "(../" + BRIEF + "/DESIGN)",
        "[REF] ../../" + BRIEF + "/x",
        "read /work/" + BRIEF + "/STYLE",
        "the brief, " + "DESIGN" + ".md",
    ],
)
def test_outside_citation_is_caught(text: str) -> None:
    assert OUTSIDE_CITATION.search(text)


@pytest.mark.parametrize("text", ["--db shared.db", "a shared instance", "shared_memory/x"])
def test_outside_citation_spares_ordinary_words(text: str) -> None:
    assert OUTSIDE_CITATION.search(text) is None


def _markdown_links() -> list[tuple[str, str]]:
    links = []
    for name in _listed():
        if not name.endswith(".md") or not (ROOT / name).exists():
            continue
        for found in MARKDOWN_LINK.finditer((ROOT / name).read_text(errors="replace")):
            target = found.group(1)
            if "://" not in target and not target.startswith(("mailto:", "#")):
                links.append((name, target))
    return links


@pytest.mark.parametrize("name,target", _markdown_links(), ids=lambda v: str(v))
def test_markdown_link_stays_inside_the_repo_and_exists(name: str, target: str) -> None:
    resolved = ((ROOT / name).parent / target).resolve()
    assert resolved.is_relative_to(ROOT), f"{name} links outside the repo: {target}"
    assert resolved.exists(), f"{name} links to a missing file: {target}"


# -- docs/ARCHITECTURE.md names only what exists -------------------------------------------

ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"
FENCED = re.compile(r"```.*?```", re.DOTALL)
CODE_SPAN = re.compile(r"`([^`]+)`")  # may wrap onto the next line
DOC_PATH = re.compile(r"^[\w.-]+(?:/[\w.-]+)*(?:/|\.(?:py|md|toml|txt|yaml|json))$")
DOC_NAME = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")
LAYERS = tuple(
    sorted(p.name for p in (ROOT / "mock_server").iterdir() if (p / "__init__.py").exists())
)


def _spans() -> list[str]:
    prose = FENCED.sub("", ARCHITECTURE.read_text())
    return sorted({" ".join(span.split()) for span in CODE_SPAN.findall(prose)})


def _doc_paths() -> list[str]:
    return [s for s in _spans() if DOC_PATH.match(s) and ("/" in s or s.count(".") == 1)]


def _doc_names() -> list[str]:
    return [
        s
        for s in _spans()
        if DOC_NAME.match(s) and s.split(".")[0] in ("mock_server", "contracts", "fake", *LAYERS)
    ]


def _resolves(name: str) -> bool:
    """``module.name`` (a module of mock_server or contracts, or a layer of mock_server
    written without the package), the name defined in that module (not imported into
    it), and any attributes after it; ``fake.x`` is an attribute of a built ``Fake``."""
    parts = name.split(".")
    if parts[0] == "fake":
        return _fake_has(parts[1:])
    dotted = parts if parts[0] in PACKAGES else ["mock_server", *parts]
    for cut in range(len(dotted), 1, -1):
        module_name = ".".join(dotted[:cut])
        try:
            found: object = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        for number, part in enumerate(dotted[cut:]):
            found = getattr(found, part, _MISSING)
            if found is _MISSING:
                return False
            if number == 0 and getattr(found, "__module__", module_name) != module_name:
                return False  # imported there, defined elsewhere
        return True
    return False


_MISSING = object()


def _fake_has(attributes: list[str]) -> bool:
    from mock_server.runtime.config import Config
    from mock_server.service.fake import Fake

    fake = Fake(Config(db=":memory:", clock="virtual"))
    try:
        found: object = fake
        for part in attributes:
            found = getattr(found, part, _MISSING)
            if found is _MISSING:
                return False
        return True
    finally:
        fake.store.close()


@pytest.mark.parametrize("path", _doc_paths())
def test_architecture_doc_path_exists(path: str) -> None:
    assert (ROOT / path).exists() or (ROOT / "mock_server" / path).exists()


@pytest.mark.parametrize("name", _doc_names())
def test_architecture_doc_name_exists(name: str) -> None:
    assert _resolves(name)


def test_architecture_doc_names_are_found() -> None:
    assert len(_doc_paths()) >= 10 and len(_doc_names()) >= 50


@pytest.mark.parametrize(
    "name",
    ["api.app.create_generation", "service.fake.Fake.task_body", "fake.scenarios", "api.nowhere"],
)
def test_architecture_doc_check_refuses_a_name_that_is_not_there(name: str) -> None:
    assert not _resolves(name)


# Code that points a reader at a section: ``docs/ARCHITECTURE.md "Time"``.
SECTION_CITED = re.compile(r"ARCHITECTURE\.md,?\s+\"([^\"]+)\"")
# Where a section can be found: a heading, or a paragraph's bold lead.
SECTION_NAMED = re.compile(r"^#+ (.+)$|\*\*([^*]+)\*\*", re.MULTILINE)


def _sections_cited() -> list[tuple[str, str]]:
    return [
        (name, found)
        for name in _citing_files()
        for found in SECTION_CITED.findall((ROOT / name).read_text(errors="replace"))
    ]


@pytest.mark.parametrize("name,section", _sections_cited(), ids=lambda v: str(v))
def test_architecture_doc_has_every_section_code_cites(name: str, section: str) -> None:
    named = [a or b for a, b in SECTION_NAMED.findall(ARCHITECTURE.read_text())]
    assert any(section.lower() in title.lower() for title in named), f"{name}: {section}"
