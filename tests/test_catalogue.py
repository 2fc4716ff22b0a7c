"""The catalogue: feeds by language, topic, type and expert; lookups; embargoes by the instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from smcfeed._content.loader import load_content
from smcfeed.catalogue import EVERYTHING, Catalogue, FeedKey
from smcfeed.exceptions import NotFound

#: Well after every article of make_content.
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
#: An embargo: 2030-01-01 09:00 in Madrid (08:00 UTC).
EMBARGO = datetime.fromisoformat("2030-01-01T09:00:00+01:00")
SECOND = timedelta(seconds=1)


def embargoed(slug: str = "embargoed", published: str = EMBARGO.isoformat(), **extra: str) -> str:
    fields = {
        "type": "reaction",
        "title": f"Embargoed {slug}",
        "published": published,
        "topics": "[climate]",
        "summary": "Not yet public.",
        **extra,
    }
    front = "".join(f"{key}: {value}\n" for key, value in fields.items())
    reaction = "reactions:\n  - expert: lucia-perez\n    conflicts: none\n    quote: Wait.\n"
    return f"---\n{front}{reaction}---\nBody.\n"


def catalogue_of(content: Path) -> Catalogue:
    result = load_content(content)
    assert result.errors == [], [str(e) for e in result.errors]
    assert result.catalogue is not None
    return result.catalogue


def paths(articles) -> list[str]:
    return [a.path for a in articles]


@pytest.fixture(scope="module")
def catalogue(valid_content) -> Catalogue:
    """The valid folder's catalogue, loaded once: a catalogue never changes."""
    return catalogue_of(valid_content)


@pytest.fixture
def with_embargo(make_content) -> Catalogue:
    content = make_content()
    content.write("articles/2030/embargoed.es.md", embargoed())
    return catalogue_of(content)


# --- indexes ---------------------------------------------------------------------------------


def test_feed_per_language_newest_first(catalogue):
    assert len(catalogue) == 4
    assert paths(catalogue.items(FeedKey("es"), NOW)) == [
        "articles/2024/heat-deaths.es.md",
        "articles/2023/mars-samples.es.md",
    ]
    assert paths(catalogue.items(FeedKey("en"), NOW)) == [
        "articles/2025/screens-sleep.en.md",
        "articles/2024/heat-deaths.en.md",
    ]


def test_feed_per_topic(catalogue):
    assert paths(catalogue.items(FeedKey("en", "topics", "public-health"), NOW)) == [
        "articles/2025/screens-sleep.en.md",
        "articles/2024/heat-deaths.en.md",
    ]
    assert paths(catalogue.items(FeedKey("en", "topics", "climate"), NOW)) == [
        "articles/2024/heat-deaths.en.md",
    ]
    assert paths(catalogue.items(FeedKey("es", "topics", "space"), NOW)) == [
        "articles/2023/mars-samples.es.md",
    ]
    # A topic in topics.yaml with nothing in this language is no feed (as unknown as any).
    with pytest.raises(NotFound):
        catalogue.items(FeedKey("en", "topics", "space"), NOW)


def test_feed_per_type(catalogue):
    assert paths(catalogue.items(FeedKey("es", "types", "reaction"), NOW)) == [
        "articles/2024/heat-deaths.es.md",
    ]
    assert paths(catalogue.items(FeedKey("es", "types", "expert-voice"), NOW)) == [
        "articles/2023/mars-samples.es.md",
    ]
    assert paths(catalogue.items(FeedKey("en", "types", "what-we-know"), NOW)) == [
        "articles/2025/screens-sleep.en.md",
    ]
    with pytest.raises(NotFound):
        catalogue.items(FeedKey("en", "types", "briefing"), NOW)


def test_feed_per_expert(catalogue):
    assert paths(catalogue.items(FeedKey("es", "experts", "john-smith"), NOW)) == [
        "articles/2024/heat-deaths.es.md",
    ]
    assert paths(catalogue.items(FeedKey("es", "experts", "lucia-perez"), NOW)) == [
        "articles/2023/mars-samples.es.md",
    ]
    assert paths(catalogue.items(FeedKey("en", "experts", "ana-garcia"), NOW)) == [
        "articles/2024/heat-deaths.en.md",
    ]
    with pytest.raises(NotFound):
        catalogue.items(FeedKey("en", "experts", "lucia-perez"), NOW)


def test_expert_quoted_twice_in_one_article_is_listed_once(make_content):
    content = make_content()
    content.write(
        "articles/2025/two-quotes.en.md",
        embargoed("two-quotes", "2025-03-01T10:00:00+01:00").replace(
            "    quote: Wait.\n",
            "    quote: Wait.\n  - expert: lucia-perez\n    conflicts: none\n    quote: More.\n",
        ),
    )
    catalogue = catalogue_of(content)

    assert paths(catalogue.items(FeedKey("en", "experts", "lucia-perez"), NOW)) == [
        "articles/2025/two-quotes.en.md",
    ]


