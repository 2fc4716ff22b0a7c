"""Reading one content file: its text, its YAML with line numbers, its model, its errors.

Everything here works on one file at a time, so article files can be parsed in worker
processes and the results kept in a cache between loads.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import sys
import zlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from pydantic import BaseModel, ValidationError

from .._render import markdown as _markdown
from ..exceptions import ContentError
from ..models import (
    SLUG_PATTERN,
    Article,
    ArticleContent,
    ArticleFront,
    Expert,
    Reaction,
    Segment,
)
from . import text as _text
from . import yamlio as _yaml
from .walk import NotRegular, TooLarge, read_regular

#: Files larger than this are refused: no article is anywhere near it.
MAX_FILE_BYTES = 2 * 1024 * 1024
ARTICLE_NAME_RE = re.compile(rf"^(?P<slug>{SLUG_PATTERN})\.(?P<lang>[a-zA-Z-]+)\.md$")

M = TypeVar("M", bound=BaseModel)


def digest_of(data: bytes) -> bytes:
    """What identifies a file's bytes in the parse cache."""
    return hashlib.blake2b(data, digest_size=16).digest()


class _Collector:
    """Collects the errors of the files it reads, each naming the file and line."""

    def __init__(self, root: Path, safe_root: Path | None = None) -> None:
        self.root = root
        #: The content folder with links resolved; files must resolve to inside it.
        self.safe_root = safe_root or root.resolve()
        self.errors: list[ContentError] = []
        self._prefix = str(root) + os.sep

    def rel(self, path: Path) -> str:
        text, prefix = str(path), self._prefix
        return text[len(prefix) :] if text.startswith(prefix) else text

    def add(self, path: Path | str, line: int | None, message: str) -> None:
        where = path if isinstance(path, str) else self.rel(path)
        self.errors.append(ContentError(where, line, message))

    def read_bytes(self, path: Path, walked: bool = False) -> bytes | None:
        """The file's bytes, or None after recording why they cannot be read.

        ``walked``: a walk found it as a regular file (not a link) inside the folder.
        Only regular files are opened: anything else is an error naming what it is.
        """
        try:
            # Resolve every path, not only links: a linked folder (experts/ -> elsewhere)
            # would otherwise let files outside the content folder in.
            if not walked and not path.resolve().is_relative_to(self.safe_root):
                self.add(path, None, "is a link to a file outside the content folder")
                return None
            return read_regular(path, MAX_FILE_BYTES, walked)
        except NotRegular as e:
            self.add(path, None, f"is {e.kind}, not a regular file; only files are read")
        except TooLarge as e:
            self.add(
                path,
                None,
                f"is too large ({e.size / 1e6:.1f} MB; the limit is "
                f"{MAX_FILE_BYTES // 1024 // 1024} MB)",
            )
        except FileNotFoundError as e:
            if os.path.islink(path):
                self.add(path, None, "is a link to nothing, not a regular file")
            else:
                self.add(path, None, f"cannot be read ({e.strerror or e})")
        except OSError as e:
            self.add(path, None, f"cannot be read ({e.strerror or e})")
        return None

    def decode(self, path: Path, data: bytes) -> str | None:
        """The file's text, or None after recording why it is not usable text."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            self.add(path, line, "is not UTF-8 text; save it as UTF-8")
            return None
        if "\x00" in text:
            self.add(path, text[: text.index("\x00")].count("\n") + 1, "holds binary data")
            return None
        text = text.removeprefix("\ufeff")
        unsafe = _text.unsafe_in(text, data)
        if unsafe is not None:
            self.add(path, *unsafe)
            return None
        return text

    def read(self, path: Path) -> str | None:
        """The file's text, or None after recording why it cannot be read."""
        data = self.read_bytes(path)
        return None if data is None else self.decode(path, data)

    def yaml(self, path: Path, text: str, offset: int = 0) -> tuple[Any, _yaml.LineMap] | None:
        try:
            data, lines = _yaml.load(text)
        except _yaml.YamlError as e:
            self.add(path, e.line + offset if e.line else None, e.message)
            return None
        lines = {key: line + offset for key, line in lines.items()}
        if not self.safe_values(path, data, text, lines):
            return None
        return data, lines

    def safe_values(
        self,
        path: Path,
        data: Any,
        source: str,
        lines: _yaml.LineMap | Callable[[], _yaml.LineMap],
    ) -> bool:
        """False, after recording where, if a value holds a character no output can carry
        (written as an escape such as ``"\\x07"``: raw ones were refused with the text)."""
        found = _text.first_unsafe_value(data, source)
        if found is None:
            return True
        where, message = found
        if callable(lines):
            lines = lines()
        self.add(path, _line_of(where, lines, 1), message)
        return False

    def model(
        self,
        path: Path,
        cls: type[M],
        data: Any,
        lines: _yaml.LineMap | Callable[[], _yaml.LineMap],
        first_line: int = 1,
    ) -> M | None:
        if not isinstance(data, dict):
            self.add(path, first_line, "should hold fields (name: value), one per line")
            return None
        try:
            return cls.model_validate(data)
        except ValidationError as e:
            if callable(lines):
                lines = lines()
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
    raw = error.get("input")
    value = _text.excerpt(raw)
    if kind == "missing":
        return f"'{name}' is missing; it is required"
    if kind == "extra_forbidden":
        allowed = _allowed(cls, loc)
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(allowed)})"
        return f"unknown field '{name}'{hint}"
    if kind == "timezone_aware":
        said = raw.isoformat() if isinstance(raw, datetime) else value
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
    if raw is None and kind.endswith("_type"):
        return f"'{name}' is empty; give it a value"
    if kind in ("string_type", "literal_error"):
        return f"'{name}' should be text, not {type(raw).__name__} ('{value}')"
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


