"""Age labels: whole years (or months under a short threshold) in the site's timezone, the
instants they turn over, and the conflict-of-interest line."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from smcfeed._render import i18n as _i18n
from smcfeed.ages import age_of, label_since, next_turnover

MADRID = ZoneInfo("Europe/Madrid")
MICROSECOND = timedelta(microseconds=1)


def madrid(text: str) -> datetime:
    """A Madrid wall-clock time, e.g. ``madrid("2024-03-01 00:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=MADRID)


def label(published: datetime, now: datetime, after_days: int = 365, lang: str = "en"):
    age = age_of(published, now, MADRID, after_days, lang)
    return None if age is None else age.text


# --- the worked example -----------------------------------------------------------------------

PUBLISHED = datetime.fromisoformat("2023-03-01T00:30:00+01:00")  # 2023-02-28 23:30 UTC


def test_whole_years_turn_over_at_midnight_in_the_site_timezone():
    assert label(PUBLISHED, madrid("2024-02-29 23:59")) is None
    assert label(PUBLISHED, madrid("2024-02-29 23:59:59.999999")) is None
    age = age_of(PUBLISHED, madrid("2024-03-01 00:00"), MADRID, 365, "en")
    assert age is not None
    assert (age.years, age.months, age.unit, age.count) == (1, 0, "years", 1)
    assert age.text == "This article is 1 year old"


def test_now_in_another_timezone_is_reckoned_in_the_site_timezone():
    # 22:59 UTC is 23:59 in Madrid; by UTC dates the item would already be a year old.
    assert label(PUBLISHED, datetime(2024, 2, 29, 22, 59, tzinfo=UTC)) is None
    assert label(PUBLISHED, datetime(2024, 2, 29, 23, 0, tzinfo=UTC)) == (
        "This article is 1 year old"
    )


def test_under_a_year_threshold_counts_months_then_years():
    age = age_of(PUBLISHED, madrid("2024-02-29 23:59"), MADRID, 300, "en")
    assert age is not None
    assert (age.years, age.months, age.unit, age.count) == (0, 11, "months", 11)
    assert age.text == "This article is 11 months old"
    assert label(PUBLISHED, madrid("2024-03-01 00:00"), 300) == "This article is 1 year old"


def test_turnover_of_the_worked_example():
    assert next_turnover(PUBLISHED, madrid("2024-01-10 12:00"), MADRID, 365) == madrid(
        "2024-03-01 00:00"
    )
    assert label_since(PUBLISHED, madrid("2024-06-01 12:00"), MADRID, 365) == madrid(
        "2024-03-01 00:00"
    )
    assert next_turnover(PUBLISHED, madrid("2024-03-01 00:00"), MADRID, 365) == madrid(
        "2025-03-01 00:00"
    )


# --- wording ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "en", "es"),
    [
        ("2021-06-15 00:00", "This article is 1 year old", "Este artículo tiene 1 año"),
        ("2022-06-14 23:59", "This article is 1 year old", "Este artículo tiene 1 año"),
        ("2022-06-15 00:00", "This article is 2 years old", "Este artículo tiene 2 años"),
        ("2030-06-14 12:00", "This article is 9 years old", "Este artículo tiene 9 años"),
        ("2030-06-15 12:00", "This article is 10 years old", "Este artículo tiene 10 años"),
    ],
)
def test_years_in_english_and_spanish(now, en, es):
    published = madrid("2020-06-15 18:00")

    assert label(published, madrid(now), lang="en") == en
    assert label(published, madrid(now), lang="es") == es


