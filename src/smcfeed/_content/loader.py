"""Read a content folder into a :class:`Catalogue`, collecting every error in one pass.

The loader never raises for bad content: each problem becomes a :class:`ContentError` naming
the file and line, and the files that are fine still load, so a caller can choose to serve them
(cold start) or to keep the last good catalogue (reload).

Article files are parsed one by one (in worker processes when there are many) into
:class:`ParsedArticle` results, which a :class:`ParseCache` keeps between loads and across
restarts: a reload parses only the files that changed.
"""

from __future__ import annotations

import difflib
import gc
import logging
import os
import pickle
import re
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from ..catalogue import Catalogue
from ..exceptions import ContentError
from ..models import Article, Expert, Localized, Site, Study
from . import yamlio as _yaml
from .parse import (
    ARTICLE_NAME_RE,
    ParsedArticle,
    Stamp,
    _Collector,
    line_of,
    parse_article,
)

log = logging.getLogger("smcfeed")

#: Below this many files to parse, worker processes cost more than they save.
PARALLEL_FROM = 2000
_CACHE_FORMAT = 5
#: Entries per pickled chunk of the parse cache.
_CHUNK = 5000
_ARTICLE_FIELDS = tuple(Article.model_fields)
_ALL_FIELDS = set(_ARTICLE_FIELDS)
_ZONES: dict[int, timezone] = {}


M = TypeVar("M", bound=BaseModel)