class ParsedArticle(NamedTuple):
    """One article file read and checked on its own (before the checks against other files).

    A named tuple: a warm start makes 100,000 of them, and a tuple is the cheapest to make.
    """

    #: Path relative to the content folder.
    path: str
    #: The digest of the bytes it was parsed from (empty when they could not be read).
    digest: bytes
    #: The article, if the file is valid on its own.
    article: Article | None
    #: The file's own errors.
    errors: tuple[ContentError, ...]


def parse_article(
    root: Path,
    path: Path,
    safe_root: Path | None = None,
    walked: bool = False,
    data: bytes | None = None,
) -> ParsedArticle:
    """Read and check one article file. Never raises for anything the file holds.

    ``walked``: a walk found it as a regular file inside the folder. ``data``: its bytes,
    when they were read already.
    """
    out = _Collector(root, safe_root)
    rel = out.rel(path)
    parts = path.relative_to(root / "articles").parts
    match = ARTICLE_NAME_RE.match(parts[-1])
    article = None
    if len(parts) != 2 or not re.fullmatch(r"\d{4}", parts[0]) or match is None:
        out.add(path, None, "is not where an article goes: articles/<year>/<slug>.<lang>.md")
        data = None
    else:
        if data is None:
            data = out.read_bytes(path, walked)
        if data is not None:
            article = _parse_article(out, path, rel, match["slug"], match["lang"], parts, data)
    digest = digest_of(data) if data is not None else b""
    return ParsedArticle(rel, digest, article, tuple(out.errors) or _NO_ERRORS)


_NO_ERRORS: tuple[ContentError, ...] = ()


