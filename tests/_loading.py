"""Helpers shared by the loader tests: load a folder and check every error is one line."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from smcfeed._content.loader import LoadResult, load_content
from smcfeed.exceptions import ContentError

#: The articles make_content writes; every test that breaks something else checks they load.
FIXTURE_ARTICLES = {
    "articles/2023/mars-samples.es.md",
    "articles/2024/heat-deaths.en.md",
    "articles/2024/heat-deaths.es.md",
    "articles/2025/screens-sleep.en.md",
}
#: A valid article to add, then break, in tests.
NEW = "articles/2025/new-guide.en.md"
GOOD = textwrap.dedent(
    """\
    ---
    type: guide
    title: A guide to preprints
    published: 2025-02-01T10:00:00+01:00
    topics: [space]
    summary: How to report on preprints.
    ---
    Body text.
    """
)
FORBIDDEN = ("Traceback", "pydantic", "ValidationError", "errors.pydantic.dev")


def load(root: Path | str) -> LoadResult:
    """Load ``root`` and check every error is one editor-friendly line."""
    result = load_content(root)
    for error in result.errors:
        text = str(error)
        where = f"{error.path}:{error.line}" if error.line else error.path
        assert text == f"{where}: {error.message}"
        assert "\n" not in text
        assert not any(word in text for word in FORBIDDEN), text
        if not os.path.isabs(error.path):
            assert "\\" not in error.path and not error.path.startswith("./")
    return result


def errors_for(result: LoadResult, path: str) -> list[ContentError]:
    return [e for e in result.errors if e.path == path]


def only_error(result: LoadResult) -> ContentError:
    assert len(result.errors) == 1, [str(e) for e in result.errors]
    return result.errors[0]


def line_of(text: str, needle: str, start: int = 0) -> int:
    """1-based number of the first line from index ``start`` that contains ``needle``."""
    lines = text.splitlines()
    return next(i for i, line in enumerate(lines) if i >= start and needle in line) + 1


def edit(content: Path, relative: str, old: str, new: str) -> str:
    """Replace ``old`` (which must be there) by ``new`` in one file; return the new text."""
    path = content / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {relative}"
    text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return text


def article_paths(result: LoadResult) -> set[str]:
    assert result.catalogue is not None
    return {a.path for a in result.catalogue.articles}


def assert_fixture_articles_load(result: LoadResult) -> None:
    assert article_paths(result) == FIXTURE_ARTICLES
