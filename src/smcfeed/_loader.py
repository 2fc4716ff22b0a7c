"""Read a content folder into a :class:`Catalogue`, collecting every error in one pass.

The loader never raises for bad content: each problem becomes a :class:`ContentError` naming
the file and line, and the files that are fine still load, so a caller can choose to serve them
(cold start) or to keep the last good catalogue (reload).
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from . import _markdown, _yaml
from .catalogue import Catalogue
from .exceptions import ContentError
from .models import Article, ArticleFront, Expert, Localized, Reaction, Site

#: Files larger than this are refused: no article is anywhere near it.
MAX_FILE_BYTES = 2 * 1024 * 1024
ARTICLE_NAME_RE = re.compile(r"^(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)\.(?P<lang>[a-zA-Z-]+)\.md$")
_PLACEHOLDER_BASE = "https://invalid.invalid"

M = TypeVar("M", bound=BaseModel)


@dataclass
class LoadResult:
    """What a load produced: a catalogue of everything valid (None without usable settings),
    and every error found."""

    catalogue: Catalogue | None
    errors: list[ContentError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.catalogue is not None and not self.errors


class _Collector:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.errors: list[ContentError] = []

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def add(self, path: Path | str, line: int | None, message: str) -> None:
        where = path if isinstance(path, str) else self.rel(path)
        self.errors.append(ContentError(where, line, message))

    def read(self, path: Path) -> str | None:
        """The file's text, or None after recording why it cannot be read."""
        try:
            # Resolve every path, not only links: a linked folder (experts/ -> elsewhere)
            # would otherwise let files outside the content folder in.
            if not path.resolve().is_relative_to(self.root.resolve()):
                self.add(path, None, "is a link to a file outside the content folder")
                return None
            if not path.is_file():
                self.add(path, None, "is not a regular file")
                return None
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                self.add(
                    path,
                    None,
                    f"is too large ({size / 1e6:.1f} MB; the limit is "
                    f"{MAX_FILE_BYTES // 1024 // 1024} MB)",
                )
                return None
            data = path.read_bytes()
        except OSError as e:
            self.add(path, None, f"cannot be read ({e.strerror or e})")
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            self.add(path, line, "is not UTF-8 text; save it as UTF-8")
            return None
        if "\x00" in text:
            self.add(path, text[: text.index("\x00")].count("\n") + 1, "holds binary data")
            return None
        return text.removeprefix("\ufeff")

    def yaml(self, path: Path, text: str, offset: int = 0) -> tuple[Any, _yaml.LineMap] | None:
        try:
            data, lines = _yaml.load(text)
        except _yaml.YamlError as e:
            self.add(path, e.line + offset if e.line else None, e.message)
            return None
        return data, {key: line + offset for key, line in lines.items()}

    def model(
        self, path: Path, cls: type[M], data: Any, lines: _yaml.LineMap, first_line: int = 1
    ) -> M | None:
        if not isinstance(data, dict):
            self.add(path, first_line, "should hold fields (name: value), one per line")
            return None
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            seen: set[tuple[str | int, ...]] = set()
            for error in e.errors(include_url=False):
                loc = tuple(p for p in error["loc"] if isinstance(p, int) or _is_field(p))
                if loc in seen:
                    continue
                seen.add(loc)
                self.add(path, _line_of(loc, lines, first_line), _explain(error, loc, cls))
            return None


def _is_field(part: str) -> bool:
    return "[" not in part and "(" not in part


def _line_of(loc: tuple[str | int, ...], lines: _yaml.LineMap, default: int) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines and (end or lines):
            return lines[loc[:end]]
    return default


def _field_name(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _allowed(cls: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    model: Any = cls
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        info = model.model_fields.get(part)
        model = None
        if info is not None:
            for candidate in (info.annotation, *getattr(info.annotation, "__args__", ())):
                for inner in (candidate, *getattr(candidate, "__args__", ())):
                    if isinstance(inner, type) and issubclass(inner, BaseModel):
                        model = inner
    return sorted(model.model_fields) if model is not None else []


def _explain(error: Any, loc: tuple[str | int, ...], cls: type[BaseModel]) -> str:
    name = _field_name(loc)
    kind = error["type"]
    value = error.get("input")
    if kind == "missing":
        return f"'{name}' is missing; it is required"
    if kind == "extra_forbidden":
        allowed = _allowed(cls, loc)
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(allowed)})"
        return f"unknown field '{name}'{hint}"
    if kind == "timezone_aware":
        said = value.isoformat() if isinstance(value, datetime) else value
        return (
            f"'{name}' has no timezone: add the offset, e.g. 2024-03-14T17:00:00+01:00 "
            f"(it says '{said}')"
        )
    if kind.startswith("datetime") or kind.startswith("date_"):
        return f"'{name}' is not a date and time ('{value}'); write e.g. 2024-03-14T17:00:00+01:00"
    if kind == "value_error":
        return f"'{name}': {error['ctx']['error']}" if name else str(error["ctx"]["error"])
    if kind == "too_short":
        return f"'{name}' must list at least one item"
    if value is None and kind.endswith("_type"):
        return f"'{name}' is empty; give it a value"
    if kind in ("string_type", "literal_error"):
        return f"'{name}' should be text, not {type(value).__name__} ('{value}')"
    if kind in ("list_type",):
        return f"'{name}' should be a list, e.g. [a, b]"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"'{name}' should hold fields (name: value)"
    if kind in ("int_parsing", "int_type", "greater_than_equal", "less_than_equal"):
        return f"'{name}': {error['msg'].lower()} ('{value}')"
    return f"'{name}': {error['msg']}" if name else error["msg"]