@contextmanager
def _no_gc() -> Iterator[None]:
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
    without its per-field loop, which costs seconds over 100,000 articles. Every field is
    present, since it was saved from a complete model."""
    model = cls.__new__(cls)
    _set = object.__setattr__
    _set(model, "__dict__", fields)
    _set(model, "__pydantic_fields_set__", set(fields))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model


def _article(fields: dict[str, Any]) -> Article:
    article = _construct(Article, fields)
    # One set shared by every article, rather than one each (pydantic keeps one per object).
    object.__setattr__(article, "__pydantic_fields_set__", _ALL_FIELDS)
    return article


def _to_column(name: str, value: Any) -> Any:
    """A field in a form that pickles fast: datetimes as (timestamp, offset), studies as dicts."""
    if isinstance(value, datetime):
        offset = value.utcoffset()
        return (value.timestamp(), int(offset.total_seconds()) if offset else 0)
    if isinstance(value, Study):
        return {k: _to_column(k, v) for k, v in value.__dict__.items()}
    return value


def _from_column(name: str, value: Any) -> Any:
    if name in ("published", "updated") and value is not None:
        return _datetime(value)
    if name == "study" and value is not None:
        published = value.get("published")
        if published is not None:
            value = {**value, "published": _datetime(published)}
        return _construct(Study, value)
    return value


def _datetime(value: tuple[float, int]) -> datetime:
    seconds = value[1]
    zone = _ZONES.get(seconds)
    if zone is None:
        zone = _ZONES[seconds] = timezone(timedelta(seconds=seconds))
    return datetime.fromtimestamp(value[0], zone)


@dataclass
class LoadResult:
    """What a load produced: a catalogue of everything valid (None without usable settings),
    and every error found."""

    catalogue: Catalogue | None
    errors: list[ContentError] = field(default_factory=list)
    #: Things that load but an editor should look at (``check`` prints them, exit 0).
    warnings: list[ContentError] = field(default_factory=list)

    #: True when a reload found nothing changed: ``catalogue`` is the previous one.
    unchanged: bool = False

    @property
    def ok(self) -> bool:
        return self.catalogue is not None and not self.errors


@dataclass
class _Settings:
    """site.yaml, topics.yaml and experts/ as last loaded, with their errors."""

    site: Site | None
    topics: dict[str, Localized] | None
    experts: dict[str, Expert]
    broken_experts: set[str]
    errors: list[ContentError]
    warnings: list[ContentError] = field(default_factory=list)


@dataclass
class ParseCache:
    """Parsed article files by path, valid while a file's size and mtime stay the same."""

    entries: dict[str, ParsedArticle] = field(default_factory=dict)
    #: The settings of the last load (not saved to disk: they are few files).
    settings: _Settings | None = None
    #: The verdict on each file, valid for ``settings``: the parsed file it was made for,
    #: all its errors, and whether its article is in the catalogue.
    verdicts: dict[str, tuple[ParsedArticle, tuple[ContentError, ...], bool]] = field(
        default_factory=dict
    )
    #: Paths of the article files by slug: the files judged together (translations,
    #: duplicates).
    slugs: dict[str, set[str]] = field(default_factory=dict)
    #: Whether anything changed since the cache was saved or loaded.
    dirty: bool = True

    def copy(self) -> ParseCache:
        """A copy that a saving thread can read while loads go on."""
        return ParseCache(dict(self.entries), self.settings, dict(self.verdicts))

    def save(self, path: Path) -> None:
        """Write the cache atomically (a crash leaves the old file or none).

        Stored in chunks of columns (a list per field), which load several times faster
        than pickled objects; between chunks the saving thread lets requests run.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(path.name + ".*.tmp"):
            # Left by a process killed while saving.
            if time.time() - stale.stat().st_mtime > 600:
                stale.unlink(missing_ok=True)
        entries = list(self.entries.values())
        chunks = [entries[i : i + _CHUNK] for i in range(0, len(entries), _CHUNK)]
        temporary = path.with_name(path.name + f".{os.getpid()}.tmp")
        try:
            with temporary.open("wb") as f:
                pickler = pickle.Pickler(f, protocol=pickle.HIGHEST_PROTOCOL)
                # No memo: a memo of every object would cost hundreds of MB while saving.
                pickler.fast = True
                pickler.dump((_CACHE_FORMAT, self.settings, len(chunks)))
                for chunk in chunks:
                    pickler.dump(self._chunk_state(chunk))
                    time.sleep(0)
            temporary.replace(path)
        finally:
            temporary.unlink(missing_ok=True)
        self.dirty = False

    def _chunk_state(self, entries: list[ParsedArticle]) -> dict[str, Any]:
        articles = [e.article for e in entries]
        verdicts = self.verdicts
        return {
            "paths": [e.path for e in entries],
            "stamps": [e.stamp for e in entries],
            "errors": [e.errors for e in entries],
            "fields": {
                name: [_to_column(name, getattr(a, name)) if a else None for a in articles]
                for name in _ARTICLE_FIELDS
            },
            "has_article": [a is not None for a in articles],
            "verdicts": {
                e.path: verdicts[e.path][1:]
                for e in entries
                if e.path in verdicts and verdicts[e.path][0] is e
            },
        }

    @classmethod
    def load(cls, path: Path) -> ParseCache:
        """A saved cache, or an empty one if there is none or it cannot be used."""
        try:
            with path.open("rb") as f, _no_gc():
                version, settings, count = pickle.load(f)
                if version != _CACHE_FORMAT:
                    return cls()
                cache = cls(settings=settings, dirty=False)
                for _ in range(count):
                    cache._add_state(pickle.load(f))
                return cache
        except (
            OSError,
            EOFError,
            pickle.UnpicklingError,
            ValueError,
            TypeError,
            AttributeError,
            ImportError,
            IndexError,
            KeyError,
        ):
            return cls()

    def _add_state(self, state: dict[str, Any]) -> None:
        columns = dict(state["fields"])
        for name in ("published", "updated", "study"):
            columns[name] = [_from_column(name, v) for v in columns[name]]
        rows = zip(*(columns[name] for name in _ARTICLE_FIELDS), strict=True)
        entries = self.entries
        for path, stamp, errors, has, values in zip(
            state["paths"],
            state["stamps"],
            state["errors"],
            state["has_article"],
            rows,
            strict=True,
        ):
            article = _article(dict(zip(_ARTICLE_FIELDS, values, strict=True))) if has else None
            entries[path] = ParsedArticle(path, stamp, article, errors)
        for path, (errors, ok) in state["verdicts"].items():
            self.verdicts[path] = (entries[path], errors, ok)
        for path in state["paths"]:
            self.slugs.setdefault(_slug_of(path), set()).add(path)


def load_content(
    root: Path | str,
    base_url: str | None = None,
    cache: ParseCache | None = None,
    changed: Iterable[Path] | None = None,
    previous: Catalogue | None = None,
) -> LoadResult:
    """Load and check a content folder. Never raises for anything the folder holds.

    ``base_url`` overrides site.yaml's, e.g. to serve the content on localhost. With a
    ``cache``, unchanged article files are not parsed again; it is updated in place. With
    ``changed`` (paths reported by a file watcher), only those article files are looked at
    again and the rest of the cache is trusted as it is. ``previous`` (the catalogue being
    served) lends the new one its rendered parts when nothing they depend on changed.
    """
    root = Path(root)
    out = _Collector(root)
    if not root.exists():
        out.add(str(root), None, "no such folder")
        return LoadResult(None, out.errors)
    if not root.is_dir():
        out.add(str(root), None, "is a file, not a content folder")
        return LoadResult(None, out.errors)

    with _no_gc():
        return _load(out, root, base_url, cache, changed, previous)


def _load(
    out: _Collector,
    root: Path,
    base_url: str | None,
    cache: ParseCache | None,
    changed: Iterable[Path] | None,
    previous: Catalogue | None,
) -> LoadResult:
    cache = cache if cache is not None else ParseCache()
    changed = None if changed is None else [Path(p) for p in changed]
    settings = cache.settings
    articles_only = changed is not None and all(out.rel(p).startswith("articles/") for p in changed)
    same = settings is not None and articles_only
    if settings is None or not articles_only:
        settings = _load_settings(out, root, base_url)
        same = cache.settings is not None and _same_settings(cache.settings, settings)
        cache.settings = settings
    else:
        out.errors += settings.errors
    if not same:
        cache.verdicts.clear()
    touched = _parse_articles(out, root, cache, changed)
    cache.dirty = cache.dirty or bool(touched) or not same
    if same and not touched and previous is not None and cache.verdicts:
        return LoadResult(
            previous, out.errors + _verdict_errors(cache), settings.warnings, unchanged=True
        )
    articles, delta = _judge_articles(cache, settings, touched if cache.verdicts else None)
    out.errors += _verdict_errors(cache)
    if settings.site is None or settings.topics is None:
        return LoadResult(None, out.errors, settings.warnings)
    catalogue = Catalogue(
        settings.site, settings.topics, settings.experts, articles, previous, delta
    )
    return LoadResult(catalogue, out.errors, settings.warnings)


def _load_settings(out: _Collector, root: Path, base_url: str | None) -> _Settings:
    before = len(out.errors)
    site = _load_site(out, root / "site.yaml")
    if site is not None and base_url:
        site = site.model_copy(update={"base_url": base_url.rstrip("/")})
    languages = site.languages if site else []
    topics = _load_localized_map(out, root / "topics.yaml", languages)
    warnings: list[ContentError] = []
    experts, broken_experts = _load_experts(out, root / "experts", languages, warnings)
    return _Settings(site, topics, experts, broken_experts, out.errors[before:], warnings)


def _same_settings(a: _Settings, b: _Settings) -> bool:
    return (a.site, a.topics, a.experts, a.broken_experts) == (
        b.site,
        b.topics,
        b.experts,
        b.broken_experts,
    )


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


def _load_experts(
    out: _Collector, folder: Path, languages: list[str], warnings: list[ContentError]
) -> tuple[dict[str, Expert], set[str]]:
    """The valid experts by id, and the ids whose files are broken; adds to ``warnings``."""
    experts: dict[str, Expert] = {}
    broken: set[str] = set()
    if not folder.is_dir():
        out.add(folder, None, "is missing: the experts folder holds one file per expert")
        return experts, broken
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.suffix not in (".yaml", ".yml"):
            out.add(path, None, "is not an expert file: name it <expert-id>.yaml")
            continue
        if not re.match(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", path.stem):
            out.add(path, None, "the expert id (file name) must be lowercase letters, digits, -")
            continue
        broken.add(path.stem)
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
        broken.discard(path.stem)
        experts[path.stem] = expert
        organisation = expert.organisation.casefold()
        for lang, role in expert.role.items():
            if organisation in role.casefold():
                warnings.append(
                    ContentError(
                        out.rel(path),
                        parsed[1].get(("role", lang)) or parsed[1].get(("role",)),
                        f"'role' ({lang}) names the organisation '{expert.organisation}', "
                        "which is printed after it anyway: leave it out of the role",
                    )
                )
    return experts, broken


def _walk(folder: Path, root: Path) -> dict[str, tuple[str, Stamp | None]]:
    """Every entry below ``folder`` that may be an article: its path relative to ``root``,
    its full path, and its stamp (None: not a regular file). Hidden names are skipped;
    linked folders are listed, not entered, so they are reported rather than followed."""
    found: dict[str, tuple[str, Stamp | None]] = {}
    skip = len(str(root)) + 1
    stack = [str(folder)]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            name, full = entry.name, entry.path
            if name.startswith("."):
                continue
            stamp: Stamp | None = None
            try:
                if entry.is_dir(follow_symlinks=False):
                    if not name.endswith(".md"):
                        stack.append(full)
                        continue
                elif not entry.is_symlink():
                    stat = entry.stat(follow_symlinks=False)
                    stamp = (stat.st_size, stat.st_mtime_ns)
            except OSError:
                pass
            found[full[skip:].replace(os.sep, "/")] = (full, stamp)
    return found


def _parse_articles(
    out: _Collector, root: Path, cache: ParseCache, changed: Iterable[Path] | None
) -> set[str]:
    """Bring ``cache.entries`` up to date with the files; return the paths that changed."""
    folder = root / "articles"
    entries = cache.entries
    touched: set[str] = set()
    if not folder.is_dir():
        out.add(folder, None, "is missing: articles go in articles/<year>/<slug>.<lang>.md")
        touched.update(entries)
        entries.clear()
        return touched
    todo: list[tuple[Path, Stamp | None]] = []
    # Files a walk finds are inside the folder, unless articles/ itself leads elsewhere.
    inside = folder.resolve().is_relative_to(out.safe_root)
    if changed is not None and entries:
        for path in changed:
            path = Path(path)
            rel = out.rel(path)
            if not rel.startswith("articles/") or any(p.startswith(".") for p in path.parts):
                continue
            if path.is_dir() and not path.name.endswith(".md"):
                todo += [(Path(full), None) for full, _ in _walk(path, root).values()]
            elif path.exists() or path.is_symlink():
                todo.append((path, None))
            else:
                for key in [k for k in entries if k == rel or k.startswith(rel + "/")]:
                    del entries[key]
                    touched.add(key)
    else:
        present = _walk(folder, root)
        for key in [k for k in entries if k not in present]:
            del entries[key]
            touched.add(key)
        for rel, (full, stamp) in present.items():
            known = entries.get(rel)
            if known is None or stamp is None or known.stamp != stamp:
                todo.append((Path(full), stamp if inside else None))
    for result in _parse_many(root, out.safe_root, todo):
        entries[result.path] = result
        touched.add(result.path)
    return touched


def _parse_many(
    root: Path, safe_root: Path, todo: list[tuple[Path, Stamp | None]]
) -> Iterable[ParsedArticle]:
    workers = min(os.cpu_count() or 1, 8)
    if len(todo) < PARALLEL_FROM or workers < 2:
        return [parse_article(root, path, safe_root, stamp) for path, stamp in todo]
    paths = [path for path, _ in todo]
    stamps = [stamp for _, stamp in todo]
    log.info("parsing %d article files in %d processes", len(paths), workers)
    # Small chunks keep each worker small: it holds one chunk of results at a time.
    chunk = max(1, min(500, len(paths) // (workers * 8)))
    # Reading many small files from a cold disk would leave the workers waiting on one
    # read at a time: ask the kernel to read them all ahead, in the background.
    threading.Thread(target=_read_ahead, args=(paths,), daemon=True).start()
    try:
        # spawn: fresh, small worker processes (a fork would count the server's pages
        # again in each), and safe from a reload's thread.
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            roots, safe_roots = [root] * len(paths), [safe_root] * len(paths)
            return list(pool.map(parse_article, roots, paths, safe_roots, stamps, chunksize=chunk))
    except (BrokenProcessPool, OSError) as e:
        log.warning("parsing in one process: worker processes failed (%s)", e)
        return [parse_article(root, path, safe_root, stamp) for path, stamp in todo]


def _read_ahead(paths: list[Path]) -> None:
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            advise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)


def _slug_of(path: str) -> str:
    """The slug a path's file name gives (its own path when it gives none)."""
    match = ARTICLE_NAME_RE.match(path.rsplit("/", 1)[-1])
    return match["slug"] if match else path


