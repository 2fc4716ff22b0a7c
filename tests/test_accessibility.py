"""Every HTML page we serve — index, feed pages, article pages, widgets and cards — parses in
html5lib without a single error and passes axe-core in Chromium (light and dark) with no
serious or critical violation, and no console problems."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import html5lib
import pytest

from smcfeed import FeedKey, load_content, urls

from ._browser import (
    chromium,
    console_problems,
    need_axe,
    need_chromium,
    run_axe,
    smcfeed_server,
    viewport,
)
from ._support import SAMPLE

pytestmark = pytest.mark.e2e


def html_paths() -> list[str]:
    """Our HTML pages: the index, widgets of every kind, article and quote cards (one with a
    sister centre's credit, one with a declared conflict), in both languages."""
    catalogue = load_content(SAMPLE).catalogue
    assert catalogue is not None
    routes: list[urls.Route] = [urls.Index()]
    for lang in catalogue.site.languages:
        routes.append(urls.Widget(FeedKey(lang)))
        routes.append(urls.Widget(FeedKey(lang, "topics", "climate"), 1))
    routes.append(urls.Widget(FeedKey("es", "types", "briefing"), 20))
    routes.append(urls.Widget(FeedKey("en", "experts", "elena-markovic")))
    picked = {"via": False, "declared": False, "plain": False}
    for article in catalogue.articles[::-1]:
        for reaction in catalogue.content(article).reactions:
            kind = (
                "via"
                if reaction.via
                else "plain"
                if reaction.conflicts in ("none", "not_responded")
                else "declared"
            )
            if not picked[kind] and article.published.year < 2029:
                picked[kind] = True
                routes.append(urls.ArticleCard(article.lang, article.slug))
                routes.append(urls.QuoteCard(article.lang, article.slug, reaction.expert_id))
    assert all(picked.values()), picked
    # The pages for readers: a feed opened in a browser, older pages, articles.
    routes.append(urls.Feed(FeedKey("es"), "rss"))
    routes.append(urls.Feed(FeedKey("es"), "atom", 2))
    routes.append(urls.Feed(FeedKey("en", "experts", "elena-markovic"), "json"))
    routes.append(urls.Article("es", "olas-de-calor-mortalidad-europa", "html"))
    routes.append(urls.Article("en", "ai-weather-forecast-model-ensemble", "html"))
    return [urls.path(route) for route in routes]


PATHS = html_paths()
#: What Chromium sends when it opens a page.
BROWSER_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
)


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    need_chromium()
    with smcfeed_server(tmp_path_factory.mktemp("ours")) as base:
        yield base


@pytest.mark.parametrize("path", PATHS)
def test_page_parses_without_errors(ours: str, path: str) -> None:
    request = urllib.request.Request(ours + path, headers={"accept": BROWSER_ACCEPT})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        body = response.read()
    parser = html5lib.HTMLParser(strict=True)
    parser.parse(body)
    assert parser.errors == []


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_pages_pass_axe_in_light_and_dark(ours: str, tmp_path: Path, dark: bool) -> None:
    source = need_axe()
    failures: dict[str, list[str]] = {}
    checked = 0
    with chromium(tmp_path / "profile") as driver:
        # The control: a page axe must fail (grey on grey, an image without alt text).
        driver.get(
            "data:text/html,<!DOCTYPE html><html lang=en><title>x</title><main>"
            "<p style='color:%23aaa;background:%23bbb'>faint</p><img src='data:,'></main>"
        )
        caught = {
            v["id"] for v in run_axe(driver, source) if v["impact"] in ("serious", "critical")
        }
        assert {"color-contrast", "image-alt"} <= caught
        console_problems(driver)
        for path in PATHS:
            viewport(driver, 1024, 900, dark)
            driver.get(ours + path)
            violations = run_axe(driver, source)
            checked += 1
            bad = [
                f"{v['id']} ({v['impact']}): {v['help']} — "
                + "; ".join(n.get("target", [""])[0] for n in v["nodes"][:3])
                for v in violations
                if v.get("impact") in ("serious", "critical")
            ]
            if bad:
                failures[path] = bad
        problems = console_problems(driver)
    assert checked == len(PATHS)
    assert failures == {}
    # The sample's pictures live on the centre's (fictional) website, which this machine
    # cannot reach; anything else in the console is a problem.
    offline = "Failed to load resource: net::ERR_NAME_NOT_RESOLVED"
    assert [
        p for p in problems if not (p.startswith("https://smc-demo.org/") and offline in p)
    ] == []
