"""collector/calendar.py: school days by arithmetic, checked against a day-by-day count."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from headcount.collector.calendar import SchoolCalendar

# 2026-11-20 is a Friday; Thanksgiving break is Thursday 26 and Friday 27.
FRI = date(2026, 11, 20)
THANKSGIVING = (date(2026, 11, 26), date(2026, 11, 27))
WINTER = (date(2026, 12, 21), date(2027, 1, 1))
CALENDAR = SchoolCalendar(holidays=(THANKSGIVING, WINTER), holiday_names=("thanksgiving", "winter break"),
                          term_start=date(2026, 8, 24), term_end=date(2027, 6, 11))


def naive(calendar: SchoolCalendar, start: date, end: date) -> int:
    """The definition, spelled out: every day after start up to end, one at a time."""
    count = 0
    day = start + timedelta(days=1)
    while day <= end:
        in_term = ((calendar.term_start is None or day >= calendar.term_start)
                   and (calendar.term_end is None or day <= calendar.term_end))
        holiday = any(first <= day <= last for first, last in calendar.holidays)
        count += in_term and not holiday and day.weekday() in calendar.school_weekdays
        day += timedelta(days=1)
    return count


def test_weekends_holidays_and_the_summer_are_not_school_days():
    assert FRI.weekday() == 4
    assert CALENDAR.is_school_day(FRI)
    assert not CALENDAR.is_school_day(FRI + timedelta(days=1))           # Saturday
    assert not CALENDAR.is_school_day(FRI + timedelta(days=2))           # Sunday
    assert CALENDAR.is_school_day(date(2026, 11, 25))
    assert not CALENDAR.is_school_day(date(2026, 11, 26))                # Thanksgiving
    assert not CALENDAR.is_school_day(date(2027, 1, 1))                  # winter break, inclusive end
    assert CALENDAR.is_school_day(date(2027, 1, 4))
    assert not CALENDAR.is_school_day(date(2027, 7, 5))                  # a summer Monday: outside the term
    assert not CALENDAR.is_school_day(date(2026, 8, 21))                 # the Friday before the term


def test_school_days_between_counts_the_days_after_start_up_to_end():
    # Unseen since Friday: Saturday, Sunday nothing; Monday 1, Tuesday 2, Wednesday 3.
    assert CALENDAR.school_days_between(FRI, FRI + timedelta(days=2)) == 0
    assert CALENDAR.school_days_between(FRI, date(2026, 11, 23)) == 1
    assert CALENDAR.school_days_between(FRI, date(2026, 11, 24)) == 2
    assert CALENDAR.school_days_between(FRI, date(2026, 11, 25)) == 3
    # Through Thanksgiving and its weekend: only Wednesday and Monday.
    assert CALENDAR.school_days_between(date(2026, 11, 24), date(2026, 11, 30)) == 2
    # The whole winter break: nothing.
    assert CALENDAR.school_days_between(date(2026, 12, 18), date(2027, 1, 3)) == 0
    assert CALENDAR.school_days_between(FRI, FRI) == 0
    assert CALENDAR.school_days_between(FRI, FRI - timedelta(days=10)) == 0


def test_the_term_clips_long_spans():
    # From a day in the summer before the term to one after it: exactly the term's school days.
    term_days = naive(CALENDAR, date(2026, 8, 23), date(2027, 6, 11))
    assert CALENDAR.school_days_between(date(2026, 6, 1), date(2027, 8, 1)) == term_days
    assert CALENDAR.school_days_between(date(2027, 6, 20), date(2027, 8, 30)) == 0


def test_overlapping_holidays_are_not_subtracted_twice():
    calendar = SchoolCalendar(holidays=((date(2026, 12, 21), date(2026, 12, 31)), (date(2026, 12, 24), date(2027, 1, 5)),
                                        (date(2027, 1, 6), date(2027, 1, 6))))
    assert calendar.school_days_between(date(2026, 12, 18), date(2027, 1, 8)) == 2     # Thursday 7, Friday 8
    assert calendar.school_days_between(date(2026, 12, 18), date(2027, 1, 8)) == naive(
        calendar, date(2026, 12, 18), date(2027, 1, 8))


def test_other_school_weeks():
    saturday_school = SchoolCalendar(school_weekdays=frozenset({0, 1, 2, 3, 4, 5}))
    assert saturday_school.school_days_between(FRI, FRI + timedelta(days=7)) == 6
    nothing = SchoolCalendar(school_weekdays=frozenset())
    assert nothing.school_days_between(FRI, FRI + timedelta(days=4000)) == 0
    assert not nothing.is_school_day(FRI)


def test_holiday_names_and_the_uncached_arithmetic():
    assert CALENDAR.holiday_name(date(2026, 11, 27)) == "thanksgiving"
    assert CALENDAR.holiday_name(date(2026, 11, 25)) is None
    assert SchoolCalendar(holidays=(THANKSGIVING,)).holiday_name(date(2026, 11, 26)) == ""
    for start, end in [(FRI, date(2027, 3, 1)), (date(2026, 1, 1), date(2029, 1, 1))]:
        assert CALENDAR.count_school_days(start, end) == CALENDAR.school_days_between(start, end)
        assert CALENDAR.school_days_between(start, end) == naive(CALENDAR, start, end)   # second call: cached


def test_a_calendar_is_immutable_comparable_and_hashable():
    again = SchoolCalendar(holidays=[THANKSGIVING, WINTER], holiday_names=["thanksgiving", "winter break"],
                           term_start=date(2026, 8, 24), term_end=date(2027, 6, 11))
    assert again == CALENDAR and hash(again) == hash(CALENDAR)
    assert isinstance(again.holidays, tuple)
    with pytest.raises(AttributeError):
        CALENDAR.term_end = None  # type: ignore[misc]


@pytest.mark.parametrize("kwargs, message", [
    (dict(holidays=((date(2026, 12, 31), date(2026, 12, 21)),)), "ends before it starts"),
    (dict(holidays=(THANKSGIVING,), holiday_names=("a", "b")), "2 names for 1 holiday"),
    (dict(school_weekdays=frozenset({7})), r"0 \(Monday\) \.\. 6 \(Sunday\)"),
    (dict(term_start=date(2027, 6, 1), term_end=date(2026, 8, 1)), "term ends before it starts"),
])
def test_bad_calendars_are_refused_with_the_reason(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SchoolCalendar(**kwargs)


DAYS = st.dates(min_value=date(2019, 1, 1), max_value=date(2031, 12, 31))


@st.composite
def calendars(draw):
    holidays = []
    for _ in range(draw(st.integers(0, 12))):
        start = draw(DAYS)
        holidays.append((start, start + timedelta(days=draw(st.integers(0, 90)))))
    term_start = draw(st.none() | DAYS)
    term_end = draw(st.none() | DAYS)
    if term_start is not None and term_end is not None and term_end < term_start:
        term_start, term_end = term_end, term_start
    weekdays = draw(st.frozensets(st.integers(0, 6)))
    return SchoolCalendar(school_weekdays=weekdays, holidays=tuple(holidays), term_start=term_start, term_end=term_end)


@settings(max_examples=300, deadline=None)
@given(calendar=calendars(), start=DAYS, end=DAYS)
def test_school_days_between_equals_the_day_by_day_count(calendar, start, end):
    assert calendar.school_days_between(start, end) == naive(calendar, start, end)


@settings(max_examples=200, deadline=None)
@given(calendar=calendars(), day=DAYS)
def test_is_school_day_is_the_one_day_count(calendar, day):
    assert calendar.is_school_day(day) == (naive(calendar, day - timedelta(days=1), day) == 1)
