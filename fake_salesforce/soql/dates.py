"""SOQL date literals (TODAY, LAST_N_DAYS:n, THIS_MONTH, ...) as half-open ranges of dates.

Where the fake differs from Salesforce: ranges are computed in UTC on the org clock, not in the
running user's time zone; weeks start on Sunday (the en_US locale). Fiscal periods follow a
standard fiscal year starting on the first of ``fiscal_start_month`` (January unless the org is
configured otherwise); custom fiscal years are not modelled.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta


FIXED = {"TODAY", "YESTERDAY", "TOMORROW", "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK", "LAST_MONTH",
         "THIS_MONTH", "NEXT_MONTH", "LAST_90_DAYS", "NEXT_90_DAYS", "THIS_QUARTER",
         "LAST_QUARTER", "NEXT_QUARTER", "THIS_YEAR", "LAST_YEAR", "NEXT_YEAR"}
WITH_N = {"LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO", "LAST_N_WEEKS", "NEXT_N_WEEKS",
          "N_WEEKS_AGO", "LAST_N_MONTHS", "NEXT_N_MONTHS", "N_MONTHS_AGO", "LAST_N_QUARTERS",
          "NEXT_N_QUARTERS", "N_QUARTERS_AGO", "LAST_N_YEARS", "NEXT_N_YEARS", "N_YEARS_AGO"}
FISCAL = {"THIS_FISCAL_QUARTER", "LAST_FISCAL_QUARTER", "NEXT_FISCAL_QUARTER", "THIS_FISCAL_YEAR",
          "LAST_FISCAL_YEAR", "NEXT_FISCAL_YEAR", "LAST_N_FISCAL_QUARTERS", "NEXT_N_FISCAL_QUARTERS",
          "N_FISCAL_QUARTERS_AGO", "LAST_N_FISCAL_YEARS", "NEXT_N_FISCAL_YEARS", "N_FISCAL_YEARS_AGO"}


def _add_months(d: date, months: int) -> date:
    total = d.year * 12 + (d.month - 1) + months
    return date(total // 12, total % 12 + 1, 1)


def is_date_literal(name: str) -> bool:
    upper = name.upper()
    return upper in FIXED or upper in WITH_N or upper in FISCAL


def takes_n(name: str) -> bool:
    return name.upper() in WITH_N or name.upper().startswith(("LAST_N_FISCAL", "NEXT_N_FISCAL", "N_FISCAL"))


def fiscal_year_start(today: date, start_month: int = 1) -> date:
    """The first day of the fiscal year ``today`` is in."""
    year = today.year if today.month >= start_month else today.year - 1
    return date(year, start_month, 1)


def date_range(name: str, n: int | None, now: datetime, fiscal_start_month: int = 1) -> tuple[date, date]:
    """The half-open range ``[start, end)`` of dates a literal stands for."""
    upper = name.upper()
    today = now.date()
    if upper in FISCAL:
        fiscal_year = fiscal_year_start(today, fiscal_start_month)
        quarter = _add_months(fiscal_year, (today.month - fiscal_start_month) % 12 // 3 * 3)
        start, size = (quarter, 3) if "QUARTER" in upper else (fiscal_year, 12)
        n = n or 0
        if upper.startswith("THIS_"):
            return start, _add_months(start, size)
        if upper.startswith("LAST_N_"):
            return _add_months(start, -size * n), start
        if upper.startswith("NEXT_N_"):
            return _add_months(start, size), _add_months(start, size * (n + 1))
        if upper.startswith("N_"):
            return _add_months(start, -size * n), _add_months(start, -size * (n - 1))
        if upper.startswith("LAST_"):
            return _add_months(start, -size), start
        return _add_months(start, size), _add_months(start, 2 * size)
    week = today - timedelta(days=(today.weekday() + 1) % 7)   # Sunday
    month = today.replace(day=1)
    quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    year = date(today.year, 1, 1)
    day = timedelta(days=1)
    fixed = {
        "TODAY": (today, today + day),
        "YESTERDAY": (today - day, today),
        "TOMORROW": (today + day, today + 2 * day),
        "LAST_WEEK": (week - 7 * day, week),
        "THIS_WEEK": (week, week + 7 * day),
        "NEXT_WEEK": (week + 7 * day, week + 14 * day),
        "LAST_MONTH": (_add_months(month, -1), month),
        "THIS_MONTH": (month, _add_months(month, 1)),
        "NEXT_MONTH": (_add_months(month, 1), _add_months(month, 2)),
        "LAST_90_DAYS": (today - 90 * day, today + day),
        "NEXT_90_DAYS": (today + day, today + 91 * day),
        "THIS_QUARTER": (quarter, _add_months(quarter, 3)),
        "LAST_QUARTER": (_add_months(quarter, -3), quarter),
        "NEXT_QUARTER": (_add_months(quarter, 3), _add_months(quarter, 6)),
        "THIS_YEAR": (year, _add_months(year, 12)),
        "LAST_YEAR": (_add_months(year, -12), year),
        "NEXT_YEAR": (_add_months(year, 12), _add_months(year, 24)),
    }
    if upper in fixed:
        return fixed[upper]
    n = n or 0
    if upper == "LAST_N_DAYS":
        return today - n * day, today + day
    if upper == "NEXT_N_DAYS":
        return today + day, today + (n + 1) * day
    if upper == "N_DAYS_AGO":
        return today - n * day, today - (n - 1) * day
    if upper == "LAST_N_WEEKS":
        return week - 7 * n * day, week
    if upper == "NEXT_N_WEEKS":
        return week + 7 * day, week + 7 * (n + 1) * day
    if upper == "N_WEEKS_AGO":
        return week - 7 * n * day, week - 7 * (n - 1) * day
    unit = {"MONTHS": (month, 1), "QUARTERS": (quarter, 3), "YEARS": (year, 12)}
    for suffix, (start, size) in unit.items():
        if upper == f"LAST_N_{suffix}":
            return _add_months(start, -size * n), start
        if upper == f"NEXT_N_{suffix}":
            return _add_months(start, size), _add_months(start, size * (n + 1))
        if upper == f"N_{suffix}_AGO":
            return _add_months(start, -size * n), _add_months(start, -size * (n - 1))
    raise ValueError(f"not a date literal: {upper}")
