"""Nothing public reveals an embargo: a property over random small corpora and clock times.

Two apps serve the same corpus, one with its embargoed files and one without. Before the
first lift, every public route (every feed of every language, topic, type and expert, known
or not, every page and format, the OPML files, the index, the article API and pages, widgets,
quote cards, oEmbed, OpenAPI, the stylesheet, /healthz and the operator path without its
token) answers byte for byte the same in both, headers included. After the lifts, every
route the lifted items do not touch still does, the lifted items are there, and the app that
watched the clock move answers exactly as a fresh start at that instant would.
"""

from __future__ import annotations

import asyncio
import tempfile
import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smcfeed import FixedClock, create_app, urls
from smcfeed.catalogue import FeedKey

from .conftest import EXPERTS, SITE_YAML, TOPICS_YAML

#: Embargoes lift on grid lines after BASE; public items were published before it.
BASE = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)
GRID = timedelta(minutes=5)
LANGS = ("es", "en")
TOPICS = ("climate", "public-health", "space")
TYPES = ("reaction", "expert-voice", "what-we-know", "guide", "briefing")
SLUGS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta")
ROOT = "https://feeds.example.org"
ARTICLE_FORMATS: tuple[Literal["json", "html"], ...] = ("json", "html")


@dataclass(frozen=True)
class Doc:
    slug: str
    lang: str
    topics: tuple[str, ...]
    experts: tuple[str, ...]
    published: datetime

    @property
    def type(self) -> str:
        # Translations share a type: derive it from the slug.
        return TYPES[SLUGS.index(self.slug) % len(TYPES)]

    @property
    def path(self) -> str:
        return f"articles/{self.published.year}/{self.slug}.{self.lang}.md"

    def text(self) -> str:
        reactions = "".join(
            f"  - expert: {e}\n    conflicts: none\n    quote: Quote by {e} on {self.slug}.\n"
            for e in self.experts
        )
        front = (
            f"type: {self.type}\ntitle: Title {self.slug} {self.lang}\n"
            f"published: {self.published.isoformat()}\n"
            f"topics: [{', '.join(self.topics)}]\nsummary: Summary of {self.slug}.\n"
        )
        if reactions:
            front += "reactions:\n" + reactions
        return f"---\n{front}---\nBody of {self.slug}.\n"


def _past() -> st.SearchStrategy[datetime]:
    # Any second in the two years before BASE, on the grid or not.
    return st.integers(1, 2 * 365 * 86400).map(lambda s: BASE - timedelta(seconds=s))


def _lift() -> st.SearchStrategy[datetime]:
    # A grid line within three days after BASE (past a local midnight or two), or, as an
    # editor may still commit one that `check` refuses, a second off it.
    lines = st.integers(1, 3 * 24 * 12).map(lambda n: BASE + n * GRID)
    off = st.sampled_from([0, 0, 0, 1, 59, 299])
    return st.builds(lambda line, s: line + timedelta(seconds=s), lines, off)


@st.composite
def corpora(draw: st.DrawFn) -> tuple[list[Doc], list[Doc]]:
    """(public documents, embargoed documents), each (slug, lang) once."""
    keys = draw(
        st.lists(st.tuples(st.sampled_from(SLUGS), st.sampled_from(LANGS)), min_size=1,
                 max_size=7, unique=True)
    )  # fmt: skip
    public: list[Doc] = []
    embargoed: list[Doc] = []
    for slug, lang in keys:
        topics = draw(st.lists(st.sampled_from(TOPICS), min_size=1, max_size=2, unique=True))
        experts = draw(st.lists(st.sampled_from(sorted(EXPERTS)), max_size=2, unique=True))
        secret = draw(st.booleans())
        when = draw(_lift() if secret else _past())
        doc = Doc(slug, lang, tuple(topics), tuple(experts), when)
        (embargoed if secret else public).append(doc)
    return public, embargoed


def _write(root: Path, docs: list[Doc]) -> Path:
    (root / "articles").mkdir(parents=True)
    (root / "site.yaml").write_text(textwrap.dedent(SITE_YAML))
    (root / "topics.yaml").write_text(textwrap.dedent(TOPICS_YAML))
    for expert, text in EXPERTS.items():
        (root / "experts").mkdir(exist_ok=True)
        (root / "experts" / f"{expert}.yaml").write_text(textwrap.dedent(text))
    for doc in docs:
        (root / doc.path).parent.mkdir(parents=True, exist_ok=True)
        (root / doc.path).write_text(doc.text())
    return root


def _keys() -> list[FeedKey]:
    keys = [FeedKey(lang) for lang in (*LANGS, "fr")]
    for lang in (*LANGS, "fr"):
        keys += [FeedKey(lang, "topics", t) for t in (*TOPICS, "volcanoes")]
        keys += [FeedKey(lang, "types", t) for t in (*TYPES, "podcast")]
        keys += [FeedKey(lang, "experts", e) for e in (*sorted(EXPERTS), "nobody")]
    return keys


