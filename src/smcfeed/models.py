"""The content model: what editors write (validated) and what the rest of smcfeed reads.

Front-matter models (``*Front``) forbid unknown keys, so a typo is an error, not a silent
omission. Every model is frozen: a loaded catalogue never changes, it is replaced whole.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

LANG_RE = re.compile(r"^[a-z]{2,3}(?:-[A-Z]{2})?$")
#: A slug: lowercase letters and digits in words joined by single hyphens. The one
#: definition: file names, topics, types and expert ids all use it.
SLUG_PATTERN = r"[a-z0-9]+(?:-[a-z0-9]+)*"
SLUG_RE = re.compile(rf"^{SLUG_PATTERN}$")
#: The years a date in the content may fall in: every output can write them, and an age
#: label can be worked out for them, in any timezone.
FIRST_YEAR, LAST_YEAR = 1800, 2999
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
ORCID_RE = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")


def _absolute_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"'{value}' is not an absolute http(s) URL; write it in full, https://…")
    return value


def _doi(value: str) -> str:
    value = value.strip()
    for prefix in ("https://doi.org/", "http://doi.org/", "doi:"):
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
    if not DOI_RE.match(value):
        raise ValueError(f"'{value}' is not a DOI; a DOI looks like 10.1038/s41591-022-02017-5")
    return value


def _lang(value: str) -> str:
    if not LANG_RE.match(value):
        raise ValueError(f"'{value}' is not a language code such as 'es' or 'en'")
    return value


def _slug(value: str) -> str:
    if not SLUG_RE.match(value):
        raise ValueError(f"'{value}' is not a slug: use lowercase letters, digits and hyphens")
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"'{value}' is not a timezone name such as 'Europe/Madrid'") from e
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


def _iso_datetime(value: object) -> object:
    """Parse ISO 8601 ourselves: pydantic would read ``2025`` or ``1700000000`` (a number or a
    string of digits) as seconds since 1970, so a typo would give a date in 1970."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            if not isinstance(value, str) or not value.strip()[:4].isdigit():
                raise ValueError
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f"'{str(value)[:60]}' is not a date and time; write e.g. 2024-03-14T17:00:00+01:00"
            ) from None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR or (
        parsed.tzinfo is not None and not FIRST_YEAR <= parsed.astimezone(UTC).year <= LAST_YEAR
    ):
        raise ValueError(
            f"'{parsed.isoformat()}' is out of range: dates must be in the years "
            f"{FIRST_YEAR} to {LAST_YEAR}"
        )
    return parsed


def _media_type(value: str) -> str:
    if not re.fullmatch(r"image/[a-z0-9.+-]+", value):
        raise ValueError(f"'{value}' is not an image media type such as image/jpeg")
    return value


def _orcid(value: str) -> str:
    if not ORCID_RE.match(value):
        raise ValueError(f"'{value}' is not an ORCID iD such as 0000-0002-1825-0097")
    return value


AbsoluteUrl = Annotated[str, AfterValidator(_absolute_url)]
Doi = Annotated[str, AfterValidator(_doi)]
Lang = Annotated[str, AfterValidator(_lang)]
Slug = Annotated[str, AfterValidator(_slug)]
Text = Annotated[str, AfterValidator(_not_blank)]
Orcid = Annotated[str, AfterValidator(_orcid)]
#: A timezone-aware ISO 8601 date and time, e.g. 2024-03-14T17:00:00+01:00.
IsoDatetime = Annotated[AwareDatetime, BeforeValidator(_iso_datetime)]
#: A text in several languages, e.g. ``{"es": "Clima", "en": "Climate"}``.
Localized = dict[Lang, Text]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


class License(_Frozen):
    #: Short name, e.g. "CC BY 4.0".
    name: Text
    #: The licence's deed URL.
    url: AbsoluteUrl
    #: How the content may be reused, per language (a notice, e.g. in Atom ``rights``).
    attribution: Localized
    #: The line a republisher prints with anything they take, per language, e.g.
    #: "Source: SMC Demo (CC BY 4.0)". A quote gathered ``via`` a sister centre adds "via …".
    credit: Localized


def _check_covered(info: ValidationInfo, what: str, texts: Localized) -> None:
    """Raise unless ``texts`` has an entry for every language in site.yaml (``what`` is the
    start of the message, naming the texts below the field the error is reported on)."""
    missing = [lang for lang in info.data.get("languages") or [] if lang not in texts]
    if missing:
        raise ValueError(f"{what} no text for {', '.join(missing)}")


