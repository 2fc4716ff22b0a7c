"""Read a content folder into a :class:`Catalogue`, collecting every error in one pass.

The loader never raises for bad content: each problem becomes a :class:`ContentError` naming
the file and line, and the files that are fine still load, so a caller can choose to serve them
(cold start) or to keep the last good catalogue (reload).

Article files are parsed one by one (in worker processes when there are many) into
:class:`ParsedArticle` results, which a :class:`ParseCache` keeps between loads and across
restarts: a reload parses only the files that changed. Whatever path a load takes, its
catalogue holds exactly the articles a load from nothing would accept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..catalogue import Catalogue
from ..exceptions import ContentError
from .config import load_config
from .judge import judge_articles, verdict_errors
from .parallel import Todo, parse_many
from .parse import MAX_FILE_BYTES, ParsedArticle, _Collector, digest_of
from .parsecache import ParseCache, no_gc
from .walk import FILE, LINK, kind_at, read_regular, walk

__all__ = ["LoadResult", "ParseCache", "load_content"]


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


def load_content(
    root: Path | str,
    base_url: str | None = None,
    cache: ParseCache | None = None,
    changed: Iterable[Path] | None = None,
    previous: Catalogue | None = None,
    digests: Mapping[str, bytes] | None = None,
) -> LoadResult:
    """Load and check a content folder. Never raises for anything the folder holds.

    ``base_url`` overrides site.yaml's, e.g. to serve the content on localhost. With a
    ``cache``, files whose bytes are unchanged are not parsed again; it is updated in place.
    With ``changed`` (paths reported by a file watcher), only those article files are read
    again and the rest of the cache is trusted as it is. ``previous`` (the catalogue being
    served) lends the new one its indexes and rendered parts where nothing they depend on
    changed; the new catalogue is the same whatever ``previous`` is.
    """
    root = Path(root)
    out = _Collector(root)
    if not root.exists():
        out.add(str(root), None, "no such folder")
        return LoadResult(None, out.errors)
    if not root.is_dir():
        out.add(str(root), None, "is a file, not a content folder")
        return LoadResult(None, out.errors)

    with no_gc():
        return _load(out, root, base_url, cache, changed, previous, digests)


def _load(
    out: _Collector,
    root: Path,
    base_url: str | None,
    cache: ParseCache | None,
    changed: Iterable[Path] | None,
    previous: Catalogue | None,
    digests: Mapping[str, bytes] | None = None,
) -> LoadResult:
    cache = cache if cache is not None else ParseCache()
    changed = None if changed is None else [Path(p) for p in changed]
    if changed is not None and any(out.rel(p) in ("articles", str(root), ".") for p in changed):
        # The articles folder itself (or the whole folder) was replaced: look at everything.
        changed = None
    settings = cache.settings
    fingerprint: str | None
    articles_only = changed is not None and all(out.rel(p).startswith("articles/") for p in changed)
    if settings is None or not articles_only:
        settings = cache.settings = load_config(out, root, base_url)
        fingerprint = settings.fingerprint()
    else:
        out.errors += settings.errors
        fingerprint = cache.fingerprint
    same = fingerprint == cache.fingerprint
    if not same:
        cache.verdicts.clear()
        cache.fingerprint = fingerprint
    touched = _parse_articles(out, root, cache, changed, digests)
    cache.dirty = cache.dirty or bool(touched) or not same
    if same and not touched and previous is not None and cache.verdicts:
        return LoadResult(
            previous, out.errors + verdict_errors(cache), settings.warnings, unchanged=True
        )
    articles = judge_articles(cache, settings, touched if cache.verdicts else None)
    out.errors += verdict_errors(cache)
    if settings.site is None or settings.topics is None:
        return LoadResult(None, out.errors, settings.warnings)
    catalogue = Catalogue(settings.site, settings.topics, settings.experts, articles, previous)
    return LoadResult(catalogue, out.errors, settings.warnings)


def _parse_articles(
    out: _Collector,
    root: Path,
    cache: ParseCache,
    changed: Iterable[Path] | None,
    digests: Mapping[str, bytes] | None = None,
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
    todo: list[Todo] = []
    # Files a walk finds are inside the folder, unless articles/ itself leads elsewhere.
    inside = folder.resolve().is_relative_to(out.safe_root)

    def add(rel: str, full: str, kind: str, data: bytes | None = None) -> None:
        if kind in (FILE, LINK):
            todo.append((Path(full), kind == FILE and inside, data))
        else:
            # Never opened: a named pipe would block the reader, a device may do anything.
            error = ContentError(rel, None, f"is {kind}, not a regular file; only files are read")
            entries[rel] = ParsedArticle(rel, b"", None, (error,))
            touched.add(rel)

    if changed is not None and entries:
        for path in changed:
            rel = out.rel(path)
            if not rel.startswith("articles/") or any(p.startswith(".") for p in rel.split("/")):
                continue
            kind = kind_at(path)
            if kind is None or (kind == "a folder" and not path.name.endswith(".md")):
                # Gone, or a folder (moved in, or replaced): what was below it and is no
                # longer there leaves; what is there now is read.
                below = {} if kind is None else walk(path, root)
                for key in [k for k in entries if k == rel or k.startswith(rel + "/")]:
                    if key not in below:
                        del entries[key]
                        touched.add(key)
                for sub, (full, sub_kind) in below.items():
                    add(sub, full, sub_kind)
            else:
                add(rel, str(path), kind)
    else:
        present = walk(folder, root)
        for key in [k for k in entries if k not in present]:
            del entries[key]
            touched.add(key)
        # Size and time can stay the same through an edit (a copy keeping times, a coarse
        # clock): only the bytes say whether a file is the one that was parsed.
        known: list[tuple[str, str, bytes]] = []
        for rel, (full, kind) in present.items():
            parsed = entries.get(rel)
            if parsed is not None and parsed.digest and kind == FILE and inside:
                if digests is None:
                    known.append((rel, full, parsed.digest))
                elif digests.get(rel) != parsed.digest:
                    add(rel, full, kind)
            else:
                add(rel, full, kind)
        for rel, full, data in _changed_files(known):
            add(rel, full, FILE, data)
    for result in parse_many(root, out.safe_root, todo):
        entries[result.path] = result
        touched.add(result.path)
    return touched


#: Files checked against their digests per task of the thread pool.
_VERIFY_CHUNK = 2000


def _changed_files(known: list[tuple[str, str, bytes]]) -> list[tuple[str, str, bytes | None]]:
    """The files whose bytes no longer have the digest they were parsed with, with their
    bytes (None when they could not be read: parsing will say why). Reading and hashing
    release the interpreter, so threads do it side by side on a large folder."""
    chunks = [known[i : i + _VERIFY_CHUNK] for i in range(0, len(known), _VERIFY_CHUNK)]
    if len(chunks) < 2:
        return [found for chunk in chunks for found in _verify(chunk)]
    with ThreadPoolExecutor(min(4, len(chunks))) as pool:
        return [found for result in pool.map(_verify, chunks) for found in result]


def _verify(chunk: list[tuple[str, str, bytes]]) -> list[tuple[str, str, bytes | None]]:
    changed: list[tuple[str, str, bytes | None]] = []
    for rel, full, digest in chunk:
        try:
            data = read_regular(full, MAX_FILE_BYTES, walked=True)
        except OSError:
            changed.append((rel, full, None))
            continue
        if digest_of(data) != digest:
            changed.append((rel, full, data))
    return changed
