"""Reloads and the parse cache give what a load from nothing gives."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from smcfeed._content.loader import LoadResult, load_content


def rel_of(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _summary(result: LoadResult) -> tuple[list[str], list[str]]:
    assert result.catalogue is not None
    return [a.path + a.title for a in result.catalogue.articles], [str(e) for e in result.errors]


def test_a_reload_of_changed_files_equals_a_full_load(make_content: Any) -> None:
    from smcfeed._content.parsecache import ParseCache

    content = make_content()
    cache = ParseCache()
    first = load_content(content, cache=cache)
    article = next(iter(sorted((content / "articles").rglob("*.en.md"))))
    article.write_text(article.read_text().replace("title:", "title: Edited", 1))
    broken = content.write("articles/2024/broken.es.md", "---\ntype: reaction\n---\n")
    again = load_content(content, cache=cache, changed=[article, broken], previous=first.catalogue)
    assert _summary(again) == _summary(load_content(content))
    assert any("Edited" in title for title in _summary(again)[0])
    broken.unlink()
    third = load_content(content, cache=cache, changed=[broken], previous=again.catalogue)
    assert _summary(third) == _summary(load_content(content))
    assert third.ok
    # Verdicts that depend on other files: a duplicate, then a translation of another type.
    slug, lang = article.name.split(".")[:2]
    in_2019 = re.sub(r"published: \d{4}", "published: 2019", article.read_text())
    twin = content.write(f"articles/2019/{slug}.{lang}.md", in_2019)
    fourth = load_content(content, cache=cache, changed=[twin], previous=third.catalogue)
    assert _summary(fourth) == _summary(load_content(content))
    assert any("the same slug and language" in e for e in _summary(fourth)[1])
    twin.unlink()
    other = "es" if lang == "en" else "en"
    typed = content.write(
        f"articles/2019/{slug}.{other}.md",
        in_2019.replace("type: reaction", "type: guide"),
    )
    fifth = load_content(content, cache=cache, changed=[twin, typed], previous=fourth.catalogue)
    assert _summary(fifth) == _summary(load_content(content))
    assert any("translations must have the same type" in e for e in _summary(fifth)[1])
    unchanged = load_content(content, cache=cache, changed=[], previous=fifth.catalogue)
    assert unchanged.unchanged and unchanged.catalogue is fifth.catalogue
    # An accepted article deleted: it leaves every index.
    article.unlink()
    sixth = load_content(content, cache=cache, changed=[article], previous=fifth.catalogue)
    assert _summary(sixth) == _summary(load_content(content))
    assert sixth.catalogue is not None
    assert all(a.path != rel_of(article, content) for a in sixth.catalogue.articles)


def test_the_parse_cache_survives_a_restart_and_skips_unchanged_files(
    make_content: Any, tmp_path: Path
) -> None:
    from smcfeed._content.parsecache import ParseCache

    content = make_content()
    cache = ParseCache()
    first = load_content(content, cache=cache)
    saved = tmp_path / "cache.pickle"
    cache.save(saved)
    restored = ParseCache.load(saved)
    assert set(restored.entries) == set(cache.entries)
    kept = dict(restored.entries)
    article = next(iter(sorted((content / "articles").rglob("*.es.md"))))
    article.write_text(article.read_text() + "\nMore text.\n")
    second = load_content(content, cache=restored)
    assert _summary(second) == _summary(first)
    rel = article.relative_to(content).as_posix()
    for path, parsed in restored.entries.items():
        assert (parsed is kept[path]) == (path != rel), path
    (tmp_path / "garbage.pickle").write_bytes(b"not a pickle")
    assert ParseCache.load(tmp_path / "garbage.pickle").entries == {}


def test_many_files_are_parsed_in_worker_processes_with_the_same_result(
    make_content: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from smcfeed._content import parallel as _parallel

    content = make_content()
    content.write("articles/2024/broken.es.md", "---\ntype: [unclosed\n---\n")
    serial = load_content(content)
    monkeypatch.setattr(_parallel, "PARALLEL_FROM", 2)
    with caplog.at_level(logging.INFO, logger="smcfeed"):
        parallel = load_content(content)
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("parsing 5 article files in") for m in messages), messages
    assert not any("worker processes failed" in m for m in messages), messages
    assert _summary(parallel) == _summary(serial)
    assert any("broken.es.md" in e for e in _summary(parallel)[1])


def test_folders_moved_in_and_out_and_articles_itself_replaced(
    make_content: Any, tmp_path: Path
) -> None:
    """What a watcher reports for whole folders: the folder's own path, not its files."""
    import shutil

    from smcfeed._content.parsecache import ParseCache

    content = make_content()
    cache = ParseCache()
    previous = load_content(content, cache=cache).catalogue
    year = content / "articles/2024"
    outside = tmp_path / "moved-2024"
    shutil.move(year, outside)
    result = load_content(content, cache=cache, changed=[year], previous=previous)
    assert _summary(result) == _summary(load_content(content))
    shutil.move(outside, year)
    result = load_content(content, cache=cache, changed=[year], previous=result.catalogue)
    assert _summary(result) == _summary(load_content(content))
    # articles/ itself swapped for another folder (a checkout, an rsync into place).
    replacement = tmp_path / "articles"
    shutil.copytree(content / "articles", replacement)
    (replacement / "2023/mars-samples.es.md").unlink()
    shutil.rmtree(content / "articles")
    shutil.move(replacement, content / "articles")
    result = load_content(
        content, cache=cache, changed=[content / "articles"], previous=result.catalogue
    )
    assert _summary(result) == _summary(load_content(content))
    assert all("mars-samples" not in title for title in _summary(result)[0])


