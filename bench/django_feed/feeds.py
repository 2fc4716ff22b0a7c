"""The hot feed (/es/rss.xml) with Django's syndication framework.

The newest ``feed_size`` published Spanish articles of BENCH_CONTENT are read at start-up,
with their Markdown already rendered to HTML (as a site would keep them in its database).
Each request then goes through Django's ``Feed`` view: items, titles, links, descriptions
(the summary), full HTML content (``content:encoded``, like smcfeed's), categories (topic
labels and type), guid, dates and the licence.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from django.conf import settings
from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Rss201rev2Feed
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CONFLICTS = {
    "none": "Declara no tener conflictos de interés",
    "not_responded": "No ha respondido a nuestra solicitud de declarar conflictos de interés",
}


def _front(path: Path) -> tuple[dict[str, Any], str]:
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    return yaml.load(front, Loader=_Loader), body


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _age(published: datetime, now: datetime, zone: ZoneInfo) -> str:
    start, today = published.astimezone(zone).date(), now.astimezone(zone).date()
    if (today - start).days < 365:
        return ""
    months = (today.year - start.year) * 12 + today.month - start.month - (today.day < start.day)
    years = months // 12
    label = "Este artículo tiene 1 año" if years == 1 else f"Este artículo tiene {years} años"
    return f"<p><strong>{label}</strong></p>"


def _load(root: Path, base_url: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    site = yaml.load((root / "site.yaml").read_text(encoding="utf-8"), Loader=_Loader)
    topics = yaml.load((root / "topics.yaml").read_text(encoding="utf-8"), Loader=_Loader)
    now = datetime.now(UTC)
    zone = ZoneInfo(site["timezone"])
    found = []
    for path in (root / "articles").glob("*/*.es.md"):
        front, body = _front(path)
        published = _when(str(front["published"]))
        if published <= now:
            found.append((published, path, front, body))
    found.sort(key=lambda f: (f[0], f[1].name), reverse=True)
    size = int(site.get("feed_size", 50))
    experts: dict[str, dict[str, Any]] = {}
    items = []
    for published, path, front, body in found[:size]:
        slug = path.name.split(".")[0]
        parts = [_age(published, now, zone), f"<p>{escape(front['summary'])}</p>", _md.render(body)]
        study = front.get("study")
        if study:
            parts.append(
                f"<p>Estudio: <cite>{escape(study['title'])}</cite>. "
                f"<em>{escape(study.get('journal', ''))}</em>.</p>"
            )
        parts.append("<h2>Reacciones de expertos</h2>")
        for reaction in front.get("reactions", []):
            ident = reaction["expert"]
            if ident not in experts:
                experts[ident] = yaml.load(
                    (root / "experts" / f"{ident}.yaml").read_text(encoding="utf-8"),
                    Loader=_Loader,
                )
            expert = experts[ident]
            conflicts = CONFLICTS.get(reaction["conflicts"], reaction["conflicts"])
            parts.append(
                "<blockquote>\n"
                + _md.render(reaction["quote"])
                + f"<p>— <strong>{escape(expert['name'])}</strong>, "
                f"{escape(expert['role']['es'])}, {escape(expert['organisation'])}</p>\n"
                f"<p><em>{escape(conflicts)}</em></p>\n</blockquote>"
            )
        license_ = site["license"]
        parts.append(
            f"<p><small>{escape(license_['attribution']['es'])} "
            f'<a href="{escape(license_["url"])}" rel="license">{escape(license_["name"])}</a>'
            "</small></p>"
        )
        api_url = f"{base_url}/es/articles/{slug}.json"
        items.append(
            {
                "title": front["title"],
                "link": front.get("source_url") or api_url,
                "guid": uuid.uuid5(uuid.NAMESPACE_URL, api_url).urn,
                "summary": front["summary"],
                "content": "\n".join(p for p in parts if p),
                "published": published,
                "updated": _when(str(front["updated"])) if front.get("updated") else published,
                "categories": [topics[t]["es"] for t in front["topics"]]
                + [site["types"][front["type"]]["es"]],
            }
        )
    return site, items


SITE, ITEMS = _load(Path(settings.BENCH_CONTENT), settings.BENCH_BASE_URL.rstrip("/"))


class ContentEncodedRss(Rss201rev2Feed):
    """RSS 2.0 with the full HTML in ``content:encoded``, as smcfeed's items carry it."""

    def rss_attributes(self) -> dict[str, str]:
        attrs: dict[str, str] = super().rss_attributes()
        attrs["xmlns:content"] = "http://purl.org/rss/1.0/modules/content/"
        attrs["xmlns:creativeCommons"] = "http://backend.userland.com/creativeCommonsRssModule"
        return attrs

    def add_item_elements(self, handler: Any, item: dict[str, Any]) -> None:
        super().add_item_elements(handler, item)
        handler.addQuickElement("content:encoded", item["content_encoded"])
        handler.addQuickElement("creativeCommons:license", item["license"])


class LatestSpanishFeed(Feed):
    feed_type = ContentEncodedRss
    title = SITE["title"]["es"]
    description = SITE["description"]["es"]
    language = "es"
    feed_copy = SITE["license"]["name"]

    def link(self) -> str:
        return str(SITE["website"])

    def items(self) -> list[dict[str, Any]]:
        return ITEMS

    def item_title(self, item: dict[str, Any]) -> str:
        return str(item["title"])

    def item_description(self, item: dict[str, Any]) -> str:
        return str(item["summary"])

    def item_link(self, item: dict[str, Any]) -> str:
        return str(item["link"])

    def item_guid(self, item: dict[str, Any]) -> str:
        return str(item["guid"])

    item_guid_is_permalink = False

    def item_pubdate(self, item: dict[str, Any]) -> datetime:
        return item["published"]  # type: ignore[no-any-return]

    def item_updateddate(self, item: dict[str, Any]) -> datetime:
        return item["updated"]  # type: ignore[no-any-return]

    def item_categories(self, item: dict[str, Any]) -> list[str]:
        return item["categories"]  # type: ignore[no-any-return]

    def item_author_name(self, item: dict[str, Any]) -> str:
        return str(SITE["title"]["es"])

    def item_copyright(self, item: dict[str, Any]) -> str:
        return f"{SITE['license']['name']}. {SITE['license']['attribution']['es']}"

    def item_extra_kwargs(self, item: dict[str, Any]) -> dict[str, str]:
        return {"content_encoded": item["content"], "license": SITE["license"]["url"]}
