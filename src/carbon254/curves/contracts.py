"""Contract labels as the power market writes them, and the label a delivery period goes by.

Forms (case-insensitive, spaces or dashes between parts optional):
balance of month `BOM` (the day after the as-of date to the first of next
month); months `Jan27`, `Jan 2027`, `January 2027`, `2027-01`; quarters
`Q1 27`, `Q1-2027`, `2027Q1`; seasons `Sum27`/`Summer 2027` and
`Win27`/`Winter 2027`; month strips `JanFeb27`, `JulAug27` (any run of
consecutive months within a year); calendar years `Cal27`, `Cal 2027`,
`2027`. Seasons follow the ICE power strips rather than astronomy: summer
is the July-August strip (JulAug) and winter the January-February strip
(JanFeb) of the same year, so `Win27` is Jan-Feb 2027, not Dec 2026-Feb 2027.
Two-digit years are 20yy.
"""

from __future__ import annotations

import re
from datetime import date

from carbon254.curves.errors import ContractLabelError
from carbon254.curves.model import Contract, ContractKind
from carbon254.timeseries.periods import Block

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_SEASONS = {"sum": 7, "summer": 7, "win": 1, "winter": 1}  # first month of a two-month strip

FORMS = (
    "BOM, Jan27, Jan 2027, 2027-01, Q1 27, Q1-2027, 2027Q1, Sum27, Summer 2027, Win27, Winter 2027, "
    "JanFeb27, JulAug27, Cal27, Cal 2027, 2027, and relative to the marking date M+1, Q+1, Cal+1"
)

_SEP = r"[\s\-_/]*"
_YEAR = r"(?P<year>\d{4}|\d{2})"
_MONTH_WORD = "|".join(_MONTH_NAMES + _MONTHS)
_RE_MONTH = re.compile(rf"^(?P<month>{_MONTH_WORD}){_SEP}{_YEAR}$")
_RE_ISO_MONTH = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})$")
_RE_QUARTER = re.compile(rf"^q(?P<q>[1-4]){_SEP}{_YEAR}$")
_RE_YEAR_QUARTER = re.compile(rf"^(?P<year>\d{{4}}){_SEP}q(?P<q>[1-4])$")
_RE_SEASON = re.compile(rf"^(?P<season>summer|winter|sum|win){_SEP}{_YEAR}$")
_RE_STRIP = re.compile(rf"^(?P<strip>(?:{'|'.join(_MONTHS)}){{2,11}}){_SEP}{_YEAR}$")
# Tenors relative to the marking date, as traders name the strip: M+1 is the prompt month.
_RE_RELATIVE = re.compile(r"^(?P<unit>m|q|cal)\s*\+\s*(?P<ahead>\d{1,3})$")
_RE_CAL = re.compile(rf"^(?:cal{_SEP}{_YEAR}|(?P<full>\d{{4}}))$")


def _year(text: str) -> int:
    return 2000 + int(text) if len(text) == 2 else int(text)


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_index(word: str) -> int:
    return (_MONTH_NAMES.index(word) if word in _MONTH_NAMES else _MONTHS.index(word)) + 1


def _unknown(label: str, why: str = "") -> ContractLabelError:
    reason = f" ({why})" if why else ""
    return ContractLabelError(f"unknown contract label {label!r}{reason}; expected one of the forms {FORMS}")