def _split_front_matter(text: str) -> tuple[str, str, int] | None:
    """(front matter, body, line number of the body's first line), or None."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return "".join(lines[1:index]), "".join(lines[index + 1 :]), index + 2
    return None


def load_content(root: Path | str, base_url: str | None = None) -> LoadResult:
    """Load and check a content folder. Never raises for anything the folder holds.

    ``base_url`` overrides site.yaml's, e.g. to serve the content on localhost.
    """
    root = Path(root)
    out = _Collector(root)
    if not root.exists():
        out.add(str(root), None, "no such folder")
        return LoadResult(None, out.errors)
    if not root.is_dir():
        out.add(str(root), None, "is a file, not a content folder")
        return LoadResult(None, out.errors)

    site = _load_site(out, root / "site.yaml")
    if site is not None and base_url:
        site = site.model_copy(update={"base_url": base_url.rstrip("/")})
    languages = site.languages if site else []
    topics = _load_localized_map(out, root / "topics.yaml", languages)
    experts = _load_experts(out, root / "experts", languages)
    articles = _load_articles(out, root, site, topics, experts)
    if site is None or topics is None:
        return LoadResult(None, out.errors)
    catalogue = Catalogue(site=site, topics=topics, experts=experts, articles=articles)
    return LoadResult(catalogue, out.errors)


def _load_yaml_file(out: _Collector, path: Path, what: str) -> tuple[Any, _yaml.LineMap] | None:
    if not path.exists() and not path.is_symlink():
        out.add(path, None, f"is missing: every content folder needs {what}")
        return None
    text = out.read(path)
    if text is None:
        return None
    return out.yaml(path, text)


def _load_site(out: _Collector, path: Path) -> Site | None:
    parsed = _load_yaml_file(out, path, "its site settings")
    if parsed is None:
        return None
    return out.model(path, Site, *parsed)


def _load_localized_map(
    out: _Collector, path: Path, languages: list[str]
) -> dict[str, Localized] | None:
    parsed = _load_yaml_file(out, path, "its list of topics")
    if parsed is None:
        return None
    data, lines = parsed
    if not isinstance(data, dict) or not data:
        out.add(path, 1, "should list topics as 'slug:' with a label per language under each")
        return None
    result: dict[str, Localized] = {}
    for slug, labels in data.items():
        line = lines.get((str(slug),), 1)
        if not isinstance(slug, str) or not re.match(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", slug):
            out.add(path, line, f"topic '{slug}' is not a slug: use lowercase letters, digits, -")
            continue
        if not isinstance(labels, dict) or not all(
            isinstance(v, str) and v.strip() for v in labels.values()
        ):
            out.add(path, line, f"topic '{slug}' needs a label per language, e.g. es: Clima")
            continue
        missing = [lang for lang in languages if lang not in labels]
        unknown = [str(lang) for lang in labels if languages and lang not in languages]
        if missing:
            out.add(path, line, f"topic '{slug}' has no label for {', '.join(missing)}")
        elif unknown:
            out.add(path, line, f"topic '{slug}' has a label in unknown language {unknown[0]}")
        else:
            result[slug] = {str(k): v.strip() for k, v in labels.items()}
    return result


def _load_experts(out: _Collector, folder: Path, languages: list[str]) -> dict[str, Expert]:
    experts: dict[str, Expert] = {}
    if not folder.is_dir():
        out.add(folder, None, "is missing: the experts folder holds one file per expert")
        return experts
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.suffix not in (".yaml", ".yml"):
            out.add(path, None, "is not an expert file: name it <expert-id>.yaml")
            continue
        if not re.match(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", path.stem):
            out.add(path, None, "the expert id (file name) must be lowercase letters, digits, -")
            continue
        text = out.read(path)
        parsed = out.yaml(path, text) if text is not None else None
        if parsed is None:
            continue
        expert = out.model(path, Expert, *parsed)
        if expert is None:
            continue
        missing = [lang for lang in languages if lang not in expert.role]
        if missing:
            out.add(path, parsed[1].get(("role",)), f"'role' has no text for {', '.join(missing)}")
            continue
        experts[path.stem] = expert
    return experts


def _load_articles(
    out: _Collector,
    root: Path,
    site: Site | None,
    topics: dict[str, Localized] | None,
    experts: dict[str, Expert],
) -> list[Article]:
    folder = root / "articles"
    if not folder.is_dir():
        out.add(folder, None, "is missing: articles go in articles/<year>/<slug>.<lang>.md")
        return []
    articles: dict[tuple[str, str], Article] = {}
    for path in sorted(
        p for p in folder.rglob("*") if not p.is_dir() or p.is_symlink() or p.suffix == ".md"
    ):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        article = _load_article(out, root, path, site, topics, experts)
        if article is None:
            continue
        key = (article.slug, article.lang)
        if key in articles:
            out.add(path, None, f"the same slug and language as {articles[key].path}")
            continue
        articles[key] = article
    _check_translations(out, articles)
    return [a for a in articles.values() if a is not None]


def _check_translations(out: _Collector, articles: dict[tuple[str, str], Article]) -> None:
    groups: dict[str, list[Article]] = defaultdict(list)
    for article in articles.values():
        groups[article.slug].append(article)
    for group in groups.values():
        first = group[0]
        for other in group[1:]:
            if other.type != first.type:
                out.add(
                    other.path,
                    None,
                    f"is a translation of {first.path} but has type '{other.type}', "
                    f"not '{first.type}'; translations must have the same type",
                )
                del articles[(other.slug, other.lang)]


def _load_article(
    out: _Collector,
    root: Path,
    path: Path,
    site: Site | None,
    topics: dict[str, Localized] | None,
    experts: dict[str, Expert],
) -> Article | None:
    rel = out.rel(path)
    parts = path.relative_to(root / "articles").parts
    match = ARTICLE_NAME_RE.match(parts[-1])
    if len(parts) != 2 or not re.fullmatch(r"\d{4}", parts[0]) or match is None:
        out.add(path, None, "is not where an article goes: articles/<year>/<slug>.<lang>.md")
        return None
    slug, lang = match["slug"], match["lang"]
    text = out.read(path)
    if text is None:
        return None
    split = _split_front_matter(text)
    if split is None:
        if text.split("\n", 1)[0].rstrip() == "---":
            out.add(path, 1, "the front matter is not closed: end the fields with a line '---'")
        else:
            out.add(path, 1, "has no front matter: begin with a line '---', the fields, then '---'")
        return None
    front_text, body, _body_line = split
    parsed = out.yaml(path, front_text, offset=1)
    if parsed is None:
        return None
    data, lines = parsed
    front = out.model(path, ArticleFront, data, lines, first_line=1)
    if front is None:
        return None
    errors_before = len(out.errors)

    def err(loc: tuple[str | int, ...], message: str) -> None:
        out.add(path, _line_of(loc, lines, 1), message)

    if site is not None:
        if lang not in site.languages:
            out.add(
                path,
                None,
                f"language '{lang}' (from the file name) is not in site.yaml's languages",
            )
        if front.type not in site.types:
            err(("type",), f"unknown type '{front.type}'; site.yaml has {', '.join(site.types)}")
    if topics is not None:
        for index, topic in enumerate(front.topics):
            if topic not in topics:
                close = difflib.get_close_matches(topic, list(topics), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                err(("topics", index), f"unknown topic '{topic}'{hint}; add it to topics.yaml")
    for index, reaction in enumerate(front.reactions):
        if reaction.expert not in experts:
            err(
                ("reactions", index, "expert"),
                f"unknown expert '{reaction.expert}': there is no experts/{reaction.expert}.yaml",
            )
    if front.updated is not None and front.updated < front.published:
        err(("updated",), "'updated' is before 'published'")
    if parts[0] != f"{front.published.year:04d}":
        err(
            ("published",),
            f"is in the folder {parts[0]} but 'published' is in {front.published.year}; "
            f"move it to articles/{front.published.year}/",
        )
    if len(out.errors) > errors_before:
        return None

    base = site.root if site else _PLACEHOLDER_BASE
    reactions = tuple(
        Reaction(
            expert_id=r.expert,
            expert=experts[r.expert],
            quote=r.quote,
            quote_html=_markdown.render(r.quote, base),
            conflicts=r.conflicts,
            translated_from=r.translated_from,
            via=r.via,
        )
        for r in front.reactions
    )
    return Article(
        slug=slug,
        lang=lang,
        path=rel,
        type=front.type,
        title=front.title,
        published=front.published,
        updated=front.updated,
        topics=tuple(front.topics),
        summary=front.summary,
        source_url=front.source_url,
        image=front.image,
        study=front.study,
        reactions=reactions,
        body_html=_markdown.render(body, base),
    )