def _judge_articles(
    cache: ParseCache, settings: _Settings, touched: set[str] | None
) -> tuple[list[Article], tuple[list[Article], list[Article]] | None]:
    """Judge the files whose verdict may have changed; return every accepted article.

    Files are judged per slug, in path order, since a file's verdict depends on the others
    of its slug (the same slug and language twice; translations of different types). With
    ``touched`` None, every file is judged. Also returns, for a partial judgement, the
    articles that left the catalogue and those that entered it.
    """
    entries, verdicts, slugs = cache.entries, cache.verdicts, cache.slugs
    if touched is None:
        verdicts.clear()
        slugs.clear()
        for path in entries:
            slugs.setdefault(_slug_of(path), set()).add(path)
        _judge_groups(slugs, list(slugs), entries, verdicts, settings)
        return _accepted(verdicts), None
    groups = {_slug_of(path) for path in touched}
    # What the touched groups held before, to tell the catalogue what left it.
    left: dict[int, Article] = {}
    for path in {p for slug in groups for p in slugs.get(slug, ())}:
        _, _, ok = verdict = verdicts[path]
        article = verdict[0].article
        if ok and article is not None:
            left[id(article)] = article
    for path in touched:
        slug = _slug_of(path)
        if path in entries:
            slugs.setdefault(slug, set()).add(path)
        else:
            slugs.get(slug, set()).discard(path)
            verdicts.pop(path, None)
    entered: list[Article] = []
    for article in _judge_groups(slugs, groups, entries, verdicts, settings):
        if left.pop(id(article), None) is None:
            entered.append(article)
    return _accepted(verdicts), (list(left.values()), entered)


