"""Age labels ("This article is 2 years old") and the instants at which they turn over.

Ages are whole calendar years (or months, below a year) between the local dates of
publication and of "now" in the site's timezone, so a label turns over at local midnight.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ._render.i18n import text


@dataclass(frozen=True)
class Age:
    """How old an item is, as shown to readers."""

    #: Whole years (0 when the label counts months).
    years: int
    #: Whole months (only used below one year).
    months: int
    #: The label in the item's language.
    text: str

    @property
    def unit(self) -> str:
        return "years" if self.years else "months"

    @property
    def count(self) -> int:
        return self.years or self.months


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)


def _add_months(start: date, months: int) -> date:
    """The first local date on which ``_months_between(start, d) >= months``."""
    total = start.month - 1 + months
    year, month = start.year + total // 12, total % 12 + 1
    last = calendar.monthrange(year, month)[1]
    if start.day > last:
        return date(year, month, last) + timedelta(days=1)
    return date(year, month, start.day)


def _first_label_months(after_days: int) -> int:
    """Months of age at which a label can first show: ages count months below a year only
    where the threshold is under a year; otherwise there is no label before one whole year."""
    return 1 if after_days < 365 else 12


def _label(lang: str, unit: str, count: int) -> str:
    return text(lang, f"age.{unit}.{'one' if count == 1 else 'many'}", n=count)


def age_of(
    published: datetime, now: datetime, zone: ZoneInfo, after_days: int, lang: str
) -> Age | None:
    """The age label to show at ``now``, or None while the item is younger than the threshold."""
    start, today = published.astimezone(zone).date(), now.astimezone(zone).date()
    if (today - start).days < after_days:
        return None
    months = _months_between(start, today)
    if months >= 12:
        return Age(months // 12, 0, _label(lang, "year", months // 12))
    if months >= _first_label_months(after_days):
        return Age(0, months, _label(lang, "month", months))
    return None


def next_turnover(published: datetime, now: datetime, zone: ZoneInfo, after_days: int) -> datetime:
    """The first instant after ``now`` at which ``age_of`` gives another answer."""
    start, today = published.astimezone(zone).date(), now.astimezone(zone).date()
    threshold = start + timedelta(days=after_days)
    months = _months_between(start, today)
    first = _first_label_months(after_days)
    if today < threshold:
        candidate = max(threshold, _add_months(start, first))
    elif months >= 12:
        candidate = _add_months(start, (months // 12 + 1) * 12)
    else:
        candidate = _add_months(start, max(first, months + 1))
    return datetime.combine(candidate, time(0), tzinfo=zone)


def label_since(
    published: datetime, now: datetime, zone: ZoneInfo, after_days: int
) -> datetime | None:
    """The instant the label shown at ``now`` first appeared (None while there is none)."""
    age = age_of(published, now, zone, after_days, "en")
    if age is None:
        return None
    start = published.astimezone(zone).date()
    since = max(
        start + timedelta(days=after_days), _add_months(start, age.years * 12 or age.months)
    )
    return datetime.combine(since, time(0), tzinfo=zone)