def _parse_article(
    out: _Collector,
    path: Path,
    rel: str,
    slug: str,
    lang: str,
    parts: tuple[str, ...],
    raw: bytes,
) -> Article | None:
    text = out.decode(path, raw)
    if text is None:
        return None
    split = _split_front_matter(text)
    if split is None:
        if text.split("\n", 1)[0].rstrip() == "---":
            out.add(path, 1, "the front matter is not closed: end the fields with a line '---'")
        else:
            out.add(path, 1, "has no front matter: begin with a line '---', the fields, then '---'")
        return None
    front_text, _body, _body_line = split
    try:
        data = _yaml.load_data(front_text)
    except _yaml.YamlError as e:
        out.add(path, e.line + 1 if e.line else None, e.message)
        return None

    def lines() -> _yaml.LineMap:
        return _front_lines(front_text)

    if not out.safe_values(path, data, front_text, lines):
        return None
    front = out.model(path, ArticleFront, data, lines, first_line=1)
    if front is None:
        return None
    if parts[0] != f"{front.published.year:04d}":
        out.add(
            path,
            _line_of(("published",), lines(), 1),
            f"is in the folder {parts[0]} but 'published' is in {front.published.year}; "
            f"move it to articles/{front.published.year}/",
        )
        return None
    if front.updated is not None and front.updated < front.published:
        out.add(path, _line_of(("updated",), lines(), 1), "'updated' is before 'published'")
        return None
    article = Article(
        slug=slug,
        lang=sys.intern(lang),
        path=rel,
        type=sys.intern(front.type),
        title=front.title,
        published=front.published,
        updated=front.updated,
        topics=tuple(sys.intern(t) for t in front.topics),
        summary=front.summary,
        source_url=front.source_url,
        image=front.image,
        study=front.study,
        expert_ids=tuple(sys.intern(r.expert) for r in front.reactions),
        source=zlib.compress(text.encode(), 1),
    )
    return article


def _front_lines(front_text: str) -> _yaml.LineMap:
    """Lines of every key of a front matter (which starts on the file's second line)."""
    return {key: line + 1 for key, line in _yaml.load(front_text)[1].items()}


def line_of(parsed: ParsedArticle, loc: tuple[str | int, ...]) -> int:
    """The line of ``loc`` in a parsed article (the nearest enclosing key that has one).

    Lines are worked out again from the article's source: only files with errors need them.
    """
    return article_line(parsed.article, loc) if parsed.article is not None else 1


def article_line(article: Article, loc: tuple[str | int, ...]) -> int:
    """The line of ``loc`` in the file an article was validated from."""
    split = _split_front_matter(zlib.decompress(article.source).decode())
    return _line_of(loc, _front_lines(split[0]) if split else {}, 1)


def line_in(text: str, loc: tuple[str | int, ...]) -> int:
    """The line of ``loc`` in a YAML file's text (1 when it cannot be told)."""
    try:
        return _line_of(loc, _yaml.load(text)[1], 1)
    except _yaml.YamlError:
        return 1


def reaction_ids(experts: list[str]) -> list[str]:
    """Stable ids for an article's reactions, by their experts in order: the expert's id, then
    ``-2``, ``-3``… for the same expert's later reactions (skipping a number another expert's
    id already took, e.g. an expert whose id is ``ana-2``). Editing one reaction, or adding one
    by another expert, leaves the others' ids alone."""
    counts: dict[str, int] = {}
    used: set[str] = set()
    out = []
    for expert in experts:
        count = counts.get(expert, 0) + 1
        candidate = expert if count == 1 else f"{expert}-{count}"
        while candidate in used:
            count += 1
            candidate = f"{expert}-{count}"
        counts[expert] = count
        used.add(candidate)
        out.append(candidate)
    return out


def render_content(article: Article, experts: dict[str, Expert], base_url: str) -> ArticleContent:
    """Render an article's quotes and body from the source it was validated from."""
    text = zlib.decompress(article.source).decode()
    split = _split_front_matter(text)
    assert split is not None, article.path  # it was checked when the article was loaded
    front_text, body, _ = split
    front = ArticleFront.model_validate(_yaml.load_data(front_text))
    reactions = []
    ids = reaction_ids([r.expert for r in front.reactions])
    for r, reaction_id in zip(front.reactions, ids, strict=True):
        segments = tuple(
            Segment(question=question, text_html=html, text=_markdown.plain_text(html))
            for question, html in _markdown.split_questions(r.quote, base_url)
        )
        reactions.append(
            Reaction(
                id=reaction_id,
                expert_id=r.expert,
                expert=experts[r.expert],
                quote=r.quote,
                quote_html=_markdown.render(r.quote, base_url),
                quote_text="\n\n".join(s.text for s in segments if s.text),
                segments=segments,
                conflicts=r.conflicts,
                translated_from=r.translated_from,
                via=r.via,
            )
        )
    return ArticleContent(reactions=tuple(reactions), body_html=_markdown.render(body, base_url))