def _accepted(
    verdicts: dict[str, tuple[ParsedArticle, tuple[ContentError, ...], bool]],
) -> list[Article]:
    return [parsed.article for parsed, _, ok in verdicts.values() if ok and parsed.article]


def _judge_groups(
    slugs: dict[str, set[str]],
    groups: Iterable[str],
    entries: dict[str, ParsedArticle],
    verdicts: dict[str, tuple[ParsedArticle, tuple[ContentError, ...], bool]],
    settings: _Settings,
) -> list[Article]:
    """Judge every file of ``groups``; return the articles accepted."""
    accepted: list[Article] = []
    for slug in list(groups):
        paths = sorted(slugs.get(slug, ()))
        _judge_group(paths, entries, verdicts, settings)
        for path in paths:
            parsed, _, ok = verdicts[path]
            if ok and parsed.article is not None:
                accepted.append(parsed.article)
        if not paths:
            slugs.pop(slug, None)
    return accepted


def _judge_group(
    paths: list[str],
    entries: dict[str, ParsedArticle],
    verdicts: dict[str, tuple[ParsedArticle, tuple[ContentError, ...], bool]],
    settings: _Settings,
) -> None:
    accepted: dict[str, Article] = {}
    first: Article | None = None
    for path in paths:
        parsed = entries[path]
        errors = parsed.errors
        article = parsed.article
        ok = False
        if article is not None:
            errors += tuple(_cross_check(parsed, article, settings))
            if errors:
                pass
            elif article.lang in accepted:
                other = accepted[article.lang].path
                errors = (ContentError(path, None, f"the same slug and language as {other}"),)
            elif first is not None and article.type != first.type:
                errors = (
                    ContentError(
                        path,
                        None,
                        f"is a translation of {first.path} but has type '{article.type}', "
                        f"not '{first.type}'; translations must have the same type",
                    ),
                )
            else:
                ok = True
                accepted[article.lang] = article
                first = first or article
        verdicts[path] = (parsed, errors, ok)


