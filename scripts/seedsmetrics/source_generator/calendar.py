"""Nigerian company holidays and the business-day calendar the synthetic schedules follow."""

from __future__ import annotations

import bisect
from datetime import date, timedelta

# Islamic holidays move with the moon; these are the dates Nigeria's government declared
# (2026: expected).
ISLAMIC_HOLIDAYS: dict[int, list[tuple[str, str]]] = {
    2022: [("2022-05-02", "Eid-el-Fitr"), ("2022-05-03", "Eid-el-Fitr holiday"),
           ("2022-07-11", "Eid-el-Kabir"), ("2022-07-12", "Eid-el-Kabir holiday"),
           ("2022-10-10", "Eid-el-Maulud")],
    2023: [("2023-04-21", "Eid-el-Fitr"), ("2023-04-24", "Eid-el-Fitr holiday"),
           ("2023-06-28", "Eid-el-Kabir"), ("2023-06-29", "Eid-el-Kabir holiday"),
           ("2023-09-27", "Eid-el-Maulud")],
    2024: [("2024-04-10", "Eid-el-Fitr"), ("2024-04-11", "Eid-el-Fitr holiday"),
           ("2024-06-17", "Eid-el-Kabir"), ("2024-06-18", "Eid-el-Kabir holiday"),
           ("2024-09-16", "Eid-el-Maulud")],
    2025: [("2025-03-31", "Eid-el-Fitr"), ("2025-04-01", "Eid-el-Fitr holiday"),
           ("2025-06-06", "Eid-el-Kabir"), ("2025-06-09", "Eid-el-Kabir holiday"),
           ("2025-09-05", "Eid-el-Maulud")],
    2026: [("2026-03-20", "Eid-el-Fitr"), ("2026-03-23", "Eid-el-Fitr holiday"),
           ("2026-05-27", "Eid-el-Kabir"), ("2026-05-28", "Eid-el-Kabir holiday"),
           ("2026-08-26", "Eid-el-Maulud")],
}

FIXED_HOLIDAYS = (
    (1, 1, "New Year's Day"),
    (5, 1, "Workers' Day"),
    (6, 12, "Democracy Day"),
    (10, 1, "Independence Day"),
    (12, 25, "Christmas Day"),
    (12, 26, "Boxing Day"),
)


def easter_sunday(year: int) -> date:
    """Gregorian Easter (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month = (h + leap - 7 * m + 114) // 31
    day = (h + leap - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def company_holidays(first_year: int, last_year: int) -> list[tuple[date, str]]:
    """Public holidays the company closes on, in date order. A fixed holiday falling on a weekend
    is also observed on the next free weekday, as the federal government declares."""
    result: dict[date, str] = {}
    for year in range(first_year, last_year + 1):
        easter = easter_sunday(year)
        result[easter - timedelta(days=2)] = "Good Friday"
        result[easter + timedelta(days=1)] = "Easter Monday"
        for text, name in ISLAMIC_HOLIDAYS.get(year, []):
            result[date.fromisoformat(text)] = name
        for month, day, name in FIXED_HOLIDAYS:
            result.setdefault(date(year, month, day), name)
    for day in sorted(result):
        if day.weekday() >= 5 and not result[day].endswith("(observed)"):
            observed = day + timedelta(days=1)
            while observed.weekday() >= 5 or observed in result:
                observed += timedelta(days=1)
            result[observed] = f"{result[day]} (observed)"
    return sorted(result.items())


class BusinessDays:
    """Mon-Fri minus company holidays, as ordinals, with O(log n) 'first business day on/after'."""

    def __init__(self, first: date, last: date, holidays: set[date]):
        ordinals = []
        day = first
        while day <= last:
            if day.weekday() < 5 and day not in holidays:
                ordinals.append(day.toordinal())
            day += timedelta(days=1)
        self.ordinals = ordinals
        self.holidays = holidays

    def index_on_or_after(self, ordinal: int) -> int:
        return bisect.bisect_left(self.ordinals, ordinal)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def following(self, start: date, count: int) -> list[date]:
        """`count` business days starting at the first one on or after `start` (not limited to
        the precomputed range: used for schedules that run past it)."""
        days: list[date] = []
        day = start
        while len(days) < count:
            if self.is_business_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days