class Site(_Frozen):
    """``site.yaml``: settings for the whole service."""

    #: Absolute URL this service is reached at; every link we emit is resolved against it.
    base_url: AbsoluteUrl
    #: The centre's own website.
    website: AbsoluteUrl
    #: IANA timezone in which dates and age labels are reckoned.
    timezone: Annotated[str, AfterValidator(_timezone)]
    #: Languages content is published in; each has its own feeds.
    languages: list[Lang] = Field(min_length=1)
    #: The language of ``/`` and of anything not otherwise in a language.
    default_language: Lang
    #: Title of the service's feeds, per language.
    title: Localized
    #: One-sentence description, per language.
    description: Localized
    #: The Creative Commons licence everything is published under.
    license: License
    #: Content types: slug -> label per language.
    types: dict[Slug, Localized] = Field(min_length=1)
    #: Items per feed page.
    feed_size: int = Field(default=50, ge=1, le=1000)
    #: Items older than this many days carry an age label (at most a century).
    age_label_after_days: int = Field(default=365, ge=1, le=36500)
    #: WebSub hubs to announce (may be empty).
    websub_hubs: list[AbsoluteUrl] = []
    #: Every public response expires on this clock grid (minutes, dividing an hour), and
    #: embargoes must lift on it, so Cache-Control depends on no embargoed item.
    embargo_grid_minutes: int = Field(default=5, ge=1, le=60)

    # Field validators (not one model validator) so that each error names its own field and
    # line; ``languages`` is declared before the fields they check, so it is in ``info.data``.
    @field_validator("default_language")
    @classmethod
    def _default_in_languages(cls, value: str, info: ValidationInfo) -> str:
        languages = info.data.get("languages")
        if languages is not None and value not in languages:
            raise ValueError(f"'{value}' is not in languages ({', '.join(languages)})")
        return value

    @field_validator("embargo_grid_minutes")
    @classmethod
    def _grid_divides_an_hour(cls, value: int) -> int:
        if 60 % value:
            raise ValueError(
                f"{value} does not divide an hour: use one of 1, 2, 3, 4, 5, 6, 10, 12, 15, "
                "20, 30, 60"
            )
        return value

    @field_validator("title", "description")
    @classmethod
    def _texts_cover_languages(cls, value: Localized, info: ValidationInfo) -> Localized:
        _check_covered(info, "has", value)
        return value

    @field_validator("license")
    @classmethod
    def _attribution_covers_languages(cls, value: License, info: ValidationInfo) -> License:
        _check_covered(info, "attribution has", value.attribution)
        _check_covered(info, "credit has", value.credit)
        return value

    @field_validator("types")
    @classmethod
    def _types_cover_languages(
        cls, value: dict[str, Localized], info: ValidationInfo
    ) -> dict[str, Localized]:
        for slug, labels in value.items():
            _check_covered(info, f"'{slug}' has", labels)
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def root(self) -> str:
        """``base_url`` without a trailing slash."""
        return self.base_url.rstrip("/")


class Expert(_Frozen):
    """``experts/<id>.yaml``: one person who is quoted."""

    #: Full name as printed.
    name: Text
    #: Position, per language.
    role: Localized
    #: Organisation they speak from.
    organisation: Text
    #: Their page (optional).
    url: AbsoluteUrl | None = None
    #: ORCID iD (optional).
    orcid: Orcid | None = None


class Study(_Frozen):
    """The study an article reacts to."""

    #: Title of the paper.
    title: Text
    #: Journal (or preprint server) it appears in.
    journal: Text | None = None
    #: DOI, without the resolver prefix.
    doi: Doi | None = None
    #: Link to the paper, when not (only) a DOI.
    url: AbsoluteUrl | None = None
    #: When the paper was published.
    published: IsoDatetime | None = None


#: What an expert declared: ``none`` (nothing to declare), ``not_responded`` (no answer), or
#: the declaration itself. One text type, not ``Literal[...] | Text``: both keywords are
#: non-blank text anyway, and a union would report a blank declaration as a Literal mismatch.
Conflicts = Text


class ReactionFront(_Frozen):
    """One expert's quote, as written in an article's front matter."""

    #: The id of a file in ``experts/``.
    expert: Slug
    #: The quote, in Markdown; may hold question headings.
    quote: Text
    #: ``none``, ``not_responded``, or the text of the declaration.
    conflicts: Conflicts
    #: Language the quote was translated from, when it was.
    translated_from: Lang | None = None
    #: Who gathered the quote, e.g. a sister centre in another country.
    via: Text | None = None


#: Media types an image may have, by file name extension (used when ``type`` is not given).
IMAGE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".svg": "image/svg+xml",
}


def _image_fields(value: object) -> object:
    if isinstance(value, str):
        raise ValueError(
            "is a bare URL; an image now needs fields: url and alt (required), caption and "
            "credit (optional), e.g. image: {url: https://…/photo.jpg, alt: What it shows}"
        )
    return value


