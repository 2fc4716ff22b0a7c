"""The embeds in a real browser: Debian's Chromium loads a partner newsroom's page, served
from another site, that embeds our widget and a quote card in iframes (with our optional
auto-height script). Items render, nothing breaks the console or the CSP, no request leaves
the two origins, JavaScript off still works; screenshots at 320 and 1024 px, light and dark,
go to tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ._browser import (
    ARTIFACTS,
    chromium,
    console_problems,
    host_server,
    need_chromium,
    requested_urls,
    smcfeed_server,
    viewport,
    wait_for,
)

pytestmark = pytest.mark.e2e

ARTICLE = "ai-weather-forecast-model-ensemble"
HOST_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>The Daily Example</title>
<link rel="icon" href="data:,">
<style>
body{{margin:12px;font:17px/1.5 Georgia,serif;color:#222;background:#fafafa}}
main{{max-width:1000px;margin:auto}}
iframe{{display:block;width:100%;border:0;margin:16px 0}}
@media (prefers-color-scheme:dark){{body{{color:#ddd;background:#222}}}}
</style>
</head>
<body>
<main>
<h1>The Daily Example</h1>
<p>A partner newsroom's story page, with our embeds in it.</p>
<iframe id="widget" src="{ours}/embed/en?limit=3" height="400"
 title="Latest expert reactions"></iframe>
<iframe id="card" src="{ours}/embed/en/articles/{article}/reactions/elena-markovic"
 height="300" title="An expert's quote"></iframe>
{script}
</main>
</body>
</html>
"""
#: A page the harness must catch: an inline style its CSP forbids.
BAD_FRAME = b"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>bad</title>
<style>body{color:red}</style></head><body><p>blocked style</p></body></html>"""


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    need_chromium()
    with smcfeed_server(tmp_path_factory.mktemp("ours")) as base:
        yield base


def _host(ours: str, script: bool = True) -> bytes:
    tag = f'<script async src="{ours}/embed.js"></script>' if script else ""
    return HOST_PAGE.format(ours=ours, article=ARTICLE, script=tag).encode()


def _frame_report(driver: Any, frame_id: str) -> dict[str, Any]:
    """What is inside one of the host page's iframes, and how tall the iframe is."""
    frame = driver.find_element("id", frame_id)
    outer = driver.execute_script("return arguments[0].getBoundingClientRect().height", frame)
    driver.switch_to.frame(frame)
    try:
        return {
            "iframe_height": outer,
            "content_height": driver.execute_script(
                "return document.documentElement.getBoundingClientRect().height"
            ),
            "items": len(driver.find_elements("css selector", "article.item")),
            "cards": len(driver.find_elements("css selector", "article.card")),
            "headings": [h.text for h in driver.find_elements("css selector", "h1, h2")],
            "background": driver.execute_script(
                "return getComputedStyle(document.documentElement).backgroundColor"
            ),
            "padding": driver.execute_script("return getComputedStyle(document.body).paddingLeft"),
            "lang": driver.execute_script("return document.documentElement.lang"),
        }
    finally:
        driver.switch_to.default_content()


def _allowed(url: str, origins: tuple[str, ...]) -> bool:
    """Whether a request stays on the two origins (or never touches the network)."""
    return url.startswith(origins) or not url.startswith(("http:", "https:", "ws:", "wss:"))


def test_a_partner_page_on_another_site_shows_our_embeds(ours: str, tmp_path: Path) -> None:
    pages: dict[str, tuple[bytes, dict[str, str]]] = {"/": (_host(ours), {})}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with host_server(pages) as host, chromium(tmp_path / "profile") as driver:
        host_origin = host.url("")
        assert host_origin.split(":")[1] != ours.split(":")[1]  # another site, not just a port
        driver.get("about:blank")
        requested_urls(driver), console_problems(driver)  # from here on
        for dark in (False, True):
            for width in (320, 1024):
                viewport(driver, width, 1600, dark)
                driver.get(host.url("/"))

                def grown() -> bool:
                    heights = driver.execute_script(
                        "return [...document.querySelectorAll('iframe')].map(f => f.style.height)"
                    )
                    return all(heights)

                assert wait_for(grown), "embed.js never resized the iframes"
                widget = _frame_report(driver, "widget")
                card = _frame_report(driver, "card")
                assert widget["items"] == 3, widget
                assert card["cards"] == 1, card
                assert widget["lang"] == card["lang"] == "en"
                assert any("Elena Marković" in h for h in card["headings"])
                # The inline CSS applied (its hash let it through), in the asked scheme.
                expected = "rgb(20, 20, 20)" if dark else "rgb(255, 255, 255)"
                assert widget["background"] == card["background"] == expected
                assert widget["padding"] == "14px"
                # Auto-height: each iframe is exactly as tall as what it shows.
                for report in (widget, card):
                    assert abs(report["iframe_height"] - report["content_height"]) <= 1, report
                name = f"embeds-{width}-{'dark' if dark else 'light'}.png"
                driver.save_screenshot(str(ARTIFACTS / name))
        problems = console_problems(driver)
        assert problems == []
        asked = requested_urls(driver)
    assert any(u.startswith(ours + "/embed/en") for u in asked)
    assert ours + "/embed.js" in asked
    strays = [u for u in asked if not _allowed(u, (host_origin, ours))]
    assert strays == [], "requests left the two origins"
    assert set(host.requests) <= {"/", "/favicon.ico"}