def _verdict_errors(cache: ParseCache) -> list[ContentError]:
    """The article files' errors, in path order."""
    with_errors = sorted(path for path, (_, errors, _) in cache.verdicts.items() if errors)
    return [error for path in with_errors for error in cache.verdicts[path][1]]


def _cross_check(
    result: ParsedArticle, article: Article, settings: _Settings
) -> list[ContentError]:
    site, topics, experts = settings.site, settings.topics, settings.experts
    broken_experts = settings.broken_experts
    types = site.types if site else None
    languages = site.languages if site else None
    errors: list[ContentError] = []
    path = result.path

    def err(loc: tuple[str | int, ...], message: str) -> None:
        errors.append(ContentError(path, line_of(result, loc), message))

    if languages is not None and article.lang not in languages:
        errors.append(
            ContentError(
                path,
                None,
                f"language '{article.lang}' (from the file name) is not in site.yaml's languages",
            )
        )
    if types is not None and article.type not in types:
        err(("type",), f"unknown type '{article.type}'; site.yaml has {', '.join(types)}")
    if topics is not None:
        for index, topic in enumerate(article.topics):
            if topic not in topics:
                close = difflib.get_close_matches(topic, list(topics), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                err(("topics", index), f"unknown topic '{topic}'{hint}; add it to topics.yaml")
    for index, expert in enumerate(article.expert_ids):
        if expert in broken_experts:
            err(
                ("reactions", index, "expert"),
                f"expert '{expert}' cannot be used until experts/{expert}.yaml is fixed",
            )
        elif expert not in experts:
            err(
                ("reactions", index, "expert"),
                f"unknown expert '{expert}': there is no experts/{expert}.yaml",
            )
    return errors
