"""The school calendar: which days are school days. Pure: no clock, no I/O.

A student device is "missing" only after it has been unseen for N *school*
days, so a cart of iPads locked away over a weekend or a holiday is not
missing. That question is asked for every student device of the district
(a million of them) on every evaluation, so `school_days_between` is
arithmetic, not a loop over days:

- school weekdays in a span: whole weeks times the number of school
  weekdays, plus a small table for the partial week;
- minus the school weekdays that fall on holidays, from a prefix sum over
  the merged, sorted holiday ranges (found by bisection).

So one call costs O(log holidays) whatever the span, years included
(`count_school_days`), and `school_days_between` also remembers its answers:
one evaluation asks about the same few (last seen day, today) pairs for
thousands of devices.

Outside the term (before `term_start`, after `term_end`) nothing is a school
day: the summer never makes anything missing. A missing bound means the term
is open on that side.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date

_MEMO_LIMIT = 65536


def _day_index(day: date) -> int:
    """Days since Monday 0001-01-01, so index % 7 is the weekday (Monday=0), as date.weekday()."""
    return day.toordinal() - 1


@dataclass(frozen=True)
class SchoolCalendar:
    school_weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})   # Monday=0 .. Sunday=6
    holidays: tuple[tuple[date, date], ...] = ()   # inclusive ranges
    holiday_names: tuple[str, ...] = ()            # parallel to holidays
    term_start: date | None = None
    term_end: date | None = None

    # Precomputed once per calendar (one calendar serves a whole school's devices).
    _week_prefix: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _holiday_starts: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _holiday_ends: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _holiday_cumulative: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _term_lo: int | None = field(init=False, repr=False, compare=False)
    _term_hi: int | None = field(init=False, repr=False, compare=False)
    # Answers already computed: one evaluation asks the same (last seen day,
    # today) pair for thousands of devices. Only a cache: the calendar is
    # immutable, so an answer never goes stale; it is emptied when it grows.
    _memo: dict[tuple[date, date], int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        weekdays = frozenset(self.school_weekdays)
        if any(not isinstance(w, int) or isinstance(w, bool) or not 0 <= w <= 6 for w in weekdays):
            raise ValueError(f"school_weekdays must be integers 0 (Monday) .. 6 (Sunday), got {sorted(weekdays)!r}")
        holidays = tuple((start, end) for start, end in self.holidays)
        for start, end in holidays:
            if end < start:
                raise ValueError(f"holiday range ends before it starts: {start.isoformat()} .. {end.isoformat()}")
        names = tuple(self.holiday_names)
        if names and len(names) != len(holidays):
            raise ValueError(f"holiday_names has {len(names)} names for {len(holidays)} holiday ranges")
        if self.term_start is not None and self.term_end is not None and self.term_end < self.term_start:
            raise ValueError(f"term ends before it starts: {self.term_start.isoformat()} .. {self.term_end.isoformat()}")
        # Normalise what callers may pass as lists/sets, so the calendar stays hashable and immutable.
        object.__setattr__(self, "school_weekdays", weekdays)
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "holiday_names", names)

        # _week_prefix[r]: school weekdays among weekdays 0..r-1.
        prefix = [0]
        for weekday in range(7):
            prefix.append(prefix[-1] + (weekday in weekdays))
        object.__setattr__(self, "_week_prefix", tuple(prefix))

        # Overlapping or touching holidays are merged so no day is subtracted twice.
        merged: list[list[int]] = []
        for start, end in sorted((_day_index(s), _day_index(e)) for s, e in holidays):
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        cumulative = [0]
        for start, end in merged:
            cumulative.append(cumulative[-1] + self._weekdays_before(end + 1) - self._weekdays_before(start))
        object.__setattr__(self, "_holiday_starts", tuple(s for s, _ in merged))
        object.__setattr__(self, "_holiday_ends", tuple(e for _, e in merged))
        object.__setattr__(self, "_holiday_cumulative", tuple(cumulative))
        object.__setattr__(self, "_term_lo", None if self.term_start is None else _day_index(self.term_start))
        object.__setattr__(self, "_term_hi", None if self.term_end is None else _day_index(self.term_end))
        object.__setattr__(self, "_memo", {})

    # ------------------------------------------------------------ arithmetic on day indexes

    def _weekdays_before(self, index: int) -> int:
        """School weekdays (ignoring holidays and term) among day indexes [0, index)."""
        weeks, rest = divmod(index, 7)
        return weeks * self._week_prefix[7] + self._week_prefix[rest]

    def _holiday_weekdays_before(self, index: int) -> int:
        """School weekdays that are holidays, among day indexes [0, index)."""
        # The last merged range that starts before `index`; all earlier ones end before it starts.
        position = bisect_right(self._holiday_starts, index - 1)
        if position == 0:
            return 0
        last = position - 1
        start = self._holiday_starts[last]
        end = self._holiday_ends[last] + 1
        if index < end:
            end = index
        prefix = self._week_prefix
        weeks_end, rest_end = divmod(end, 7)
        weeks_start, rest_start = divmod(start, 7)
        inside = (weeks_end - weeks_start) * prefix[7] + prefix[rest_end] - prefix[rest_start]
        return self._holiday_cumulative[last] + inside

    def _school_days_before(self, index: int) -> int:
        return self._weekdays_before(index) - self._holiday_weekdays_before(index)

    # ------------------------------------------------------------ public

    def holiday_name(self, day: date) -> str | None:
        """The name of the holiday that covers `day` ("" when unnamed), or None when it is not a holiday."""
        for position, (start, end) in enumerate(self.holidays):
            if start <= day <= end:
                return self.holiday_names[position] if self.holiday_names else ""
        return None

    def in_term(self, day: date) -> bool:
        index = _day_index(day)
        return (self._term_lo is None or index >= self._term_lo) and (self._term_hi is None or index <= self._term_hi)

    def is_school_day(self, day: date) -> bool:
        if not self.in_term(day) or day.weekday() not in self.school_weekdays:
            return False
        index = _day_index(day)
        position = bisect_right(self._holiday_starts, index) - 1
        return position < 0 or index > self._holiday_ends[position]

    def school_days_between(self, start: date, end: date) -> int:
        """School days in (start, end]: the day after `start` through `end`; 0 if end <= start.

        "Unseen since Friday, today is Tuesday" -> Monday and Tuesday: 2.
        """
        key = (start, end)
        count = self._memo.get(key)
        if count is None:
            count = self.count_school_days(start, end)
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = count
        return count

    def count_school_days(self, start: date, end: date) -> int:
        """school_days_between without the cache: the arithmetic alone, O(log holidays) per call."""
        # The arithmetic of _school_days_before(hi + 1) - _school_days_before(lo),
        # inlined: this runs once per student device of the district.
        lo = start.toordinal()            # = day index of start + 1: the first day counted
        hi = end.toordinal() - 1
        term_lo = self._term_lo
        if term_lo is not None and lo < term_lo:
            lo = term_lo
        term_hi = self._term_hi
        if term_hi is not None and hi > term_hi:
            hi = term_hi
        if hi < lo:
            return 0
        prefix = self._week_prefix
        per_week = prefix[7]
        weeks, rest = divmod(hi + 1, 7)
        count = weeks * per_week + prefix[rest]
        weeks, rest = divmod(lo, 7)
        count -= weeks * per_week + prefix[rest]
        starts = self._holiday_starts
        if starts and hi >= starts[0]:
            count -= self._holiday_weekdays_before(hi + 1) - self._holiday_weekdays_before(lo)
        return count
