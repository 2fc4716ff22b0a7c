"""The embargo grid: public responses expire on a fixed clock grid, and embargoes lift on it.

Every public response carries ``max-age`` up to the next line of a grid of
``embargo_grid_minutes`` (lines at whole multiples of it since the Unix epoch, so at :00,
:05, :10 … for 5). That depends on the clock alone, never on an embargoed item; and as long
as every embargo lifts on a grid line, no cache keeps a response past the lift. ``check``
holds editors to the second half.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path

from ..catalogue import Catalogue
from ..exceptions import ContentError

_PUBLISHED = re.compile(r"^published\s*:")


def seconds_to_line(now: datetime, grid_minutes: int) -> int:
    """Whole seconds from ``now`` to the next grid line (a full step when on a line)."""
    step = grid_minutes * 60
    left = step - now.timestamp() % step
    return math.floor(left)


def on_grid(moment: datetime, grid_minutes: int) -> bool:
    return moment.timestamp() % (grid_minutes * 60) == 0


def _published_line(root: Path | None, relative: str) -> int | None:
    """The line of ``published`` in the file's front matter, when the file can be read."""
    if root is None:
        return None
    try:
        text = (root / relative).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    for number, line in enumerate(text.splitlines()[1:], start=2):
        if line.strip() == "---":
            return None
        if _PUBLISHED.match(line):
            return number
    return None


def off_grid_embargoes(
    catalogue: Catalogue, now: datetime, root: Path | None = None
) -> list[ContentError]:
    """One error per embargo (a ``published`` after ``now``) that is not on the grid."""
    grid = catalogue.site.embargo_grid_minutes
    errors = []
    for article in catalogue.articles:
        if article.published <= now:
            # Newest first: everything from here on is public already.
            break
        if on_grid(article.published, grid):
            continue
        step = grid * 60
        before = datetime.fromtimestamp(
            article.published.timestamp() // step * step, article.published.tzinfo
        )
        after = datetime.fromtimestamp(before.timestamp() + step, article.published.tzinfo)
        errors.append(
            ContentError(
                article.path,
                _published_line(root, article.path),
                f"the embargo {article.published.isoformat()} is not on the site's "
                f"{grid}-minute grid (embargo_grid_minutes in site.yaml): publish at "
                f"{before.isoformat()} or {after.isoformat()}, so that no cache keeps the "
                "feeds past the lift",
            )
        )
    return errors
