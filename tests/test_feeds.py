"""Every feed the sample content produces: valid by the schemas, parsed by a real client,
and every field round-tripping from the content."""

from __future__ import annotations

import calendar
import math
from datetime import UTC

import feedparser
import jsonschema
import orjson
import pytest
from lxml import etree

from smcfeed import FeedKey, Smcfeed, load_content
from smcfeed._render.view import article_url, item_id, permalink

from ._support import NOW, SAMPLE, atom_schema, jsonfeed_schema

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"


@pytest.fixture(scope="module")
def service() -> Smcfeed:
    result = load_content(SAMPLE)
    assert result.ok, result.errors
    assert result.catalogue is not None
    return Smcfeed(result.catalogue)


def _all_pages(service: Smcfeed) -> list[tuple[FeedKey, int]]:
    catalogue = service.catalogue
    keys = sorted({FeedKey(lang) for lang in catalogue.site.languages} | set(catalogue.feed_keys()))
    pages = []
    for key in keys:
        count = len(catalogue.items(key, NOW))
        pages += [
            (key, n) for n in range(1, max(1, math.ceil(count / catalogue.site.feed_size)) + 1)
        ]
    return pages


def _unix(dt: object) -> int:
    return int(dt.timestamp())  # type: ignore[attr-defined]


def _parsed(struct: object) -> int:
    return calendar.timegm(struct)  # type: ignore[arg-type]


def test_the_sample_has_feeds_of_every_kind_and_second_pages(service: Smcfeed) -> None:
    pages = _all_pages(service)
    kinds = {key.kind for key, _ in pages}
    assert kinds == {"all", "topics", "types", "experts"}
    assert any(n == 2 for _, n in pages)
    assert len(pages) > 60


def test_every_rss_feed(service: Smcfeed) -> None:
    catalogue = service.catalogue
    site = catalogue.site
    for key, page in _all_pages(service):
        body = service.feed(key, "rss", page, NOW).body
        channel = etree.fromstring(body).find("channel")
        assert channel is not None
        parsed = feedparser.parse(body)
        assert not parsed.bozo, (key, page, parsed.get("bozo_exception"))
        assert parsed.version == "rss20"
        assert parsed.feed.language == key.lang
        articles = catalogue.items(key, NOW)[(page - 1) * site.feed_size : page * site.feed_size]
        assert [e.id for e in parsed.entries] == [item_id(site, a) for a in articles]
        for entry, article, element in zip(
            parsed.entries, articles, channel.findall("item"), strict=True
        ):
            assert entry.title == article.title
            assert entry.link == permalink(site, article)
            assert _parsed(entry.published_parsed) == _unix(article.published)
            assert entry.summary == article.summary
            assert entry.author == site.title[key.lang]
            labels = [catalogue.topics[t][key.lang] for t in article.topics]
            assert [t.term for t in entry.tags] == [*labels, site.types[article.type][key.lang]]
            html = element.findtext(CONTENT)
            assert html is not None and article.summary.split()[0] in html
            for reaction in catalogue.content(article).reactions:
                assert reaction.expert.name in html
        links = {link.get("rel"): link.get("href") for link in channel.findall(f"{ATOM}link")}
        assert links["self"].endswith(("" if page == 1 else f"/page/{page}") + "/rss.xml")
        assert "first" in links and "last" in links


def test_every_atom_feed(service: Smcfeed) -> None:
    catalogue = service.catalogue
    site = catalogue.site
    schema = atom_schema()
    for key, page in _all_pages(service):
        body = service.feed(key, "atom", page, NOW).body
        document = etree.fromstring(body)
        assert schema.validate(document), (key, page, schema.error_log)
        parsed = feedparser.parse(body)
        assert not parsed.bozo, (key, page, parsed.get("bozo_exception"))
        assert parsed.version == "atom10"
        assert parsed.feed.language == key.lang
        articles = catalogue.items(key, NOW)[(page - 1) * site.feed_size : page * site.feed_size]
        if articles:
            assert _parsed(parsed.feed.updated_parsed) == max(_unix(a.modified) for a in articles)
        for entry, article, element in zip(
            parsed.entries, articles, document.findall(f"{ATOM}entry"), strict=True
        ):
            assert entry.id == item_id(site, article)
            assert entry.title == article.title
            assert entry.link == permalink(site, article)
            assert _parsed(entry.published_parsed) == _unix(article.published)
            assert _parsed(entry.updated_parsed) == _unix(article.modified)
            assert entry.summary == article.summary
            tags = [(t.term, t.label) for t in entry.tags]
            expected = [(t, catalogue.topics[t][key.lang]) for t in article.topics]
            assert tags == [*expected, (article.type, site.types[article.type][key.lang])]
            names = [c.name for c in entry.get("contributors", [])]
            assert names == [catalogue.experts[e].name for e in article.expert_ids]
            alternates = [
                (link.get("hreflang"), link.get("type"), link.get("href"))
                for link in element.findall(f"{ATOM}link[@rel='alternate']")
            ]
            # The item's own page is its one alternate; translations are related links.
            assert alternates == [(article.lang, "text/html", permalink(site, article))]
            related = [
                (link.get("hreflang"), link.get("type"), link.get("href"))
                for link in element.findall(f"{ATOM}link[@rel='related']")
            ]
            assert related == [
                (other.lang, "text/html", permalink(site, other))
                for other in catalogue.translations(article, NOW)
            ]
            enclosures = element.findall(f"{ATOM}link[@rel='enclosure']")
            image = article.image
            assert [e.get("href") for e in enclosures] == ([image.url] if image else [])
            if image:
                assert [e.href for e in entry.enclosures] == [image.url]
                assert enclosures[0].get("type") == image.media_type
            license_link = element.find(f"{ATOM}link[@rel='license']")
            assert license_link is not None and license_link.get("href") == site.license.url
            assert element.findtext(f"{ATOM}rights", "").startswith(site.license.name)


