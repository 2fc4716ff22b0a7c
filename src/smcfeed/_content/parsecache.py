"""The parse cache: parsed article files kept between loads and across restarts.

On disk it is plain data, never code: a header (a magic line, the format version and a
CRC-32 checksum of everything after it) then MessagePack chunks of 5,000 files each, stored
by columns. Each file's entry holds a BLAKE2b digest of the bytes it was parsed from, and a
file is taken from the cache only while its bytes still have that digest, whatever its size
and time say. A file that is corrupt, truncated, foreign or of another version is ignored
with one log line.

Each value is written as a worker process of a parallel parse writes the rows it sends
back: one serialisation for both."""

from __future__ import annotations

import gc
import logging
import os
import struct
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import msgpack
from pydantic import BaseModel

from ..exceptions import ContentError
from ..models import Article, Image, Study
from .config import SiteConfig
from .judge import Verdict, slug_of
from .parse import ParsedArticle

log = logging.getLogger("smcfeed")
M = TypeVar("M", bound=BaseModel)

MAGIC = b"smcfeed parse cache\n"
#: Bump when what a row holds, or what parsing makes of a file, changes.
FORMAT = 8
_HEADER = struct.Struct("<II")
#: Rows written between two pauses that let requests run.
_CHUNK = 5000
_ARTICLE_FIELDS = tuple(Article.model_fields)
_ALL_FIELDS = set(_ARTICLE_FIELDS)
_DATES = ("published", "updated")
_INTERNED = ("lang", "type")


@contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cycle collector while building many objects that form no cycles: with
    100,000 articles, its repeated full passes would cost more than the building."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _construct(cls: type[M], fields: dict[str, Any]) -> M:
    """A model from values it was validated with before: what ``model_construct`` does
    without its per-field loop, which costs seconds over 100,000 articles."""
    model = cls.__new__(cls)
    _set = object.__setattr__
    _set(model, "__dict__", fields)
    _set(model, "__pydantic_fields_set__", set(fields))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


def _article_row(article: Article) -> list[Any]:
    row: list[Any] = []
    for name in _ARTICLE_FIELDS:
        value = getattr(article, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, BaseModel):  # a study, an image
            value = {
                k: v.isoformat() if isinstance(v, datetime) else v
                for k, v in value.__dict__.items()
            }
        elif isinstance(value, tuple):
            value = list(value)
        row.append(value)
    return row


_INDEX = {name: index for index, name in enumerate(_ARTICLE_FIELDS)}
_PUBLISHED, _UPDATED = _INDEX["published"], _INDEX["updated"]
_LANG, _TYPE, _TOPICS, _EXPERTS = (
    _INDEX["lang"],
    _INDEX["type"],
    _INDEX["topics"],
    _INDEX["expert_ids"],
)
_SOURCE = _INDEX["source"]
#: Fields holding a model, with the model and its date fields.
_NESTED: dict[int, tuple[type[BaseModel], tuple[str, ...]]] = {
    _INDEX["study"]: (Study, ("published",)),
    _INDEX["image"]: (Image, ()),
}
_new_article = Article.__new__
_set = object.__setattr__
_fromiso = datetime.fromisoformat
_intern = sys.intern


def _articles_of(columns: list[list[Any]]) -> list[Article]:
    """Articles from columns of their row values (one list per field, changed in place):
    the hot loop of a warm restart, so each field is converted a column at a time."""
    if len(columns) != len(_ARTICLE_FIELDS):
        raise TypeError("not article columns")
    if any(type(source) is not bytes for source in columns[_SOURCE]):
        raise TypeError("source")
    columns[_PUBLISHED] = list(map(_fromiso, columns[_PUBLISHED]))
    columns[_UPDATED] = [v if v is None else _fromiso(v) for v in columns[_UPDATED]]
    columns[_LANG] = list(map(_intern, columns[_LANG]))
    columns[_TYPE] = list(map(_intern, columns[_TYPE]))
    columns[_TOPICS] = [tuple(map(_intern, v)) for v in columns[_TOPICS]]
    columns[_EXPERTS] = [tuple(map(_intern, v)) for v in columns[_EXPERTS]]
    for index, (model, dates) in _NESTED.items():
        columns[index] = [v if v is None else _nested_of(model, dates, v) for v in columns[index]]
    articles = []
    fields = _ARTICLE_FIELDS
    for values in zip(*columns, strict=True):
        article = _new_article(Article)
        _set(article, "__dict__", dict(zip(fields, values, strict=True)))
        # One set shared by every article, rather than one each (pydantic keeps one each).
        _set(article, "__pydantic_fields_set__", _ALL_FIELDS)
        _set(article, "__pydantic_extra__", None)
        _set(article, "__pydantic_private__", None)
        articles.append(article)
    return articles