def _routes() -> list[tuple[str, str, frozenset[FeedKey], frozenset[str]]]:
    """Every public request: (path, query, feed keys it shows, slugs it shows)."""
    every = frozenset(_keys())
    out: list[tuple[str, str, frozenset[FeedKey], frozenset[str]]] = []
    listings: list[urls.Route] = [
        urls.Index(),
        urls.Opml(),
        *(urls.Opml(f.name) for f in urls.FORMATS),
    ]
    for route in listings:
        out.append((urls.path(route), "", every, frozenset(SLUGS)))
    for fixed in (urls.HEALTH_PATH, urls.OPERATOR_PATH, "/feed.xsl", "/openapi.json", "/nope"):
        out.append((fixed, "", frozenset(), frozenset()))
    for key in _keys():
        for fmt in urls.FORMATS:
            for page in (1, 2, 3, 4):
                out.append((urls.path(urls.Feed(key, fmt.name, page)), "", frozenset([key]),
                            frozenset()))  # fmt: skip
        out.append((urls.path(urls.Feed(key, "rss")), "page=2", frozenset([key]), frozenset()))
        widget = urls.path(urls.Widget(key))
        out.append((widget, "", frozenset([key]), frozenset()))
        target = urls.url(ROOT, urls.Feed(key, "rss"))
        out.append(("/oembed", f"url={target}", frozenset([key]), frozenset()))
    for slug in (*SLUGS, "omega"):
        for lang in (*LANGS, "fr"):
            for article_fmt in ARTICLE_FORMATS:
                path = urls.path(urls.Article(lang, slug, article_fmt))
                out.append((path, "", frozenset(), frozenset([slug])))
                out.append(("/oembed", f"url={ROOT}{path}", frozenset(), frozenset([slug])))
            for expert in sorted(EXPERTS):
                card = urls.path(urls.QuoteCard(lang, slug, expert))
                out.append((card, "", frozenset(), frozenset([slug])))
    return out


ROUTES = _routes()
#: Each route plainly, and the main ones as a browser and a compressing cache would ask.
VARIANTS: tuple[tuple[tuple[bytes, bytes], ...], ...] = (
    (),
    ((b"accept-encoding", b"gzip, br"), (b"accept", b"text/html,*/*;q=0.8")),
)

Answer = tuple[int, tuple[tuple[bytes, bytes], ...], bytes]


async def _call(
    app: Any, path: str, query: str, headers: tuple[tuple[bytes, bytes], ...]
) -> Answer:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"feeds.example.org"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("feeds.example.org", 443),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    kept = tuple(sorted((k.lower(), v) for k, v in start["headers"] if k.lower() != b"date"))
    return start["status"], kept, body


def _answers(app: Any) -> dict[tuple[str, str, int], Answer]:
    async def run() -> dict[tuple[str, str, int], Answer]:
        out = {}
        for path, query, _, _ in ROUTES:
            for index, headers in enumerate(VARIANTS):
                if index and not query and path.count("/") > 3:
                    continue  # deep pages: plainly only, to keep the suite quick
                out[(path, query, index)] = await _call(app, path, query, headers)
        return out

    return asyncio.run(run())


def _touched(lifted: list[Doc], every: list[Doc]) -> tuple[set[FeedKey], set[str]]:
    """The feeds and slugs whose outputs a lifted document changes: its own, and its
    translations' (which gain a link to it)."""
    slugs = {d.slug for d in lifted}
    keys: set[FeedKey] = set()
    for doc in every:
        if doc.slug in slugs:
            keys.add(FeedKey(doc.lang))
            keys.add(FeedKey(doc.lang, "types", doc.type))
            keys |= {FeedKey(doc.lang, "topics", t) for t in doc.topics}
            keys |= {FeedKey(doc.lang, "experts", e) for e in doc.experts}
    return keys, slugs


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    corpus=corpora(),
    before_offset=st.integers(1, 3 * 86400 * 10**6),
    after_offset=st.integers(0, 2 * 86400),
)
def test_no_public_response_differs_with_or_without_embargoed_files(
    corpus: tuple[list[Doc], list[Doc]], before_offset: int, after_offset: int
) -> None:
    public, embargoed = corpus
    first_lift = min((d.published for d in embargoed), default=BASE + GRID)
    last_lift = max((d.published for d in embargoed), default=BASE + GRID)
    # Any instant up to a microsecond before the first lift, and any after the last.
    before = first_lift - timedelta(microseconds=before_offset)
    after = last_lift + timedelta(seconds=after_offset)
    with tempfile.TemporaryDirectory() as tmp:
        with_files = _write(Path(tmp) / "with", public + embargoed)
        without = _write(Path(tmp) / "without", public)
        clock = FixedClock(before)
        app_with = create_app(with_files, clock=clock)
        app_without = create_app(without, clock=clock)
        seen_with, seen_without = _answers(app_with), _answers(app_without)
        for request, answer in seen_with.items():
            assert answer == seen_without[request], request

        clock.set(after)
        seen_with, seen_without = _answers(app_with), _answers(app_without)
        fresh = _answers(create_app(with_files, clock=FixedClock(after)))
        keys, slugs = _touched(embargoed, public + embargoed)
        for path, query, shows, shows_slugs in ROUTES:
            for index in range(len(VARIANTS)):
                request = (path, query, index)
                if request not in seen_with:
                    continue
                # Exact lifts: nothing stale in the app that watched the clock move.
                assert seen_with[request] == fresh[request], request
                if not (shows & keys or shows_slugs & slugs):
                    assert seen_with[request] == seen_without[request], request
        for doc in embargoed:
            api = (urls.path(urls.Article(doc.lang, doc.slug, "json")), "", 0)
            assert seen_with[api][0] == 200 and seen_without[api][0] == 404
            main = seen_with[(urls.path(urls.Feed(FeedKey(doc.lang), "json")), "", 0)]
            assert main[0] == 200