def test_every_json_feed(service: Smcfeed) -> None:
    catalogue = service.catalogue
    site = catalogue.site
    validator = jsonschema.Draft7Validator(jsonfeed_schema())
    for key, page in _all_pages(service):
        feed = orjson.loads(service.feed(key, "json", page, NOW).body)
        errors = [e.message for e in validator.iter_errors(feed)]
        assert not errors, (key, page, errors)
        assert feed["language"] == key.lang
        last = math.ceil(len(catalogue.items(key, NOW)) / site.feed_size)
        assert ("next_url" in feed) == (page < last)
        articles = catalogue.items(key, NOW)[(page - 1) * site.feed_size : page * site.feed_size]
        assert [i["id"] for i in feed["items"]] == [item_id(site, a) for a in articles]
        for item, article in zip(feed["items"], articles, strict=True):
            assert item["title"] == article.title
            assert item["url"] == permalink(site, article)
            assert item["date_published"] == article.published.isoformat()
            smc = item["_smc"]
            assert smc["type"]["slug"] == article.type
            assert [t["slug"] for t in smc["topics"]] == list(article.topics)
            assert smc["license"]["url"] == site.license.url
            reactions = catalogue.content(article).reactions
            assert [r.expert_id for r in reactions] == list(article.expert_ids)
            for data, reaction in zip(smc["reactions"], reactions, strict=True):
                assert data["expert"]["name"] == reaction.expert.name
                assert data["expert"]["role"] == reaction.expert.role[key.lang]
                assert data["quote_html"] == reaction.quote_html
                assert "<" not in data["quote_text"]
                assert data["id"] == reaction.id
                questions = [s["question"] for s in data["segments"] if s["question"]]
                assert questions == [s.question for s in reaction.segments if s.question]
                for question in questions:
                    assert question not in data["quote_text"]
                credit = site.license.credit[key.lang]
                assert data["credit"].startswith(credit)
                assert data["via"] == reaction.via
                assert (reaction.via is not None) == (data["credit"] != credit)
                source = reaction.translated_from
                assert data["translated_from"] == (
                    {"code": source, "name": data["translated_from"]["name"]} if source else None
                )
                kind = data["conflicts"]["kind"]
                assert kind == (
                    reaction.conflicts
                    if reaction.conflicts in ("none", "not_responded")
                    else "declared"
                )
            others = catalogue.translations(article, NOW)
            assert [t["language"] for t in smc["translations"]] == [t.lang for t in others]
            assert [t["api_url"] for t in smc["translations"]] == [
                article_url(site, t) for t in others
            ]
            assert smc["slug"] == article.slug
            image = article.image
            assert item.get("image") == (image.url if image else None)
            assert smc["image"] == (
                image.model_dump() | {"type": image.media_type} if image else None
            )


def test_age_labels_lead_the_content_in_the_items_language(service: Smcfeed) -> None:
    feed = orjson.loads(service.feed(FeedKey("es"), "json", 2, NOW).body)
    old = [i for i in feed["items"] if i["_smc"]["age"]]
    assert old, "the sample's second page holds articles older than a year"
    for item in old:
        age = item["_smc"]["age"]
        assert item["content_html"].startswith(f"<p><strong>{age['label']}</strong></p>")
        assert age["label"].startswith("Este artículo tiene")
        published = item["date_published"]
        assert age["unit"] == "years" and age["count"] == _years(published)


def _years(published: str) -> int:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    start = datetime.fromisoformat(published).astimezone(ZoneInfo("Europe/Madrid")).date()
    today = NOW.astimezone(ZoneInfo("Europe/Madrid")).date()
    return today.year - start.year - ((today.month, today.day) < (start.month, start.day))


def test_item_ids_are_stable_across_edits_and_differ_per_language(service: Smcfeed) -> None:
    site = service.site
    article = next(a for a in service.catalogue.articles if service.catalogue.translations(a, NOW))
    edited = article.model_copy(update={"title": "Edited", "published": NOW.astimezone(UTC)})
    assert item_id(site, edited) == item_id(site, article)
    other = service.catalogue.translations(article, NOW)[0]
    assert item_id(site, other) != item_id(site, article)


def test_same_content_and_clock_give_the_same_bytes() -> None:
    first = load_content(SAMPLE).catalogue
    second = load_content(SAMPLE).catalogue
    assert first is not None and second is not None
    for fmt in ("rss", "atom", "json"):
        a = Smcfeed(first).feed(FeedKey("en"), fmt, 1, NOW).body
        b = Smcfeed(second).feed(FeedKey("en"), fmt, 1, NOW).body
        assert a == b


def test_no_active_content_survives_into_item_html(tmp_path: object) -> None:
    from smcfeed._render import markdown as _markdown

    html = _markdown.render(
        "<script>alert(1)</script>\n\n[x](javascript:alert(1)) ![i](/a.png)"
        '\n\n<iframe src="https://evil.example"></iframe> <b onclick="x()">b</b>'
        "\n\n<style>p{}</style> [rel](../up)",
        "https://feeds.example.org",
    )
    from lxml import html as lxml_html

    tree = lxml_html.fragment_fromstring(html, create_parent="div")
    assert not tree.xpath("//script | //iframe | //style")
    assert not [a for e in tree.iter() for a in e.attrib if a.startswith("on")]
    assert not tree.xpath("//@href[starts-with(., 'javascript')]")
    assert 'src="https://feeds.example.org/a.png"' in html
    assert 'href="https://feeds.example.org/up"' in html
