"""mkdocs hooks: the pages that live outside docs/ or are rendered from code.

- ``index.md`` is README.md, ``sources.md`` is contracts/SOURCES.md and ``changelog.md``
  is CHANGELOG.md, read at build time so the site and the repository never disagree.
- ``cli.md`` is every ``wanmock`` command's ``--help``, rendered from the argparse parsers
  (``mock_server.cli.build_parser``). It is committed, so the repository shows it too;
  ``make docs`` rewrites it (``python docs/hooks.py``) and tests/test_docs.py fails when
  the committed page is not what the parsers render, so it cannot drift.
- Links are written for a reader of the repository (``docs/pytest.md``,
  ``../contracts/SOURCES.md``, ``examples/polling_client.py``); on the site a link to a page
  goes to that page and a link to a source file becomes its path in code type, as the site
  has no copy of the code.
"""

from __future__ import annotations

import argparse
import os
import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
# repository path -> page of the site
PAGES = {
    "README.md": "index.md",
    "contracts/SOURCES.md": "sources.md",
    "CHANGELOG.md": "changelog.md",
}
LINK = re.compile(r"(?<!!)\[([^\]]+)\]\(([^)\s]+)\)")
HELP_WIDTH = "96"


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parsers of ``parser``'s subcommands, in the order ``--help`` lists them."""
    for action in parser._actions:  # argparse keeps its subparsers nowhere public
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def render_cli() -> str:
    """The CLI reference page: ``wanmock --help`` and each subcommand's ``--help``."""
    from mock_server.cli import build_parser

    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = HELP_WIDTH  # argparse wraps to the terminal: fix it
    try:
        parser = build_parser()
        parts = [
            "# CLI reference\n",
            "Every command's `--help`, rendered from wanmock's own argument parsers by "
            "`make docs` (a test fails when this page and the parsers differ). The flags of "
            "`wanmock serve` are explained with examples in [Configuration](configuration.md)."
            "\n",
            f"## wanmock\n\n```text\n{parser.format_help()}```\n",
        ]
        for name, sub in subcommands(parser).items():
            parts.append(f"## wanmock {name}\n\n```text\n{sub.format_help()}```\n")
    finally:
        if saved is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = saved
    return "\n".join(parts)


def repo_path(page_src: str) -> str:
    """Where the page's markdown lives in the repository."""
    reverse = {page: path for path, page in PAGES.items()}
    return reverse.get(page_src, f"docs/{page_src}")


def relink(markdown: str, page_src: str) -> str:
    """Repository-relative links made site-relative (see the module docstring)."""
    base = posixpath.dirname(repo_path(page_src))
    page_dir = posixpath.dirname(page_src)

    def one(match: re.Match[str]) -> str:
        text, target = match.groups()
        if re.match(r"^[a-z]+:|^#|^/", target):
            return match.group(0)
        path, _, anchor = target.partition("#")
        resolved = posixpath.normpath(posixpath.join(base, path))
        page = PAGES.get(resolved) or (
            resolved[len("docs/") :] if resolved.startswith("docs/") else None
        )
        if page is None:  # a source file: the site has no copy of it
            return text if text.startswith("`") else f"`{resolved}`"
        new = posixpath.relpath(page, page_dir or ".")
        return f"[{text}]({new}{'#' + anchor if anchor else ''})"

    return LINK.sub(one, markdown)


def on_files(files: Files, config: Any) -> Files:
    for path, page in PAGES.items():
        files.append(File.generated(config, page, content=(ROOT / path).read_text()))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    return relink(markdown, page.file.src_uri)


if __name__ == "__main__":
    (ROOT / "docs" / "cli.md").write_text(render_cli())