def test_a_failed_reload_leaves_nothing_half_done(
    make_content: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reload that raises midway (after the files were parsed, before they were judged):
    the next reload still gives what a load from nothing gives."""
    from datetime import UTC, datetime

    from smcfeed import FixedClock
    from smcfeed._content import loader as _loader
    from smcfeed._content.judge import judge_articles
    from smcfeed._serve.state import ContentState

    content = make_content()
    state = ContentState(content, FixedClock(datetime(2026, 11, 25, tzinfo=UTC)))
    state.reload()
    gone = content / "articles/2024/heat-deaths.es.md"
    gone.unlink()
    added = content.write(
        "articles/2024/heat-twin.en.md", gone.parent.joinpath("heat-deaths.en.md").read_text()
    )
    real = judge_articles

    def fails(*args: Any, **kwargs: Any) -> Any:
        raise MemoryError("out of memory")

    monkeypatch.setattr(_loader, "judge_articles", fails)
    assert not state.reload([gone, added])
    assert any("reload failed (MemoryError" in e.message for e in state.errors)
    monkeypatch.setattr(_loader, "judge_articles", real)
    other = content / "articles/2025/screens-sleep.en.md"
    other.write_text(other.read_text().replace("title: What", "title: Now"))
    state.reload([other])
    fresh = load_content(content)
    assert state.snapshot is not None and fresh.catalogue is not None
    assert [a.path + a.title for a in state.snapshot.catalogue.articles] == [
        a.path + a.title for a in fresh.catalogue.articles
    ]
    assert [str(e) for e in state.errors] == [str(e) for e in fresh.errors]


def test_a_year_folder_replaced_by_an_empty_one(make_content: Any) -> None:
    """A watcher may report only the folder: files no longer in it leave."""
    import shutil

    from smcfeed._content.parsecache import ParseCache

    content = make_content()
    cache = ParseCache()
    previous = load_content(content, cache=cache).catalogue
    year = content / "articles/2024"
    shutil.rmtree(year)
    year.mkdir()
    result = load_content(content, cache=cache, changed=[year], previous=previous)
    assert _summary(result) == _summary(load_content(content))
    assert all("heat-deaths" not in title for title in _summary(result)[0])


def test_a_content_folder_below_a_hidden_folder_still_reloads(tmp_path: Path) -> None:
    from smcfeed._content.parsecache import ParseCache
    from tests.conftest import write_valid_content

    content = write_valid_content(tmp_path / ".hidden" / "content")
    cache = ParseCache()
    previous = load_content(content, cache=cache).catalogue
    article = content / "articles/2025/screens-sleep.en.md"
    article.write_text(article.read_text().replace("title: What", "title: Now what"))
    result = load_content(content, cache=cache, changed=[article], previous=previous)
    assert any("Now what" in title for title in _summary(result)[0])