def test_the_harness_would_see_a_csp_violation_in_a_cross_site_frame(tmp_path: Path) -> None:
    """The control: the same harness catches a forbidden inline style in a cross-site iframe
    (so "no console problems" above means something)."""
    pages: dict[str, tuple[bytes, dict[str, str]]] = {
        "/bad": (BAD_FRAME, {"content-security-policy": "default-src 'none'"}),
    }
    with host_server(pages) as host, chromium(tmp_path / "profile") as driver:
        bad = host.url("/bad", host="127.0.0.1")
        pages["/"] = (
            (
                f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title>'
                f'</head><body><iframe id="f" src="{bad}" title="bad"></iframe></body></html>'
            ).encode(),
            {},
        )
        driver.get(host.url("/"))
        assert wait_for(
            lambda: any("Content Security Policy" in m for m in console_problems_kept(driver)),
            timeout=5,
        ), _kept


_kept: list[str] = []


def console_problems_kept(driver: Any) -> list[str]:
    _kept.extend(console_problems(driver))
    return _kept


def test_embeds_work_with_javascript_off(ours: str, tmp_path: Path) -> None:
    pages: dict[str, tuple[bytes, dict[str, str]]] = {"/": (_host(ours), {})}
    with host_server(pages) as host, chromium(tmp_path / "profile", javascript=False) as driver:
        viewport(driver, 1024, 1200, dark=False)
        driver.get(host.url("/"))
        widget = _frame_report(driver, "widget")
        card = _frame_report(driver, "card")
        assert widget["items"] == 3
        assert card["cards"] == 1
        assert widget["padding"] == "14px"  # styled without any script
        # JavaScript really was off: nothing resized the iframes from their given heights.
        assert widget["iframe_height"] == 400 and card["iframe_height"] == 300
        assert console_problems(driver) == []


def _readme_quote_box(ours: str) -> str:
    """The README's "quote box from the API" example, pointed at the server under test."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    code = text.split("```js\n", 1)[1].split("```", 1)[0]
    assert "https://feeds.smc-demo.org" in code
    return code.replace("https://feeds.smc-demo.org", ours)


def test_the_readmes_quote_box_works_on_a_partner_page(ours: str, tmp_path: Path) -> None:
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Story</title>'
        '<link rel="icon" href="data:,"></head><body><main id="story"><h1>Story</h1></main>'
        f'<script type="module">{_readme_quote_box(ours)}</script></body></html>'
    ).encode()
    with host_server({"/": (page, {})}) as host, chromium(tmp_path / "profile") as driver:
        driver.get(host.url("/"))
        assert wait_for(lambda: bool(driver.find_elements("css selector", "figure.smc-quote")))
        box = driver.find_element("css selector", "figure.smc-quote")
        questions = [p.text for p in box.find_elements("css selector", "p.smc-question")]
        words = [q.text for q in box.find_elements("css selector", "blockquote")]
        caption = box.find_element("css selector", "figcaption").text
        credit = box.find_element("css selector", "p.smc-credit").text
        problems = console_problems(driver)
    assert questions == [
        "Is the study based on solid data and methods?",
        "What are the limitations?",
    ]
    assert len(words) == 2 and words[0].startswith("The evaluation is thorough.")
    assert not any(q in w for q in questions for w in words)
    assert caption.startswith("Elena Marković, ")
    assert credit == "Source: SMC Demo (CC BY 4.0)"
    assert problems == []
