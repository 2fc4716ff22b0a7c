"""Every fixed text smcfeed prints, in each language it knows (English is the fallback)."""

from __future__ import annotations

from datetime import datetime

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "age.year.one": "This article is 1 year old",
        "age.year.many": "This article is {n} years old",
        "age.month.one": "This article is 1 month old",
        "age.month.many": "This article is {n} months old",
        "conflicts.none": "The author has declared no conflicts of interest",
        "conflicts.not_responded": (
            "The author has not responded to our request to declare conflicts of interest"
        ),
        "conflicts.label": "Conflicts of interest: {text}",
        "reactions": "Expert reactions",
        "study": "Study",
        "credit.via": "{credit}, via {via}",
        "translated_from": "Translated from {language}",
        "read_in": "Read in {language}",
        "feeds": "Feeds",
        "all": "All articles",
        "topics": "Topics",
        "types": "Types",
        "experts": "Experts",
        "embargo": "EMBARGOED until {day} {month} {year} {time} {zone}",
    },
    "es": {
        "age.year.one": "Este artículo tiene 1 año",
        "age.year.many": "Este artículo tiene {n} años",
        "age.month.one": "Este artículo tiene 1 mes",
        "age.month.many": "Este artículo tiene {n} meses",
        "conflicts.none": "Declara no tener conflictos de interés",
        "conflicts.not_responded": (
            "No ha respondido a nuestra solicitud de declarar conflictos de interés"
        ),
        "conflicts.label": "Conflictos de interés: {text}",
        "reactions": "Reacciones de expertos",
        "study": "Estudio",
        "credit.via": "{credit}, vía {via}",
        "translated_from": "Traducido del {language}",
        "read_in": "Leer en {language}",
        "feeds": "Feeds",
        "all": "Todos los artículos",
        "topics": "Temas",
        "types": "Tipos",
        "experts": "Expertos",
        "embargo": "EMBARGADO hasta el {day} {month} {year}, {time} {zone}",
    },
}

#: Texts of the HTML pages (index, feed pages, article pages).
_PAGE_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "page.skip": "Skip to content",
        "page.all_feeds": "All feeds",
        "page.index_note": (
            "Copy a feed's address into your feed reader to follow it, or import every feed "
            "at once:"
        ),
        "page.subscribe": "Subscribe",
        "page.feed_note": (
            "This page is a feed. To follow it, copy its address into your feed reader:"
        ),
        "page.no_items": "Nothing has been published here yet.",
        "page.full_article": "Full article",
        "page.original": "On the centre's website",
        "page.json": "This article as data (JSON)",
        "page.pages": "Pages",
        "page.page_of": "Page {page} of {last}",
        "page.first": "Newest",
        "page.prev": "Newer",
        "page.next": "Older",
        "page.last": "Oldest",
    },
    "es": {
        "page.skip": "Saltar al contenido",
        "page.all_feeds": "Todos los feeds",
        "page.index_note": (
            "Copia la dirección de un feed en tu lector de feeds para seguirlo, o importa "
            "todos a la vez:"
        ),
        "page.subscribe": "Suscribirse",
        "page.feed_note": (
            "Esta página es un feed. Para seguirlo, copia su dirección en tu lector de feeds:"
        ),
        "page.no_items": "Aún no se ha publicado nada aquí.",
        "page.full_article": "Artículo completo",
        "page.original": "En la web del centro",
        "page.json": "Este artículo como datos (JSON)",
        "page.pages": "Páginas",
        "page.page_of": "Página {page} de {last}",
        "page.first": "Más recientes",
        "page.prev": "Anteriores",
        "page.next": "Siguientes",
        "page.last": "Más antiguos",
    },
}
for _lang, _texts in _PAGE_TEXTS.items():
    _TEXTS[_lang].update(_texts)

_LANGUAGE_NAMES = {
    "en": {"en": "English", "es": "Spanish", "de": "German", "fr": "French", "pt": "Portuguese",
           "it": "Italian", "ca": "Catalan", "nl": "Dutch"},
    "es": {"en": "inglés", "es": "español", "de": "alemán", "fr": "francés", "pt": "portugués",
           "it": "italiano", "ca": "catalán", "nl": "neerlandés"},
}  # fmt: skip


def text(lang: str, key: str, **values: object) -> str:
    """The text ``key`` in ``lang`` (English when we have no translation), filled in."""
    template = _TEXTS.get(lang, _TEXTS["en"]).get(key) or _TEXTS["en"][key]
    return template.format(**values) if values else template


_MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
}


def embargo_notice(lang: str, until: datetime) -> str:
    """ "EMBARGOED until 15 Sep 2026 17:00 CEST" in ``lang``; ``until`` in the site's zone."""
    months = _MONTHS.get(lang, _MONTHS["en"])
    return text(
        lang,
        "embargo",
        day=until.day,
        month=months[until.month - 1],
        year=until.year,
        time=until.strftime("%H:%M"),
        zone=until.tzname() or until.strftime("UTC%z"),
    )


def language_name(code: str, lang: str) -> str:
    """The name of language ``code`` in ``lang``, or the code itself."""
    return _LANGUAGE_NAMES.get(lang, _LANGUAGE_NAMES["en"]).get(code, code)


def conflicts_line(conflicts: str, lang: str) -> str:
    """The conflict-of-interest line under a quote: fixed wording, or the declaration itself."""
    if conflicts in ("none", "not_responded"):
        return text(lang, f"conflicts.{conflicts}")
    return conflicts
