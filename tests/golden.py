"""Golden files: one feed of each format, pinned byte for byte.

Regenerate after an intended change to the output, and review the diff:

    python -m tests.golden
"""

from __future__ import annotations

from pathlib import Path

from smcfeed import FeedKey, Smcfeed, load_content

from ._support import NOW, SAMPLE

GOLDEN = Path(__file__).parent / "data" / "golden"
#: file name -> (feed, format, page)
CASES = {
    "es.rss.xml": (FeedKey("es"), "rss", 1),
    "en.atom.xml": (FeedKey("en"), "atom", 1),
    "es.topics.climate.feed.json": (FeedKey("es", "topics", "climate"), "json", 1),
}


def render_all() -> dict[str, bytes]:
    catalogue = load_content(SAMPLE).catalogue
    assert catalogue is not None
    service = Smcfeed(catalogue)
    return {
        name: service.feed(key, fmt, page, NOW).body for name, (key, fmt, page) in CASES.items()
    }


def main() -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, body in render_all().items():
        (GOLDEN / name).write_bytes(body)
        print(f"wrote {GOLDEN / name} ({len(body)} bytes)")


if __name__ == "__main__":
    main()
