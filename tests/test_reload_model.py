"""One truth, as a stateful property: whatever sequence of edits, breaks, fixes, deletes,
renames, releases swapped in behind the folder's link, clock moves and restarts from the parse
cache, what is served equals what a load
from nothing serves (the last good content while the folder has errors), and no public
output holds an item before its time."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from smcfeed import FixedClock, urls
from smcfeed._content.loader import load_content
from smcfeed._serve.state import ContentState, Snapshot
from smcfeed.catalogue import Catalogue, FeedKey
from smcfeed.exceptions import NotFound
from smcfeed.service import Request, Smcfeed
from tests.conftest import ContentDir, write_valid_content

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SLUGS = ("alpha", "beta", "gamma")
LANGS = ("es", "en")
EXPERTS = ("ana-garcia", "john-smith", "nova-ruiz")
#: Outputs compared after every step (each language's feeds, slices, OPML, index).
SAMPLE = [
    "/",
    "/feeds.opml",
    *(f"/{lang}/{name}" for lang in LANGS for name in ("rss.xml", "atom.xml", "feed.json")),
    "/en/topics/space/atom.xml",
    "/es/types/guide/rss.xml",
    "/en/experts/nova-ruiz/feed.json",
    "/es/experts/ana-garcia/rss.xml",
]

offsets = st.one_of(
    st.integers(-120, 120).map(lambda m: timedelta(minutes=m)),
    st.integers(-800, 40).map(lambda d: timedelta(days=d)),
)


def article_text(
    published: datetime, title: str, kind: str, topics: list[str], expert: str | None
) -> str:
    lines = [
        "---",
        f"type: {kind}",
        f"title: {title}",
        f"published: {published.isoformat()}",
        f"topics: [{', '.join(topics)}]",
        "summary: A summary.",
    ]
    if expert:
        lines += ["reactions:", f"  - expert: {expert}", "    conflicts: none", "    quote: Yes."]
    return "\n".join([*lines, "---", "Body.", ""])


def expert_text(name: str) -> str:
    return f"name: {name}\nrole:\n  es: Física\n  en: Physicist\norganisation: Lab\n"


def shape(catalogue: Catalogue) -> list[tuple[object, ...]]:
    return [
        (a.path, a.title, a.published, a.type, a.topics, a.expert_ids, a.source)
        for a in catalogue.articles
    ]


class ContentMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="smcfeed-model-"))
        # Served through a link, as deploys that swap releases lay it out (see swap_release).
        self.release = 0
        write_valid_content(self.tmp / "releases" / "0")
        (self.tmp / "content").symlink_to(self.tmp / "releases" / "0")
        self.content = ContentDir(self.tmp / "content")
        self.content.write("experts/nova-ruiz.yaml", expert_text("Nova Ruiz"))
        self.clock = FixedClock(NOW)
        self.cache_file = self.tmp / "parsed.cache"
        #: The article files this machine wrote, by path relative to the folder.
        self.files: dict[str, str] = {}
        self.counter = 0
        self.start()

    def start(self) -> None:
        """Start a service, as `serve` does, from the parse cache file if there is one."""
        self.state = ContentState(self.content, self.clock, cache_file=self.cache_file)
        self.state._saved_at = time.monotonic() + 1e9  # saved only when a rule says so
        self.state.reload()
        fresh = load_content(self.content)
        # A start serves the folder as it is, without its broken files.
        assert fresh.catalogue is not None
        self.expected = fresh.catalogue

    def teardown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def changed(self, *relative: str) -> None:
        """Tell the service what changed, as the watcher does; then what a load from nothing
        serves is what must be served, unless the folder has errors."""
        self.state.reload([self.content / r for r in relative])
        fresh = load_content(self.content)
        if fresh.catalogue is not None and not fresh.errors:
            self.expected = fresh.catalogue

    def title(self) -> str:
        self.counter += 1
        return f"Item {self.counter}"

    # --- articles ---------------------------------------------------------------------------

    @rule(
        slug=st.sampled_from(SLUGS),
        lang=st.sampled_from(LANGS),
        offset=offsets,
        kind=st.sampled_from(("reaction", "guide")),
        topics=st.sampled_from((["space"], ["climate", "space"], ["climate"])),
        expert=st.sampled_from((None, *EXPERTS)),
    )
    def write_article(
        self,
        slug: str,
        lang: str,
        offset: timedelta,
        kind: str,
        topics: list[str],
        expert: str | None,
    ) -> None:
        published = (self.clock() + offset).replace(microsecond=0)
        relative = f"articles/{published.year}/{slug}.{lang}.md"
        text = article_text(published, self.title(), kind, topics, expert)
        self.content.write(relative, text)
        self.files[relative] = text
        self.changed(relative)

    @precondition(lambda self: self.files)
    @rule(data=st.data())
    def break_article(self, data: st.DataObject) -> None:
        relative = data.draw(st.sampled_from(sorted(self.files)))
        self.content.write(relative, self.files[relative].replace("summary:", "sumary:"))
        self.changed(relative)

    @precondition(lambda self: self.files)
    @rule(data=st.data())
    def fix_article(self, data: st.DataObject) -> None:
        relative = data.draw(st.sampled_from(sorted(self.files)))
        self.content.write(relative, self.files[relative])
        self.changed(relative)

    @precondition(lambda self: self.files)
    @rule(data=st.data(), offset=offsets)
    def move_published(self, data: st.DataObject, offset: timedelta) -> None:
        """Move ``published`` (often across now), keeping the file in its year folder."""
        relative = data.draw(st.sampled_from(sorted(self.files)))
        old = self.files[relative]
        year = int(relative.split("/")[1])
        published = (self.clock() + offset).replace(microsecond=0)
        if published.year != year:
            published = published.replace(year=year)
        start = old.index("published: ") + len("published: ")
        end = old.index("\n", start)
        text = old[:start] + published.isoformat() + old[end:]
        self.content.write(relative, text)
        self.files[relative] = text
        self.changed(relative)

    @precondition(lambda self: self.files)
    @rule(data=st.data())
    def delete_article(self, data: st.DataObject) -> None:
        relative = data.draw(st.sampled_from(sorted(self.files)))
        (self.content / relative).unlink(missing_ok=True)
        del self.files[relative]
        self.changed(relative)

    @precondition(lambda self: self.files)
    @rule(data=st.data(), slug=st.sampled_from(SLUGS), lang=st.sampled_from(LANGS))
    def rename_article(self, data: st.DataObject, slug: str, lang: str) -> None:
        relative = data.draw(st.sampled_from(sorted(self.files)))
        target = f"{relative.rsplit('/', 1)[0]}/{slug}.{lang}.md"
        if target == relative:
            return
        (self.content / relative).rename(self.content / target)
        self.files[target] = self.files.pop(relative)
        self.changed(relative, target)

    # --- experts ----------------------------------------------------------------------------

    @rule(expert=st.sampled_from(EXPERTS), action=st.sampled_from(("edit", "break", "delete")))
    def change_expert(self, expert: str, action: str) -> None:
        relative = f"experts/{expert}.yaml"
        if action == "edit":
            self.content.write(relative, expert_text(f"Dr {self.title()}"))
        elif action == "break":
            self.content.write(relative, expert_text("Broken").replace("organisation", "org"))
        else:
            (self.content / relative).unlink(missing_ok=True)
        self.changed(relative)

    # --- deploys -----------------------------------------------------------------------------

    @rule(data=st.data(), edit=st.booleans())
    def swap_release(self, data: st.DataObject, edit: bool) -> None:
        """A deploy: a copy of the release (one article retitled in it when ``edit``), the
        folder's link re-pointed at it at once, the old release deleted; then, as the watcher
        does when the link leads elsewhere, every file looked at."""
        old = Path(os.path.realpath(self.content))
        self.release += 1
        new = self.tmp / "releases" / str(self.release)
        shutil.copytree(old, new, symlinks=True)
        if edit and self.files:
            relative = data.draw(st.sampled_from(sorted(self.files)))
            text = self.files[relative].replace("title: ", f"title: Release {self.release} ", 1)
            (new / relative).write_text(text, encoding="utf-8")
            self.files[relative] = text
        fresh = self.tmp / "content.new"
        fresh.symlink_to(new)
        fresh.replace(self.content)
        shutil.rmtree(old)
        self.state.reload(None)
        loaded = load_content(self.content)
        if loaded.catalogue is not None and not loaded.errors:
            self.expected = loaded.catalogue

    # --- time and restarts ------------------------------------------------------------------

    @rule(step=st.sampled_from((1, 59, 3600, 86400 * 3, 86400 * 200)))
    def advance_clock(self, step: int) -> None:
        self.clock.advance(seconds=step)

    @rule()
    def save_parse_cache(self) -> None:
        self.state.parsed.save(self.cache_file)

    @rule()
    def restart(self) -> None:
        self.start()

    # --- the truth --------------------------------------------------------------------------

    @invariant()
    def served_equals_a_load_from_nothing(self) -> None:
        now = self.clock()
        snapshot = self.state.snapshot
        assert snapshot is not None
        served, expected = snapshot.catalogue, self.expected
        assert shape(served) == shape(expected)
        assert served.feed_keys() == expected.feed_keys()
        for key in expected.feed_keys():
            assert _items(served, key, now) == _items(expected, key, now), key
        reference = Smcfeed(expected)
        for path in SAMPLE:
            request = Request(urls.parse(path))
            body = _cached_body(snapshot, request, now)
            assert body == _rendered_body(reference, path, now), path
            for article in served.articles:
                if article.published > now:
                    assert f"/{article.lang}/articles/{article.slug}.json".encode() not in body, (
                        path,
                        article.path,
                    )


def _cached_body(snapshot: Snapshot, request: Request, now: datetime) -> bytes:
    """The served (cached) body, or b"404"."""
    try:
        return snapshot.cache.get(request, now).output.body
    except NotFound:
        return b"404"


def _rendered_body(service: Smcfeed, path: str, now: datetime) -> bytes:
    """The body rendered afresh, or b"404"."""
    try:
        return service.get(path, "", now).body
    except NotFound:
        return b"404"


def _items(catalogue: Catalogue, key: FeedKey, now: datetime) -> list[str]:
    """The feed's items, or ["404"] (a slice with nothing public is an unknown feed)."""
    try:
        return [a.path for a in catalogue.items(key, now)]
    except NotFound:
        return ["404"]


ContentMachine.TestCase.settings = settings(max_examples=10, stateful_step_count=25, deadline=None)
TestContentModel = ContentMachine.TestCase
