"""JSON Feed 1.1 and the article API, with the ``_smc`` extension for structured reactions."""

from __future__ import annotations

from typing import Any

import orjson

from ..models import Image, Site
from .view import FeedPage, Item, ReactionView


def _iso(value: Any) -> str:
    return str(value.isoformat())


def _reaction(view: ReactionView) -> dict[str, Any]:
    expert, reaction = view.expert, view.reaction
    source = view.translated_from
    return {
        "id": view.id,
        "url": view.anchor_url,
        "expert": {
            "id": reaction.expert_id,
            "name": expert.name,
            "role": view.role,
            "organisation": expert.organisation,
            "url": expert.url,
            "orcid": expert.orcid,
        },
        "segments": [
            {"question": s.question, "text_html": s.text_html, "text": s.text}
            for s in view.segments
        ],
        "quote_html": reaction.quote_html,
        "quote_text": reaction.quote_text,
        "conflicts": {"kind": view.conflicts_kind, "text": view.conflicts_text},
        "credit": view.credit,
        "via": reaction.via,
        "translated_from": {"code": source.code, "name": source.name} if source else None,
    }


def _image(image: Image) -> dict[str, Any]:
    return {
        "url": image.url,
        "alt": image.alt,
        "caption": image.caption,
        "credit": image.credit,
        "type": image.media_type,
        "length": image.length,
    }


def smc_extension(site: Site, item: Item) -> dict[str, Any]:
    """Everything a newsroom needs to lay an item out itself."""
    article, lang = item.article, item.lang
    study = article.study
    out: dict[str, Any] = {
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
        "slug": item.slug,
        "image": _image(item.image) if item.image else None,
        "reactions": [_reaction(r) for r in item.reactions],
        "translations": [
            {
                "language": link.lang,
                "name": link.name,
                "title": link.title,
                "url": link.page_url,
                "permalink": link.url,
                "api_url": link.api_url,
            }
            for link in item.translations
        ],
        "license": {
            "name": site.license.name,
            "url": site.license.url,
            "credit": item.credit,
            "attribution": item.credit,
            "terms": site.license.attribution[lang],
        },
        "url": item.page_url,
        "api_url": item.api_url,
    }
    if item.embargoed_until is not None:
        # Only in journalists' private feeds: public outputs never mention an embargo.
        out["embargoed_until"] = _iso(item.embargoed_until)
    return out


def _item(site: Site, item: Item) -> dict[str, Any]:
    article = item.article
    out: dict[str, Any] = {
        "id": item.id,
        "url": item.url,
        "title": item.title,
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
        out["image"] = article.image.url
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
    if page.hubs:
        feed["hubs"] = [{"type": "WebSub", "url": hub} for hub in page.hubs]
    feed["items"] = [_item(site, item) for item in page.items]
    return orjson.dumps(feed, option=orjson.OPT_INDENT_2)


def render_article(site: Site, item: Item) -> bytes:
    """``/{lang}/articles/{slug}.json``: one article with its structured reactions."""
    body = _item(site, item)
    body["body_html"] = item.content.body_html
    return orjson.dumps(body, option=orjson.OPT_INDENT_2)