class Image(_Frozen):
    """An article's picture: what it shows and whom to credit."""

    #: Absolute URL of the picture.
    url: AbsoluteUrl
    #: Text alternative: what the picture shows, for readers who cannot see it.
    alt: Text
    #: Caption printed with it (optional).
    caption: Text | None = None
    #: Who made it or holds its rights, e.g. "Photo: Ana Ruiz / SMC Demo" (optional).
    credit: Text | None = None
    #: Media type, e.g. image/jpeg (optional: worked out from the URL's extension).
    type: Annotated[str, AfterValidator(_media_type)] | None = None
    #: Size in bytes (optional): RSS enclosures need it, so without it RSS carries the
    #: picture as ``media:content`` only.
    length: int | None = Field(default=None, ge=1)

    @property
    def media_type(self) -> str | None:
        """``type``, else the one the URL's extension gives, else None."""
        if self.type:
            return self.type
        path = urlsplit(self.url).path.lower()
        dot = path.rfind(".")
        return IMAGE_TYPES.get(path[dot:]) if dot >= 0 else None


class ArticleFront(_Frozen):
    """The front matter of an article file."""

    #: One of the types in site.yaml.
    type: Slug
    #: Headline.
    title: Text
    #: Publication instant; in the future, an embargo.
    published: IsoDatetime
    #: Last significant update (optional, not before ``published``).
    updated: IsoDatetime | None = None
    #: Slugs from topics.yaml.
    topics: list[Slug] = Field(min_length=1)
    #: One paragraph of plain text.
    summary: Text
    #: The article's page on the centre's website.
    source_url: AbsoluteUrl | None = None
    #: A picture for the item.
    image: Annotated[Image, BeforeValidator(_image_fields)] | None = None
    #: The study reacted to.
    study: Study | None = None
    #: Experts' quotes.
    reactions: list[ReactionFront] = []


class Segment(_Frozen):
    """One part of a quote: the editor's question (if any) and the expert's answer.

    The question is the editor's words, never the expert's: it is kept apart so that nobody
    quoting ``text`` puts it in the expert's mouth.
    """

    #: The question heading before this part, as plain text (None for text before any).
    question: str | None
    #: The expert's words, sanitised HTML.
    text_html: str
    #: The expert's words as plain text, paragraphs separated by blank lines.
    text: str


class Reaction(_Frozen):
    """A reaction ready to render: the front matter plus its expert and HTML."""

    #: Stable id within the article, usable as an HTML anchor: the expert id, with -2, -3…
    #: for the same expert's second and third reaction in one article.
    id: str
    #: Expert id.
    expert_id: str
    #: The expert's record.
    expert: Expert
    #: The quote as written (Markdown).
    quote: str
    #: The quote rendered to sanitised HTML (question headings as ``h3``).
    quote_html: str
    #: The expert's words only (no question headings) as plain text, paragraphs separated
    #: by blank lines.
    quote_text: str
    #: The quote split at its question headings.
    segments: tuple[Segment, ...]
    #: ``none``, ``not_responded`` or the declaration text.
    conflicts: str
    #: Language the quote was translated from.
    translated_from: str | None
    #: Who gathered the quote.
    via: str | None


class Article(_Frozen):
    """One article in one language, validated: what indexes and feeds need at hand.

    The quotes and body are not kept as text: ``source`` holds the file as it was validated,
    compressed, and :meth:`Catalogue.content` renders them from it on demand (and keeps the
    most used). That keeps a catalogue of 100,000 articles small, and a request never reads
    a file that may have changed on disk since it was checked.
    """

    #: File name stem shared by translations.
    slug: str
    #: Language code of this version.
    lang: str
    #: Path relative to the content folder.
    path: str
    #: Content type slug.
    type: str
    #: Headline.
    title: str
    #: Publication instant (an embargo while in the future).
    published: datetime
    #: Last update, if any.
    updated: datetime | None
    #: Topic slugs.
    topics: tuple[str, ...]
    #: Plain-text summary.
    summary: str
    #: Page on the centre's website.
    source_url: str | None
    #: The picture.
    image: Image | None
    #: The study reacted to.
    study: Study | None
    #: Ids of the experts quoted, in the editor's order.
    expert_ids: tuple[str, ...]
    #: The validated file, zlib-compressed.
    source: bytes = Field(repr=False)

    @property
    def modified(self) -> datetime:
        """When the article last changed: ``updated`` or else ``published``."""
        return self.updated or self.published


class ArticleContent(_Frozen):
    """The parts of an article rendered on demand: its quotes and its body."""

    #: Expert quotes, in the editor's order, each with its HTML.
    reactions: tuple[Reaction, ...]
    #: The body rendered to sanitised HTML with absolute URLs.
    body_html: str