def _nested_of(model: type[M], dates: tuple[str, ...], value: dict[str, Any]) -> M:
    for name in dates:
        if value.get(name) is not None:
            value[name] = _fromiso(value[name])
    return _construct(model, value)


def _errors_row(errors: tuple[ContentError, ...]) -> list[Any]:
    return [[e.path, e.line, e.message] for e in errors]


_NO_ERRORS: tuple[ContentError, ...] = ()


def _errors_of(row: Any) -> tuple[ContentError, ...]:
    if not row:
        return _NO_ERRORS
    return tuple(ContentError(str(path), line, str(message)) for path, line, message in row)


def to_row(parsed: ParsedArticle) -> list[Any]:
    """A parsed file as plain data."""
    article = parsed.article
    return [
        parsed.path,
        parsed.digest,
        _errors_row(parsed.errors),
        None if article is None else _article_row(article),
    ]


def from_row(row: Any) -> ParsedArticle:
    path, digest, errors, article = row
    if not isinstance(path, str) or not isinstance(digest, bytes):
        raise TypeError("path")
    made = None if article is None else _articles_of([[value] for value in article])[0]
    return ParsedArticle(path, digest, made, _errors_of(errors))


def pack(parsed: ParsedArticle) -> bytes:
    return msgpack.packb(to_row(parsed), use_bin_type=True)  # type: ignore[no-any-return]


def unpack(data: bytes) -> ParsedArticle:
    return from_row(msgpack.unpackb(data, raw=False))


class CacheUnusable(Exception):
    """The file is not a parse cache this version can use; the message says why."""


