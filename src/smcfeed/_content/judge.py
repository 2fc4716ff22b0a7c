"""Judging article files against the settings and against each other.

A file's verdict depends on the settings (types, languages, topics, experts) and on the
other files of its slug (the same slug and language twice; translations of different types),
so files are judged per slug, and only the slugs a change touched are judged again.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..exceptions import ContentError
from ..models import Article
from .config import SiteConfig
from .parse import ARTICLE_NAME_RE, ParsedArticle, line_of

if TYPE_CHECKING:
    from .parsecache import ParseCache

#: The verdict on one file: the parsed file it was made for, all its errors, and whether
#: its article is served.
Verdict = tuple[ParsedArticle, tuple[ContentError, ...], bool]


def slug_of(path: str) -> str:
    """The slug a path's file name gives (its own path when it gives none)."""
    match = ARTICLE_NAME_RE.match(path.rsplit("/", 1)[-1])
    return match["slug"] if match else path


def judge_articles(
    cache: ParseCache, settings: SiteConfig, touched: set[str] | None
) -> list[Article]:
    """Judge the files whose verdict may have changed; return every accepted article.

    Files are judged per slug, in path order, since a file's verdict depends on the others
    of its slug (the same slug and language twice; translations of different types). With
    ``touched`` None, every file is judged. The verdicts afterwards are those a judgement of
    every file would give: if they ever do not cover exactly the parsed files, all are
    judged again.
    """
    entries, verdicts, slugs = cache.entries, cache.verdicts, cache.slugs
    if touched is not None:
        for path in touched:
            slug = slug_of(path)
            if path in entries:
                slugs.setdefault(slug, set()).add(path)
            else:
                slugs.get(slug, set()).discard(path)
                verdicts.pop(path, None)
        _judge_groups(slugs, {slug_of(path) for path in touched}, entries, verdicts, settings)
    if touched is None or not _complete(entries, verdicts, touched):
        verdicts.clear()
        slugs.clear()
        for path in entries:
            slugs.setdefault(slug_of(path), set()).add(path)
        _judge_groups(slugs, list(slugs), entries, verdicts, settings)
    return [parsed.article for parsed, _, ok in verdicts.values() if ok and parsed.article]


def _complete(
    entries: dict[str, ParsedArticle], verdicts: dict[str, Verdict], touched: set[str]
) -> bool:
    """Whether there is a verdict for each parsed file, and only for the file as parsed.

    Only the touched files can have changed since the last judgement left the verdicts
    complete (a failed reload clears them), so the others are not looked at one by one.
    """
    if len(entries) != len(verdicts):
        return False
    for path in touched:
        verdict = verdicts.get(path)
        if (verdict is None) != (path not in entries):
            return False
        if verdict is not None and verdict[0] is not entries[path]:
            return False
    return True


def _judge_groups(
    slugs: dict[str, set[str]],
    groups: Iterable[str],
    entries: dict[str, ParsedArticle],
    verdicts: dict[str, Verdict],
    settings: SiteConfig,
) -> None:
    """Judge every file of ``groups``."""
    for slug in list(groups):
        paths = sorted(slugs.get(slug, ()))
        _judge_group(paths, entries, verdicts, settings)
        if not paths:
            slugs.pop(slug, None)


def _judge_group(
    paths: list[str],
    entries: dict[str, ParsedArticle],
    verdicts: dict[str, Verdict],
    settings: SiteConfig,
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


def verdict_errors(cache: ParseCache) -> list[ContentError]:
    """The article files' errors, in path order."""
    with_errors = sorted(path for path, (_, errors, _) in cache.verdicts.items() if errors)
    return [error for path in with_errors for error in cache.verdicts[path][1]]


def _cross_check(
    result: ParsedArticle, article: Article, settings: SiteConfig
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