def test_feed_keys_lists_the_feeds_with_articles_in_order(catalogue):
    keys = catalogue.feed_keys()

    assert keys == sorted(keys)
    assert FeedKey("es") in keys and FeedKey("en") in keys
    assert FeedKey("es", "experts", "lucia-perez") in keys
    assert FeedKey("en", "experts", "lucia-perez") not in keys
    assert FeedKey("en", "types", "briefing") not in keys
    assert all(catalogue.items(key, NOW) for key in keys)


def test_feed_key_paths():
    assert FeedKey("es").path == "/es"
    assert FeedKey("en", "topics", "climate").path == "/en/topics/climate"


@pytest.mark.parametrize(
    ("key", "exists"),
    [
        (FeedKey("es"), True),
        (FeedKey("en"), True),
        (FeedKey("fr"), False),
        (FeedKey("es", "all", "climate"), False),
        (FeedKey("es", "topics", "climate"), True),
        (FeedKey("es", "topics", "weather"), False),
        (FeedKey("fr", "topics", "climate"), False),
        (FeedKey("en", "types", "briefing"), False),
        (FeedKey("en", "types", "what-we-know"), True),
        (FeedKey("es", "types", "what-we-know"), False),
        (FeedKey("en", "types", "podcast"), False),
        (FeedKey("en", "experts", "lucia-perez"), False),
        (FeedKey("es", "experts", "lucia-perez"), True),
        (FeedKey("en", "experts", "nobody"), False),
        (FeedKey("en", "topics", ""), False),
        (FeedKey("en", "topics", "reaction"), False),
        (FeedKey("en", "types", "climate"), False),
    ],
)
def test_exists(catalogue, key, exists):
    assert catalogue.exists(key, NOW) is exists
    if not exists:
        with pytest.raises(NotFound):
            catalogue.items(key, NOW)


# --- articles and translations ---------------------------------------------------------------


def test_article_lookup(catalogue):
    article = catalogue.article("en", "heat-deaths", NOW)

    assert article.path == "articles/2024/heat-deaths.en.md"
    assert article.lang == "en" and article.slug == "heat-deaths"


@pytest.mark.parametrize(("lang", "slug"), [("en", "mars-samples"), ("fr", "heat-deaths"),
                                            ("es", "nothing"), ("es", "")])  # fmt: skip
def test_unknown_article_is_not_found(catalogue, lang, slug):
    with pytest.raises(NotFound):
        catalogue.article(lang, slug, NOW)


def test_translations(catalogue):
    es = catalogue.article("es", "heat-deaths", NOW)
    en = catalogue.article("en", "heat-deaths", NOW)
    mars = catalogue.article("es", "mars-samples", NOW)

    assert catalogue.translations(es, NOW) == [en]
    assert catalogue.translations(en, NOW) == [es]
    assert catalogue.translations(mars, NOW) == []
    assert catalogue.translation_releases(es, NOW) == []


def test_embargoed_translation_is_hidden_until_it_lifts(make_content):
    content = make_content()
    content.write("articles/2030/embargoed.es.md", embargoed())
    content.write("articles/2030/embargoed.en.md", embargoed(published="2030-01-01T10:00:00+01:00"))
    catalogue = catalogue_of(content)
    lifted = EMBARGO + timedelta(hours=1)
    es = catalogue.article("es", "embargoed", EMBARGO)

    assert catalogue.translations(es, lifted - SECOND) == []
    assert catalogue.translation_releases(es, lifted - SECOND) == [lifted]
    assert [a.lang for a in catalogue.translations(es, lifted)] == ["en"]
    assert catalogue.translation_releases(es, lifted) == []


# --- embargoes -------------------------------------------------------------------------------


def test_embargo_hides_the_article_until_its_exact_instant(with_embargo):
    catalogue = with_embargo
    keys = [
        FeedKey("es"),
        FeedKey("es", "topics", "climate"),
        FeedKey("es", "types", "reaction"),
        FeedKey("es", "experts", "lucia-perez"),
    ]

    for now in (NOW, EMBARGO - SECOND, EMBARGO - timedelta(microseconds=1)):
        for key in keys:
            assert "articles/2030/embargoed.es.md" not in paths(catalogue.items(key, now))
        with pytest.raises(NotFound):
            catalogue.article("es", "embargoed", now)

    for now in (EMBARGO, EMBARGO.astimezone(UTC), EMBARGO + SECOND):
        for key in keys:
            assert paths(catalogue.items(key, now))[0] == "articles/2030/embargoed.es.md"
        assert catalogue.article("es", "embargoed", now).published == EMBARGO


