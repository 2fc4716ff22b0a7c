"""The parse cache cannot lie: plain data with a checksum, and each file's bytes re-checked
(issue 8, findings 3 and 4), whatever a damaged or crafted cache file holds."""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smcfeed import FixedClock
from smcfeed._content import parsecache as _parsecache
from smcfeed._content.loader import LoadResult, load_content
from smcfeed._content.parse import parse_article
from smcfeed._content.parsecache import ParseCache, pack, unpack
from smcfeed._serve.state import ContentState
from tests._support import NOW

HEAT = "articles/2024/heat-deaths.en.md"


def summary(result: LoadResult) -> tuple[list[tuple[str, str, str]], list[str]]:
    assert result.catalogue is not None
    articles = [(a.path, a.title, a.summary) for a in result.catalogue.articles]
    return articles, [str(e) for e in result.errors]


def saved_cache(content: Path, path: Path) -> ParseCache:
    cache = ParseCache()
    load_content(content, cache=cache)
    cache.save(path)
    return cache


def test_a_saved_cache_loads_back_the_same_parsed_files(make_content: Any, tmp_path: Path) -> None:
    content = make_content()
    content.write("articles/2024/broken.es.md", "---\ntype: [unclosed\n---\n")
    cache = saved_cache(content, tmp_path / "cache")
    restored = ParseCache.load(tmp_path / "cache")
    assert restored.entries == cache.entries
    assert restored.fingerprint == cache.fingerprint
    assert {p: v[1:] for p, v in restored.verdicts.items()} == {
        p: v[1:] for p, v in cache.verdicts.items()
    }
    assert summary(load_content(content, cache=restored)) == summary(load_content(content))
    # What the worker processes send back is the same rows.
    parsed = parse_article(content, content / HEAT)
    assert unpack(pack(parsed)) == parsed


def test_the_cache_file_is_plain_data_never_a_pickle() -> None:
    assert "pickle" not in vars(_parsecache)
    assert not hasattr(_parsecache, "pickle")


class _Exploit:
    """A pickle that creates a file when loaded: what a crafted cache did at start-up."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


def test_a_crafted_pickle_runs_no_code_and_start_up_serves_the_folder(
    make_content: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Finding 3: a crafted cache file ran code as the service at start-up."""
    content = make_content()
    marker = tmp_path / "owned"
    cache_file = tmp_path / "parsed.cache"
    cache_file.write_bytes(pickle.dumps((4, _Exploit(marker), 0)))
    state = ContentState(content, FixedClock(NOW), cache_file=cache_file)
    with caplog.at_level(logging.WARNING, logger="smcfeed"):
        state.reload()
    assert not marker.exists()
    notes = [r.getMessage() for r in caplog.records if "parse cache" in r.getMessage()]
    assert len(notes) == 1 and "not a parse cache" in notes[0], notes
    assert state.snapshot is not None and not state.errors
    fresh = load_content(content)
    assert fresh.catalogue is not None
    assert [a.title for a in state.snapshot.catalogue.articles] == [
        a.title for a in fresh.catalogue.articles
    ]


