"""JSON Feed 1.1 and the article API, with the ``_smc`` extension for structured reactions."""

from __future__ import annotations

from typing import Any

import orjson

from ..models import Reaction, Site
from . import i18n as _i18n
from .view import FeedPage, Item


def _iso(value: Any) -> str:
    return str(value.isoformat())


def _reaction(reaction: Reaction, lang: str) -> dict[str, Any]:
    expert = reaction.expert
    kind = reaction.conflicts if reaction.conflicts in ("none", "not_responded") else "declared"
    return {
        "expert": {
            "id": reaction.expert_id,
            "name": expert.name,
            "role": expert.role.get(lang),
            "organisation": expert.organisation,
            "url": expert.url,
            "orcid": expert.orcid,
        },
        "quote_html": reaction.quote_html,
        "quote_text": reaction.quote_text,
        "conflicts": {"kind": kind, "text": _i18n.conflicts_line(reaction.conflicts, lang)},
        "via": reaction.via,
        "translated_from": reaction.translated_from,
    }


def smc_extension(site: Site, item: Item) -> dict[str, Any]:
    """Everything a newsroom needs to lay an item out itself."""
    article, lang = item.article, item.lang
    study = article.study
    return {
        "type": {"slug": article.type, "label": item.type_label},
        "topics": [{"slug": slug, "label": label} for slug, label in item.topics],
        "age": (
            {"unit": item.age.unit, "count": item.age.count, "label": item.age.text}
            if item.age
            else None
        ),
        "study": (
            {
                "title": study.title,
                "journal": study.journal,
                "doi": study.doi,
                "url": study.url or (f"https://doi.org/{study.doi}" if study.doi else None),
                "published": _iso(study.published) if study.published else None,
            }
            if study
            else None
        ),
        "reactions": [_reaction(r, lang) for r in item.content.reactions],
        "translations": [
            {"language": link.lang, "url": link.url, "title": link.title}
            for link in item.translations
        ],
        "license": {
            "name": site.license.name,
            "url": site.license.url,
            "attribution": site.license.attribution[lang],
        },
        "api_url": item.api_url,
    }


def _item(site: Site, item: Item) -> dict[str, Any]:
    article = item.article
    out: dict[str, Any] = {
        "id": item.id,
        "url": item.url,
        "title": article.title,
        "content_html": item.content_html,
        "summary": article.summary,
        "date_published": _iso(article.published),
        "date_modified": _iso(article.modified),
        "tags": [label for _, label in item.topics],
        "language": item.lang,
        "authors": [{"name": site.title[item.lang], "url": site.website}],
        "_smc": smc_extension(site, item),
    }
    if article.image:
        out["image"] = article.image
    return out


def render_json_feed(page: FeedPage) -> bytes:
    """One JSON Feed 1.1 page."""
    site, lang = page.site, page.lang
    feed: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": page.title,
        "home_page_url": site.website,
        "feed_url": page.url("json"),
        "description": page.description,
        "language": lang,
        "authors": [{"name": site.title[lang], "url": site.website}],
    }
    if page.page < page.last_page:
        feed["next_url"] = page.url("json", page.page + 1)
    if site.websub_hubs:
        feed["hubs"] = [{"type": "WebSub", "url": hub} for hub in site.websub_hubs]
    feed["items"] = [_item(site, item) for item in page.items]
    return orjson.dumps(feed, option=orjson.OPT_INDENT_2)


def render_article(site: Site, item: Item) -> bytes:
    """``/{lang}/articles/{slug}.json``: one article with its structured reactions."""
    body = _item(site, item)
    body["body_html"] = item.content.body_html
    return orjson.dumps(body, option=orjson.OPT_INDENT_2)