@pytest.mark.parametrize(
    ("now", "en", "es"),
    [
        ("2024-02-10 00:00", "This article is 1 month old", "Este artículo tiene 1 mes"),
        ("2024-03-09 23:59", "This article is 1 month old", "Este artículo tiene 1 mes"),
        ("2024-03-10 00:00", "This article is 2 months old", "Este artículo tiene 2 meses"),
        ("2025-01-09 12:00", "This article is 11 months old", "Este artículo tiene 11 meses"),
        ("2025-01-10 00:00", "This article is 1 year old", "Este artículo tiene 1 año"),
    ],
)
def test_months_in_english_and_spanish(now, en, es):
    published = madrid("2024-01-10 09:00")

    assert label(published, madrid(now), 20, "en") == en
    assert label(published, madrid(now), 20, "es") == es


def test_unknown_language_falls_back_to_english():
    assert label(PUBLISHED, madrid("2026-03-01 00:00"), lang="fr") == "This article is 3 years old"


# --- thresholds -------------------------------------------------------------------------------


def test_no_label_below_the_threshold():
    published = madrid("2024-01-31 10:00")  # + 60 days = 2024-03-31 (2024 is a leap year)

    assert label(published, published, 60) is None
    assert label(published, madrid("2024-03-30 23:59"), 60) is None
    assert label(published, madrid("2024-03-31 00:00"), 60) == "This article is 2 months old"
    assert label(published, madrid("2024-04-30 12:00"), 60) == "This article is 2 months old"
    assert label(published, madrid("2024-05-01 00:00"), 60) == "This article is 3 months old"
    assert label(published, madrid("2025-01-30 12:00"), 60) == "This article is 11 months old"
    assert label(published, madrid("2025-01-31 00:00"), 60) == "This article is 1 year old"


def test_threshold_under_a_month_waits_for_a_whole_month():
    published = madrid("2024-01-10 09:00")

    assert label(published, madrid("2024-01-25 12:00"), 10) is None
    assert label(published, madrid("2024-02-10 00:00"), 10) == "This article is 1 month old"


def test_a_year_or_more_threshold_never_counts_months():
    published = madrid("2023-03-01 12:00")

    # 365 days have passed on 2024-02-29, but not a whole year: no "11 months" label.
    assert label(published, madrid("2024-02-29 12:00"), 365) is None
    assert label(published, madrid("2024-02-29 12:00"), 364) == "This article is 11 months old"


def test_threshold_over_a_year():
    published = madrid("2020-01-01 12:00")  # + 730 days = 2021-12-31 (2020 is a leap year)

    assert label(published, madrid("2021-06-01 12:00"), 730) is None
    assert label(published, madrid("2021-12-30 23:59"), 730) is None
    assert label(published, madrid("2021-12-31 00:00"), 730) == "This article is 1 year old"
    assert label(published, madrid("2022-01-01 00:00"), 730) == "This article is 2 years old"


def test_no_label_before_publication():
    published = madrid("2030-01-01 09:00")

    assert label(published, madrid("2029-01-01 09:00"), 1) is None
    assert label_since(published, madrid("2029-01-01 09:00"), MADRID, 1) is None


# --- 29 February ------------------------------------------------------------------------------


def test_published_on_29_february():
    published = madrid("2024-02-29 12:00")

    assert label(published, madrid("2025-02-28 23:59")) is None
    assert label(published, madrid("2025-03-01 00:00")) == "This article is 1 year old"
    assert label(published, madrid("2028-02-28 23:59")) == "This article is 3 years old"
    assert label(published, madrid("2028-02-29 00:00")) == "This article is 4 years old"
    assert next_turnover(published, madrid("2024-06-01 00:00"), MADRID, 365) == madrid(
        "2025-03-01 00:00"
    )
    assert next_turnover(published, madrid("2027-06-01 00:00"), MADRID, 365) == madrid(
        "2028-02-29 00:00"
    )


def test_published_on_31_january_counts_months_through_february():
    published = madrid("2023-01-31 12:00")

    assert label(published, madrid("2023-02-28 12:00"), 20) is None
    assert label(published, madrid("2023-03-01 00:00"), 20) == "This article is 1 month old"
    assert label(published, madrid("2023-03-30 12:00"), 20) == "This article is 1 month old"
    assert label(published, madrid("2023-03-31 00:00"), 20) == "This article is 2 months old"