def test_a_slice_with_only_embargoed_items_does_not_exist_until_the_lift(make_content):
    content = make_content()
    lift = datetime.fromisoformat("2030-01-01T10:00:00+01:00")
    content.write(
        "articles/2030/embargoed.en.md", embargoed(published=lift.isoformat(), topics="[space]")
    )
    catalogue = catalogue_of(content)
    # Nothing public in English is about space or quotes lucia-perez, until the lift.
    for key in (FeedKey("en", "experts", "lucia-perez"), FeedKey("en", "topics", "space")):
        assert not catalogue.exists(key, lift - SECOND)
        assert key not in catalogue.listed_feeds(lift - SECOND)
        assert catalogue.exists(key, lift)
        assert key in catalogue.listed_feeds(lift)
        # Private feeds look past every embargo.
        assert catalogue.exists(key, EVERYTHING)


def test_embargo_is_an_instant_whatever_the_offset_of_now(with_embargo):
    # 07:59:59 UTC is 08:59:59 in Madrid: still embargoed; 08:00 UTC is the instant.
    before = datetime(2030, 1, 1, 7, 59, 59, tzinfo=UTC)
    at = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)

    assert len(with_embargo.items(FeedKey("es"), before)) == 2
    assert len(with_embargo.items(FeedKey("es"), at)) == 3


def test_next_release(make_content):
    content = make_content()
    content.write("articles/2030/embargoed.es.md", embargoed())
    later = "2030-02-01T09:00:00+01:00"
    content.write("articles/2030/later.en.md", embargoed("later", later, topics="[space]"))
    catalogue = catalogue_of(content)
    second = datetime.fromisoformat(later)

    assert catalogue.next_release(NOW) == EMBARGO
    assert catalogue.next_release(EMBARGO - SECOND) == EMBARGO
    assert catalogue.next_release(EMBARGO) == second
    assert catalogue.next_release(second - SECOND) == second
    assert catalogue.next_release(second) is None
    # Per feed: only that feed's embargoes count.
    assert catalogue.next_release(NOW, FeedKey("en")) == second
    assert catalogue.next_release(NOW, FeedKey("en", "topics", "space")) == second
    assert catalogue.next_release(NOW, FeedKey("es", "topics", "climate")) == EMBARGO
    assert catalogue.next_release(NOW, FeedKey("es", "topics", "space")) is None
    assert catalogue.next_release(NOW, FeedKey("en", "types", "guide")) is None


def test_next_release_without_embargoes(catalogue):
    assert catalogue.next_release(NOW) is None


def test_order_is_by_instant_then_slug(make_content):
    content = make_content()
    # 09:30 in Madrid is later than 09:00 in Madrid, though "08:30Z" < "09:00+01:00" as text.
    content.write("articles/2026/c-first.en.md", embargoed("c-first", "2026-01-01T08:30:00Z"))
    # One instant written in two offsets (so in two year folders): ties go by slug, not path.
    content.write("articles/2026/a-tie.en.md", embargoed("a-tie", "2026-01-01T00:30+01:00"))
    content.write("articles/2025/b-tie.en.md", embargoed("b-tie", "2025-12-31T23:30:00Z"))
    catalogue = catalogue_of(content)

    expected = ["c-first", "a-tie", "b-tie"]
    assert [a.slug for a in catalogue.items(FeedKey("en"), NOW)][:3] == expected
    assert [a.slug for a in catalogue.articles][:3] == expected
    instants = [a.published for a in catalogue.articles]
    assert instants == sorted(instants, reverse=True)


def _snapshot(catalogue: Catalogue) -> dict[str, object]:
    """Everything the indexes answer, in plain data, to compare two catalogues."""
    far = datetime(2100, 1, 1, tzinfo=UTC)
    return {
        "articles": [a.path for a in catalogue.articles],
        "feeds": {
            key: [a.path for a in catalogue.items(key, far)] for key in catalogue.feed_keys()
        },
        "translations": {
            a.path: [t.path for t in catalogue.translations(a, far)] for a in catalogue.articles
        },
    }


def test_an_updated_catalogue_equals_one_built_from_scratch() -> None:
    from smcfeed import load_content

    from ._support import SAMPLE

    full = load_content(SAMPLE).catalogue
    assert full is not None
    articles = list(full.articles)
    # Drop three articles (one of a translation pair), then edit one: new objects.
    dropped = [articles[0], articles[5], articles[-1]]
    kept = [a for a in articles if a not in dropped]
    smaller = Catalogue(full.site, full.topics, full.experts, kept)
    updated = Catalogue(full.site, full.topics, full.experts, kept, previous=full)
    assert _snapshot(updated) == _snapshot(smaller)
    edited = kept[3].model_copy(update={"title": "Edited", "topics": ("climate",)})
    again = [edited if a is kept[3] else a for a in kept] + dropped
    rebuilt = Catalogue(full.site, full.topics, full.experts, again)
    updated_again = Catalogue(full.site, full.topics, full.experts, again, previous=updated)
    assert _snapshot(updated_again) == _snapshot(rebuilt)
    assert updated_again.memo is full.memo
