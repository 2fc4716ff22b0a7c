"""The HTML pages (index, feed pages, article pages): well formed for an HTML5 parser in strict
mode, every field from the content, text escaped once, JSON-LD that no text can break out of."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache

import html5lib
import lxml.html
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smcfeed import urls
from smcfeed._content.loader import load_content
from smcfeed._render import i18n
from smcfeed._render.html import json_for_script
from smcfeed.catalogue import Catalogue, FeedKey
from smcfeed.exceptions import NotFound
from smcfeed.models import Article
from smcfeed.service import Request, Smcfeed

from ._support import NOW, SAMPLE
from .conftest import ContentDir

_FORMATS = [f.name for f in urls.FORMATS]


@cache
def _sample() -> tuple[Catalogue, Smcfeed]:
    catalogue = load_content(SAMPLE).catalogue
    assert catalogue is not None
    return catalogue, Smcfeed(catalogue)


def _page(service: Smcfeed, route: urls.Route, html: bool = False) -> str:
    output = service.render(Request(route, html=html), NOW)
    assert output.media_type == "text/html"
    return output.body.decode()


def _visible(catalogue: Catalogue) -> list[Article]:
    return [a for a in catalogue.items(FeedKey(catalogue.site.default_language), NOW)] + [
        a for lang in catalogue.site.languages[1:] for a in catalogue.items(FeedKey(lang), NOW)
    ]


def _all_pages() -> Iterator[tuple[str, urls.Route, bool]]:
    catalogue, _ = _sample()
    yield "/", urls.Index(), False
    for i, key in enumerate(catalogue.listed_feeds(NOW)):
        fmt = _FORMATS[i % 3]
        yield urls.path(urls.Feed(key, fmt)), urls.Feed(key, fmt), True
    for lang in catalogue.site.languages:
        page = urls.Feed(FeedKey(lang), "atom", 2)
        yield urls.path(page), page, True
    for article in _visible(catalogue):
        route = urls.Article(article.lang, article.slug, "html")
        yield urls.path(route), route, False


def test_every_page_parses_in_html5lib_strict_mode() -> None:
    _, service = _sample()
    parser = html5lib.HTMLParser(strict=True)
    checked = 0
    for path, route, html in _all_pages():
        try:
            parser.parse(_page(service, route, html))
        except html5lib.html5parser.ParseError as e:
            raise AssertionError(f"{path}: {e}") from e
        checked += 1
    catalogue, _ = _sample()
    assert checked == 1 + len(catalogue.listed_feeds(NOW)) + 2 + len(_visible(catalogue))


def _tree(text: str) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(text)


def _words(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _json_ld(tree: lxml.html.HtmlElement) -> dict[str, object]:
    scripts = tree.xpath("//script[@type='application/ld+json']")
    assert len(scripts) == 1
    assert not tree.xpath("//script[not(@type='application/ld+json')]")
    data: dict[str, object] = json.loads(scripts[0].text)
    return data


@pytest.mark.parametrize("lang", ["es", "en"])
def test_article_pages_carry_the_whole_article(lang: str) -> None:
    catalogue, service = _sample()
    site = catalogue.site
    articles = list(catalogue.items(FeedKey(lang), NOW))
    assert any(catalogue.content(a).reactions for a in articles)
    asked = 0
    for article in articles:
        tree = _tree(_page(service, urls.Article(lang, article.slug, "html")))
        text = _words(tree)
        assert tree.get("lang") == lang
        assert [_words(h) for h in tree.xpath("//h1")] == [" ".join(article.title.split())]
        assert " ".join(article.summary.split()) in text
        assert tree.xpath("//main") and tree.xpath("//header") and tree.xpath("//footer")
        credit = site.license.credit[lang]
        for reaction in catalogue.content(article).reactions:
            expert = reaction.expert
            assert expert.name in text and expert.organisation in text
            assert " ".join(i18n.conflicts_line(reaction.conflicts, lang).split()) in text
            (card,) = tree.xpath(f"//section[@id='{reaction.id}']")
            # The editor's questions are headings of their own, never inside the quoted words.
            questions = [s.question for s in reaction.segments if s.question]
            asked += len(questions)
            assert [_words(h) for h in card.xpath(".//h4")] == [
                " ".join(q.split()) for q in questions
            ]
            quoted = " ".join(_words(b) for b in card.xpath(".//blockquote"))
            assert quoted == " ".join(" ".join(s.text for s in reaction.segments).split())
            # The credit line to print, with "via" for a quote gathered by someone else.
            (printed,) = card.xpath(".//p[@class='credit']")
            assert credit in _words(printed)
            assert (reaction.via or "") in _words(printed)
        image = article.image
        if image is not None:
            (img,) = tree.xpath(f"//main//figure/img[@src='{image.url}']")
            assert img.get("alt") == image.alt
            if image.credit:
                assert image.credit in _words(img.getparent())
        if article.study and article.study.doi:
            assert tree.xpath(f"//a[@href='https://doi.org/{article.study.doi}']")
        assert tree.xpath(f"//a[@rel='license'][@href='{site.license.url}']")
        assert site.license.attribution[lang] in text
        others = catalogue.translations(article, NOW)
        alternates = {
            link.get("hreflang"): link.get("href")
            for link in tree.xpath("//link[@rel='alternate'][@hreflang]")
        }
        assert alternates == {
            other.lang: urls.url(site.root, urls.Article(other.lang, other.slug, "html"))
            for other in others
        }
        json_url = urls.url(site.root, urls.Article(lang, article.slug, "json"))
        assert tree.xpath(f"//link[@rel='alternate'][@type='application/json'][@href='{json_url}']")
    assert asked > 0, "the sample quotes have question headings"


def test_article_json_ld_is_a_news_article_with_its_experts() -> None:
    catalogue, service = _sample()
    with_study = with_image = 0
    for article in _visible(catalogue):
        data = _json_ld(_tree(_page(service, urls.Article(article.lang, article.slug, "html"))))
        assert data["@context"] == "https://schema.org"
        assert data["@type"] == "NewsArticle"
        assert data["headline"] == article.title
        assert data["inLanguage"] == article.lang
        assert data["datePublished"] == article.published.isoformat()
        reactions = catalogue.content(article).reactions
        people = data.get("contributor", [])
        assert isinstance(people, list)
        assert [p["name"] for p in people] == [r.expert.name for r in reactions]
        for person, reaction in zip(people, reactions, strict=True):
            assert person["@type"] == "Person"
            assert person["affiliation"] == {
                "@type": "Organization",
                "name": reaction.expert.organisation,
            }
        if article.study and article.study.doi:
            with_study += 1
            citation = data["citation"]
            assert isinstance(citation, dict)
            assert citation["identifier"]["value"] == article.study.doi
        image = article.image
        if image is not None:
            with_image += 1
            assert data["image"]["url"] == image.url  # type: ignore[index]
            assert data["image"]["description"] == image.alt  # type: ignore[index]
        assert data["creditText"] == catalogue.site.license.credit[article.lang]
    assert with_study > 0 and with_image > 0


@pytest.mark.parametrize("path", ["/es/rss.xml", "/en/atom.xml", "/es/feed.json"])
def test_feed_page_shows_items_quotes_and_how_to_subscribe(path: str) -> None:
    catalogue, service = _sample()
    site = catalogue.site
    route = urls.parse(path)
    assert isinstance(route, urls.Feed)
    key = route.key
    tree = _tree(_page(service, route, html=True))
    text = _words(tree)
    assert tree.get("lang") == key.lang
    articles = catalogue.items(key, NOW)[: site.feed_size]
    assert len(tree.xpath("//article")) == len(articles)
    for article in articles:
        page_url = urls.url(site.root, urls.Article(article.lang, article.slug, "html"))
        assert tree.xpath(f"//article//h2/a[@href='{page_url}']")
        for reaction in catalogue.content(article).reactions:
            assert " ".join(i18n.conflicts_line(reaction.conflicts, key.lang).split()) in text
    assert "old" in text or "tiene" in text  # the sample content has items with age labels
    for lang in site.languages:
        for fmt in _FORMATS:
            href = urls.url(site.root, urls.Feed(FeedKey(lang), fmt))
            media = urls.BY_NAME[fmt].media_type
            assert tree.xpath(f"//a[@href='{href}'][@type='{media}']"), (lang, fmt)
    other = next(lang for lang in site.languages if lang != key.lang)
    same_format = urls.url(site.root, urls.Feed(FeedKey(other), route.fmt))
    assert tree.xpath(f"//link[@rel='alternate'][@hreflang='{other}'][@href='{same_format}']")
    next_page = urls.url(site.root, urls.Feed(key, route.fmt, 2))
    assert tree.xpath(f"//link[@rel='next'][@href='{next_page}']")
    assert tree.xpath(f"//a[@rel='next'][@href='{next_page}']")
    assert site.license.attribution[key.lang] in text


def test_index_lists_every_listed_feed_with_autodiscovery() -> None:
    catalogue, service = _sample()
    site = catalogue.site
    tree = _tree(_page(service, urls.Index()))
    links = {a.get("href") for a in tree.xpath("//main//a")}
    for key in catalogue.listed_feeds(NOW):
        for fmt in _FORMATS:
            assert urls.url(site.root, urls.Feed(key, fmt)) in links
    discovered = tree.xpath("//head/link[@rel='alternate'][not(contains(@type, '+oembed'))]")
    assert len(discovered) == len(site.languages) * len(_FORMATS)
    assert tree.get("lang") == site.default_language


def test_plain_text_is_escaped_once(make_content: Callable[[], ContentDir]) -> None:
    content = make_content()
    hostile = 'Hot <b>days</b> & "nights" </script><script>alert(1)</script> <!--'
    content.write(
        "articles/2025/hostile.en.md",
        f"""\
        ---
        type: briefing
        title: '{hostile}'
        published: 2025-06-01T10:00:00+02:00
        topics: [climate]
        summary: '{hostile}'
        reactions:
          - expert: john-smith
            conflicts: '{hostile}'
            quote: Plain words.
        ---
        Body.
        """,
    )
    catalogue = load_content(content).catalogue
    assert catalogue is not None
    service = Smcfeed(catalogue)
    pages = [
        service.render(Request(urls.Article("en", "hostile", "html")), NOW).body.decode(),
        service.render(
            Request(urls.Feed(FeedKey("en", "topics", "climate"), "rss"), html=True), NOW
        ).body.decode(),
    ]
    for page in pages:
        html5lib.HTMLParser(strict=True).parse(page)
        tree = _tree(page)
        assert not tree.xpath("//b | //script[not(@type='application/ld+json')]")
        assert hostile in tree.text_content()
        assert "&amp;amp;" not in page  # escaped once, not twice
    data = _json_ld(_tree(pages[0]))
    assert data["headline"] == hostile and data["description"] == hostile
    assert pages[0].count("</script>") == 1


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(_JSON, st.sampled_from(["</script>", "<!--", "<script>", "]]>", "</SCRIPT ", "&lt;"]))
def test_json_ld_round_trips_whatever_the_text(value: object, nasty: str) -> None:
    value = [nasty, value, {"k" + nasty: nasty}]
    page = (
        '<!doctype html><html lang="en"><head><title>t</title>'
        f'<script type="application/ld+json">{json_for_script(value)}</script>'
        "</head><body><p>after</p></body></html>"
    )
    document = html5lib.parse(page, namespaceHTMLElements=False)
    scripts = document.findall(".//script")
    assert len(scripts) == 1
    assert scripts[0].text is not None
    assert json.loads(scripts[0].text) == value
    assert [p.text for p in document.findall(".//body/p")] == ["after"]


def test_older_pages_tell_readers_to_subscribe_to_the_feed_itself() -> None:
    catalogue, service = _sample()
    key = FeedKey("es")
    tree = _tree(_page(service, urls.Feed(key, "rss", 2), html=True))
    first = urls.url(catalogue.site.root, urls.Feed(key, "rss"))
    assert [_words(c) for c in tree.xpath("//main//code")] == [first]
    previous = urls.url(catalogue.site.root, urls.Feed(key, "rss", 1))
    assert tree.xpath(f"//a[@rel='prev'][@href='{previous}']")


def test_index_sections_speak_their_own_language() -> None:
    catalogue, service = _sample()
    tree = _tree(_page(service, urls.Index()))
    for language in catalogue.site.languages:
        (section,) = tree.xpath(f"//section[@lang='{language}']")
        headings = [_words(h) for h in section.xpath(".//h3")]
        assert headings[0] == i18n.text(language, "all")
        assert i18n.text(language, "topics") in headings


def test_an_empty_feed_says_so(make_content: Callable[[], ContentDir]) -> None:
    # A language's main feed exists before anything is published in it (slices do not).
    content = make_content()
    content.remove("articles/2025/screens-sleep.en.md")
    content.remove("articles/2024/heat-deaths.en.md")
    catalogue = load_content(content).catalogue
    assert catalogue is not None
    key = FeedKey("en")
    assert not catalogue.items(key, NOW)
    page = Smcfeed(catalogue).render(Request(urls.Feed(key, "json"), html=True), NOW)
    html5lib.HTMLParser(strict=True).parse(page.body)
    tree = _tree(page.body.decode())
    assert not tree.xpath("//article") and not tree.xpath("//nav")
    assert i18n.text("en", "page.no_items") in _words(tree)


def test_a_journalists_article_page_marks_the_embargo(
    make_content: Callable[[], ContentDir],
) -> None:
    content = make_content()
    lift = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    content.write(
        "articles/2026/comet-flyby.en.md",
        f"""\
        ---
        type: briefing
        title: A comet flies by
        published: {lift.isoformat()}
        topics: [space]
        summary: Astronomers will brief on the comet.
        ---
        Text.
        """,
    )
    catalogue = load_content(content).catalogue
    assert catalogue is not None
    service = Smcfeed(catalogue)
    route = urls.Article("en", "comet-flyby", "html")
    with pytest.raises(NotFound):
        service.render(Request(route), NOW)
    page = service.render(Request(route, audience="a-token"), NOW).body.decode()
    html5lib.HTMLParser(strict=True).parse(page)
    notice = i18n.embargo_notice("en", lift.astimezone(catalogue.site.zone))
    assert [_words(h) for h in _tree(page).xpath("//h1")] == [f"{notice}: A comet flies by"]
    public = service.render(Request(route), lift).body.decode()
    assert [_words(h) for h in _tree(public).xpath("//h1")] == ["A comet flies by"]
