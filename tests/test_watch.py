"""The watcher's second look: every file in a process that loaded the content, only what
changed since the fork in a worker forked after that look (so an edit made while the workers
started is not missed, and nothing loaded is touched)."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path

from smcfeed import FixedClock, urls
from smcfeed._serve.state import ContentState
from smcfeed._serve.watch import _catch_up, changed_since
from smcfeed.service import Request

from ._support import NOW, SAMPLE


def _title_in_feed(state: ContentState, text: str) -> bool:
    assert state.snapshot is not None
    body = state.snapshot.service.render(Request(urls.parse("/es/rss.xml")), NOW).body
    return text.encode() in body


def test_changed_since_lists_files_and_folders_touched_after_an_instant(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(SAMPLE, root)
    old = time.time() - 3600
    for path in [root, *root.rglob("*")]:
        os.utime(path, (old, old))
    assert changed_since(root, time.time()) == []
    article = next((root / "articles" / "2026").glob("*.es.md"))
    article.write_text(article.read_text())
    (root / "articles" / "2025" / "gone.es.md").write_text("x")
    (root / "articles" / "2025" / "gone.es.md").unlink()
    found = set(changed_since(root, time.time() - 1))
    assert article in found and root / "articles" / "2025" in found
    assert root / "site.yaml" not in found


def test_a_worker_sees_an_edit_made_while_it_started(tmp_path: Path) -> None:
    root = tmp_path / "content"
    shutil.copytree(SAMPLE, root)
    state = ContentState(root, FixedClock(NOW))
    state.reload()
    # As in a worker forked after the loading process's second look, before its watcher ran.
    state.catch_up, state.forked_at = False, time.time()
    article = next((root / "articles" / "2026").glob("*.es.md"))
    article.write_text(article.read_text().replace("\ntitle: ", '\ntitle: "Visto tarde" #', 1))
    assert not _title_in_feed(state, "Visto tarde")
    asyncio.run(_catch_up(state, delay=0))
    assert _title_in_feed(state, "Visto tarde")