@dataclass
class ParseCache:
    """Parsed article files by path, each with the digest of the bytes it was parsed from."""

    entries: dict[str, ParsedArticle] = field(default_factory=dict)
    #: The settings of the last load (in memory only: they are few files, read each start).
    settings: SiteConfig | None = None
    #: The fingerprint of the settings the verdicts were made for.
    fingerprint: str | None = None
    #: The verdict on each file, valid for ``fingerprint``.
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    #: Paths of the article files by slug: the files judged together.
    slugs: dict[str, set[str]] = field(default_factory=dict)
    #: Whether anything changed since the cache was saved or loaded.
    dirty: bool = True

    def copy(self) -> ParseCache:
        """A copy that a saving thread can read while loads go on."""
        return ParseCache(dict(self.entries), self.settings, self.fingerprint, dict(self.verdicts))

    def save(self, path: Path) -> None:
        """Write the cache atomically (a crash leaves the old file or none); between chunks
        the saving thread lets requests run."""
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(path.name + ".*.tmp"):
            # Left by a process killed while saving.
            if time.time() - stale.stat().st_mtime > 600:
                stale.unlink(missing_ok=True)
        entries = list(self.entries.values())
        packer = msgpack.Packer(use_bin_type=True)
        checksum = 0
        temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
        try:
            with temporary.open("wb") as f:
                f.write(MAGIC + _HEADER.pack(FORMAT, 0))

                def write(data: bytes) -> None:
                    nonlocal checksum
                    checksum = zlib.crc32(data, checksum)
                    f.write(data)

                chunks = [entries[i : i + _CHUNK] for i in range(0, len(entries), _CHUNK)]
                write(packer.pack([self.fingerprint, len(entries), len(chunks)]))
                for chunk in chunks:
                    write(packer.pack(self._chunk(chunk)))
                    time.sleep(0)
                f.seek(len(MAGIC))
                f.write(_HEADER.pack(FORMAT, checksum))
            temporary.replace(path)
        finally:
            temporary.unlink(missing_ok=True)
        self.dirty = False

    def _chunk(self, entries: list[ParsedArticle]) -> list[Any]:
        """Entries as columns (one list per field), which load much faster than rows; each
        value is written as a worker's row writes it."""
        verdicts = self.verdicts
        kept = [verdicts.get(parsed.path) for parsed in entries]
        rows = [_article_row(parsed.article) for parsed in entries if parsed.article]
        return [
            [parsed.path for parsed in entries],
            [parsed.digest for parsed in entries],
            [_errors_row(parsed.errors) for parsed in entries],
            [parsed.article is not None for parsed in entries],
            [list(column) for column in zip(*rows, strict=True)]
            if rows
            else [[] for _ in _ARTICLE_FIELDS],
            [
                [_errors_row(v[1]), v[2]] if v is not None and v[0] is parsed else None
                for parsed, v in zip(entries, kept, strict=True)
            ],
        ]

    @classmethod
    def load(cls, path: Path) -> ParseCache:
        """A saved cache, or an empty one (after one log line) if it cannot be used."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return cls()
        except OSError as e:
            log.warning("parse cache %s not used: cannot read it (%s)", path, e)
            return cls()
        try:
            with no_gc():
                return cls._decode(data)
        except CacheUnusable as e:
            log.warning("parse cache %s not used: %s; parsing every file", path, e)
        except Exception as e:  # anything a damaged file makes the decoder raise
            log.warning(
                "parse cache %s not used: unreadable (%s); parsing every file",
                path,
                type(e).__name__,
            )
        return cls()

    @classmethod
    def _decode(cls, data: bytes) -> ParseCache:
        if not data.startswith(MAGIC):
            raise CacheUnusable("not a parse cache")
        start = len(MAGIC) + _HEADER.size
        if len(data) < start:
            raise CacheUnusable("truncated")
        version, checksum = _HEADER.unpack_from(data, len(MAGIC))
        if version != FORMAT:
            raise CacheUnusable(f"format {version}, not {FORMAT}")
        body = memoryview(data)[start:]
        if zlib.crc32(body) != checksum:
            raise CacheUnusable("damaged or truncated (checksum mismatch)")
        unpacker = msgpack.Unpacker(raw=False, max_buffer_size=len(data) + 1)
        unpacker.feed(body)
        fingerprint, count, chunks = next(unpacker)
        cache = cls(fingerprint=fingerprint, dirty=False)
        entries, verdicts, slugs = cache.entries, cache.verdicts, cache.slugs
        for _ in range(chunks):
            paths, digests, errors, has, columns, kept = next(unpacker)
            # Whole columns at a time: per-entry Python is what a warm start waits for.
            if not set(map(type, paths)) <= {str} or not set(map(type, digests)) <= {bytes}:
                raise TypeError("paths")
            made = iter(_articles_of(columns))
            articles = [next(made) if has_article else None for has_article in has]
            if next(made, None) is not None:
                raise CacheUnusable("more articles than entries")
            parsed = list(map(ParsedArticle, paths, digests, articles, map(_errors_of, errors)))
            entries.update(zip(paths, parsed, strict=True))
            for one, verdict in zip(parsed, kept, strict=True):
                if verdict is not None:
                    verdicts[one.path] = (one, _errors_of(verdict[0]), bool(verdict[1]))
            for path, article in zip(paths, articles, strict=True):
                slug = article.slug if article is not None else slug_of(path)
                slugs.setdefault(slug, set()).add(path)
        if len(entries) != count:
            raise CacheUnusable("entries missing")
        if next(unpacker, None) is not None:
            raise CacheUnusable("unexpected data at its end")
        return cache