# --- turnovers, checked against a day-by-day count --------------------------------------------


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=MADRID)


@pytest.mark.parametrize("after_days", [10, 60, 365, 400])
@pytest.mark.parametrize(
    "published",
    [
        "2023-03-01T00:30:00+01:00",  # just after midnight in Madrid, the day before in UTC
        "2024-02-29T12:00:00+01:00",  # 29 February
        "2023-01-31T23:30:00+00:00",  # 1 February in Madrid; a 31st in UTC
        "2024-03-31T01:30:00+01:00",  # the night clocks go forward
    ],
)
def test_next_turnover_and_label_since_match_a_day_by_day_count(published, after_days):
    published = datetime.fromisoformat(published)
    first = published.astimezone(MADRID).date() - timedelta(days=3)
    days = [first + timedelta(days=n) for n in range(2 * 366 + 10)]
    # Ages only change at local midnight, so one answer per local date is the whole story.
    answers = [age_of(published, _midnight(day), MADRID, after_days, "en") for day in days]

    changes = [i for i in range(1, len(days)) if answers[i] != answers[i - 1]]
    assert len(changes) >= 2, "the label should change at least twice in two years"
    for i, day in enumerate(days):
        later = [c for c in changes if c > i]
        if not later:
            break
        afternoon = _midnight(day) + timedelta(hours=13)
        turnover = next_turnover(published, afternoon, MADRID, after_days)
        assert turnover == _midnight(days[later[0]])
        if i == 0 or i in changes:
            # From the very instant of a turnover, the next one is the following change.
            assert next_turnover(published, _midnight(day), MADRID, after_days) == turnover
            before = age_of(published, turnover - MICROSECOND, MADRID, after_days, "en")
            assert before == answers[i]
            assert age_of(published, turnover, MADRID, after_days, "en") != before

        since = label_since(published, afternoon, MADRID, after_days)
        if answers[i] is None:
            assert since is None
        else:
            start = max(c for c in changes if c <= i)
            assert since == _midnight(days[start])


def test_next_turnover_keeps_the_site_offset_across_daylight_saving():
    # 2024-03-26 00:00 in Madrid is winter time (+01:00); 2024-10-01 00:00 summer time (+02:00).
    published = madrid("2023-03-26 12:00")
    turnover = next_turnover(published, madrid("2023-05-01 00:00"), MADRID, 365)

    assert turnover == datetime(2024, 3, 25, 23, 0, tzinfo=UTC)
    published = madrid("2023-10-01 12:00")
    turnover = next_turnover(published, madrid("2023-11-01 00:00"), MADRID, 365)
    assert turnover == datetime(2024, 9, 30, 22, 0, tzinfo=UTC)


# --- conflicts of interest --------------------------------------------------------------------


def test_conflicts_line_in_english():
    assert _i18n.conflicts_line("none", "en") == (
        "The author has declared no conflicts of interest"
    )
    assert _i18n.conflicts_line("not_responded", "en") == (
        "The author has not responded to our request to declare conflicts of interest"
    )


def test_conflicts_line_in_spanish():
    none = _i18n.conflicts_line("none", "es")
    silent = _i18n.conflicts_line("not_responded", "es")

    assert "conflictos de interés" in none and " no " in f" {none.lower()} "
    assert "conflictos de interés" in silent and "no ha respondido" in silent.lower()
    assert none != silent
    assert none != _i18n.conflicts_line("none", "en")


@pytest.mark.parametrize("lang", ["en", "es"])
def test_conflicts_line_free_text_is_the_declaration(lang):
    declaration = "Ha recibido financiación de Pfizer para otro estudio."

    assert _i18n.conflicts_line(declaration, lang) == declaration
    assert _i18n.conflicts_line("None", lang) == "None"
