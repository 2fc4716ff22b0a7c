"""``/``: a small HTML index of every listed feed, with autodiscovery links."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from .. import urls
from ..catalogue import Catalogue, FeedKey
from . import i18n as _i18n
from .opml import FORMAT_NAMES
from .view import feed_title, feed_url

_NAMES = tuple(f.name for f in urls.FORMATS)


def render_index(catalogue: Catalogue, keys: Sequence[FeedKey]) -> bytes:
    site = catalogue.site
    lang = site.default_language
    head_links = [
        f'<link rel="alternate" type="{urls.BY_NAME[fmt].media_type}" hreflang="{key.lang}" '
        f'title="{escape(feed_title(catalogue, key))} ({FORMAT_NAMES[fmt]})" '
        f'href="{escape(feed_url(site, key, fmt))}">'
        for key in keys
        if key.kind == "all"
        for fmt in _NAMES
    ]
    sections = []
    for language in site.languages:
        rows = []
        for key in (k for k in keys if k.lang == language):
            links = " · ".join(
                f'<a href="{escape(feed_url(site, key, fmt))}">{fmt.upper()}</a>' for fmt in _NAMES
            )
            kind = _i18n.text(language, key.kind)
            rows.append(
                f"<li>{escape(feed_title(catalogue, key))} <small>({kind})</small> {links}</li>"
            )
        name = _i18n.language_name(language, language)
        sections.append(
            f'<section lang="{language}"><h2>{escape(name)}</h2><ul>{"".join(rows)}</ul></section>'
        )
    html = f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(site.title[lang])} — {_i18n.text(lang, "feeds")}</title>
{chr(10).join(head_links)}
<link rel="outline" type="text/x-opml" title="OPML" href="{urls.url(site.root, urls.Opml())}">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}}
li{{margin:.3rem 0}}small{{color:#666}}</style>
</head>
<body>
<h1>{escape(site.title[lang])}</h1>
<p>{escape(site.description[lang])} <a href="{urls.url(site.root, urls.Opml())}">OPML</a></p>
{chr(10).join(sections)}
<p><small>{escape(site.license.attribution[lang])}
<a rel="license" href="{escape(site.license.url)}">{escape(site.license.name)}</a></small></p>
</body>
</html>
"""
    return html.encode()