def test_an_edit_keeping_size_and_time_is_not_served_from_the_cache(
    make_content: Any, tmp_path: Path
) -> None:
    """Finding 4: a same-length edit under the same mtime (cp -p, rsync -t, tar) was ignored,
    so an embargo moved later could lift at its old time."""
    content = make_content()
    cache_file = tmp_path / "parsed.cache"
    saved_cache(content, cache_file)
    path = content / HEAT
    before = os.stat(path)
    text = path.read_text(encoding="utf-8")
    edited = text.replace("title: Heat and mortality", "title: Cold and mortality")
    edited = edited.replace("published: 2024-07-10T18:00", "published: 2024-12-10T18:00")
    assert len(edited.encode()) == len(text.encode()) and edited != text
    path.write_text(edited, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_size == before.st_size
    assert os.stat(path).st_mtime_ns == before.st_mtime_ns
    state = ContentState(content, FixedClock(NOW), cache_file=cache_file)
    state.reload()
    assert state.snapshot is not None
    served = {a.path: a for a in state.snapshot.catalogue.articles}
    assert served[HEAT].title == "Cold and mortality"
    assert served[HEAT].published.month == 12
    assert summary(load_content(content, cache=ParseCache.load(cache_file))) == summary(
        load_content(content)
    )


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda data: data[: len(data) // 2], "checksum"),
        (lambda data: data[:10], "not a parse cache"),
        (lambda data: b"", "not a parse cache"),
        (lambda data: data.replace(b"Heat and mortality", b"Heat and mortalitY"), "checksum"),
        (lambda data: data[:20] + b"\x04" + data[21:], "format 4"),
        (lambda data: b"\x80\x04K\x04." + data, "not a parse cache"),
    ],
    ids=["truncated", "header only", "empty", "title changed", "old format", "foreign"],
)
def test_a_damaged_cache_is_ignored_with_one_log_line(
    make_content: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: Any, why: str
) -> None:
    content = make_content()
    cache_file = tmp_path / "parsed.cache"
    saved_cache(content, cache_file)
    cache_file.write_bytes(damage(cache_file.read_bytes()))
    with caplog.at_level(logging.INFO, logger="smcfeed"):
        loaded = ParseCache.load(cache_file)
    assert loaded.entries == {}
    assert len(caplog.records) == 1 and why in caplog.records[0].getMessage()
    assert summary(load_content(content, cache=loaded)) == summary(load_content(content))


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes, Any]:
    from tests.conftest import write_valid_content

    root = tmp_path_factory.mktemp("fuzz")
    content = write_valid_content(root / "content")
    content.write("articles/2024/broken.es.md", "---\ntype: [unclosed\n---\n")
    saved_cache(content, root / "cache")
    return content, (root / "cache").read_bytes(), summary(load_content(content))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    cut=st.none() | st.integers(min_value=0),
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(1, 255)), max_size=3),
)
def test_fuzzed_cache_never_crashes_and_never_serves_wrong_content(
    fuzz_target: tuple[Path, bytes, Any],
    tmp_path_factory: pytest.TempPathFactory,
    cut: int | None,
    flips: list[tuple[int, int]],
) -> None:
    """Truncations and byte flips anywhere: the cache loads or is ignored; what it gives is
    what a load from nothing gives."""
    content, data, expected = fuzz_target
    damaged = bytearray(data if cut is None else data[: cut % (len(data) + 1)])
    for position, xor in flips:
        if damaged:
            damaged[position % len(damaged)] ^= xor
    path = tmp_path_factory.mktemp("fuzzed") / "cache"
    path.write_bytes(bytes(damaged))
    cache = ParseCache.load(path)
    if bytes(damaged) != data:
        assert cache.entries == {}
    assert summary(load_content(content, cache=cache)) == expected


def test_a_large_cache_is_checked_against_digests_worked_out_in_another_process(
    make_content: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The warm start of a large folder: digests come from a worker process while the cache
    loads, and a same-size, same-time edit is still seen."""
    from smcfeed._serve import state as _state

    monkeypatch.setattr(_state, "DIGESTS_AHEAD_FROM", 0)
    content = make_content()
    cache_file = tmp_path / "parsed.cache"
    saved_cache(content, cache_file)
    path = content / HEAT
    before = os.stat(path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Heat and mortality", "Heat and mortalitY"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    state = ContentState(content, FixedClock(NOW), cache_file=cache_file)
    state.reload()
    assert state.snapshot is not None
    served = {a.path: a.title for a in state.snapshot.catalogue.articles}
    assert served[HEAT] == "Heat and mortalitY"
    fresh = load_content(content)
    assert fresh.catalogue is not None
    assert served == {a.path: a.title for a in fresh.catalogue.articles}


def test_the_sample_content_round_trips_through_the_cache(tmp_path: Path) -> None:
    """Every field the sample uses (images, studies, translations) comes back the same."""
    import shutil

    from tests._support import SAMPLE

    content = tmp_path / "content"
    shutil.copytree(SAMPLE, content)
    cache = saved_cache(content, tmp_path / "cache")
    restored = ParseCache.load(tmp_path / "cache")
    assert restored.entries == cache.entries
    assert any(p.article is not None and p.article.image for p in restored.entries.values())
    for parsed in cache.entries.values():
        assert unpack(pack(parsed)) == parsed