def parse_contract(label: str, block: Block, as_of: date) -> Contract:
    """The contract a market label names, delivering `block` hours; the label is kept as written.

    `as_of` (the marking date) anchors `BOM`, the days from the day after
    `as_of` to the first of the next month, and the relative tenors `M+k`,
    `Q+k`, `Cal+k` (the k-th month, quarter or year after `as_of`'s); a BOM asked for on the last day
    of a month has no days left and is an error. Periods are half-open
    ranges of delivery days in the ISO's market time. Raises
    `ContractLabelError` (a ValueError) naming the label and the accepted
    forms when the label is none of them.
    """
    written = " ".join(label.split())
    text = written.lower()
    if not text:
        raise _unknown(label, "empty")
    if text in ("bom", "balmo", "balance of month"):
        start = date.fromordinal(as_of.toordinal() + 1)
        if start.month != as_of.month:
            raise ContractLabelError(
                f"contract {label!r}: balance of month has no days left on {as_of} (the month's last day)"
            )
        end = _add_months(as_of.replace(day=1), 1)
        return Contract(start, end, block, ContractKind.BALANCE_OF_MONTH, written)
    compact = re.sub(r"\s+", " ", text)
    if m := _RE_RELATIVE.match(compact):
        return _relative(m["unit"], int(m["ahead"]), block, as_of, written)
    if m := _RE_MONTH.match(compact):
        first = date(_year(m["year"]), _month_index(m["month"]), 1)
        return Contract(first, _add_months(first, 1), block, ContractKind.MONTH, written)
    if m := _RE_ISO_MONTH.match(compact):
        month = int(m["month"])
        if not 1 <= month <= 12:
            raise _unknown(label, f"month {month} is not 1-12")
        first = date(int(m["year"]), month, 1)
        return Contract(first, _add_months(first, 1), block, ContractKind.MONTH, written)
    if m := _RE_QUARTER.match(compact) or _RE_YEAR_QUARTER.match(compact):
        first = date(_year(m["year"]), 3 * int(m["q"]) - 2, 1)
        return Contract(first, _add_months(first, 3), block, ContractKind.QUARTER, written)
    if m := _RE_SEASON.match(compact):
        first = date(_year(m["year"]), _SEASONS[m["season"]], 1)
        return Contract(first, _add_months(first, 2), block, ContractKind.SEASON, written)
    if m := _RE_STRIP.match(compact):
        strip = m["strip"]
        months = [_MONTHS.index(strip[i : i + 3]) + 1 for i in range(0, len(strip), 3)]
        if months != list(range(months[0], months[0] + len(months))):
            raise _unknown(label, "a strip's months must be consecutive within one year")
        first = date(_year(m["year"]), months[0], 1)
        return Contract(first, _add_months(first, len(months)), block, ContractKind.SEASON, written)
    if m := _RE_CAL.match(compact):
        year = _year(m["year"] or m["full"])
        return Contract(date(year, 1, 1), date(year + 1, 1, 1), block, ContractKind.CALENDAR, written)
    raise _unknown(label)


def _relative(unit: str, ahead: int, block: Block, as_of: date, written: str) -> Contract:
    """`M+k`, `Q+k` or `Cal+k`: the k-th month, quarter or calendar year after the one `as_of` is in.

    A file of relative tenors means the same strip whatever day it is marked
    on (M+1 is always the prompt month), so it can be re-marked every day.
    """
    if ahead < 1:
        raise ContractLabelError(f"contract {written!r}: a relative tenor counts from 1 (M+1 is next month)")
    if unit == "m":
        first = _add_months(as_of.replace(day=1), ahead)
        return Contract(first, _add_months(first, 1), block, ContractKind.MONTH, written)
    if unit == "q":
        quarter = as_of.replace(month=3 * ((as_of.month - 1) // 3) + 1, day=1)
        first = _add_months(quarter, 3 * ahead)
        return Contract(first, _add_months(first, 3), block, ContractKind.QUARTER, written)
    year = as_of.year + ahead
    return Contract(date(year, 1, 1), date(year + 1, 1, 1), block, ContractKind.CALENDAR, written)


def _months_between(start: date, end: date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def contract_from_dates(start: date, end: date, block: Block) -> Contract:
    """A contract for delivery days `[start, end)`, with the kind and label the market would give it.

    A calendar month is a month (`Jan27`), an aligned three-month quarter a
    quarter (`Q1 27`), a calendar year a calendar (`Cal27`), any other run
    of whole months within one year a season strip (`JulAug27`, or
    `Apr-Oct27` for more than three months), and the days from mid-month to
    the first of the next month a balance of month (`BOM`). Anything else
    is a custom period named by its dates. Raises ValueError if
    `end <= start`.
    """
    if end <= start:
        raise ValueError(f"contract end {end} must be after its start {start}")
    yy = f"{start.year % 100:02d}"
    if start.day != 1:
        if end == _add_months(start.replace(day=1), 1):
            return Contract(start, end, block, ContractKind.BALANCE_OF_MONTH, "BOM")
        return Contract(start, end, block)
    if end.day != 1:
        return Contract(start, end, block)
    months = _months_between(start, end)
    if months == 1:
        return Contract(start, end, block, ContractKind.MONTH, f"{_MONTHS[start.month - 1].title()}{yy}")
    if months == 12 and start.month == 1:
        return Contract(start, end, block, ContractKind.CALENDAR, f"Cal{yy}")
    if months == 3 and start.month % 3 == 1:
        return Contract(start, end, block, ContractKind.QUARTER, f"Q{(start.month + 2) // 3} {yy}")
    if start.month + months - 1 <= 12:
        names = [_MONTHS[start.month - 1 + i].title() for i in range(months)]
        label = "".join(names) + yy if months <= 3 else f"{names[0]}-{names[-1]}{yy}"
        return Contract(start, end, block, ContractKind.SEASON, label)
    return Contract(start, end, block)
