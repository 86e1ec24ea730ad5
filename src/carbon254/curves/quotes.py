"""Quote uploads: CSV text or JSON records in, validated `Quote`s out, with every bad line reported.

Columns: `start,end,block,price` (ISO dates `YYYY-MM-DD`, start inclusive,
end exclusive, market time), or `contract,block,price` with a market label
(`Jan27`, `Q1 2027`, `Cal28`, `BOM`; see `carbon254.curves.contracts`)
instead of the dates. Blocks are `onpeak`, `offpeak`, `atc`, `2x16`, `7x8`
in any case; prices are $/MWh. Column names are case-insensitive. A file's
lines are numbered from 1 with the header as line 1; records are numbered
"item 1", "item 2", ... and that number is kept in `Quote.line`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from datetime import date

from carbon254.curves.contracts import contract_from_dates, parse_contract
from carbon254.curves.errors import QuoteFileError, QuoteProblem
from carbon254.curves.model import Contract, Quote
from carbon254.timeseries.periods import Block

_BLOCKS = ", ".join(b.value for b in Block)
_EXPECTED = "start,end,block,price or contract,block,price"


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _parse_date(value: object, field: str, problems: list[str]) -> date | None:
    if isinstance(value, date):
        return value
    text = _text(value)
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{field}\0{text!r} is not a date YYYY-MM-DD")
        return None


def _quote(row: Mapping[str, object], as_of: date, line: int, unit: str) -> Quote | list[QuoteProblem]:
    found: list[str] = []  # "field\0message", split below: keeps the helpers free of line bookkeeping
    block: Block | None = None
    block_text = _text(row.get("block"))
    try:
        block = Block(block_text.lower())
    except ValueError:
        found.append(f"block\0{block_text!r} is not a block ({_BLOCKS})")
    price: float | None = None
    raw_price = row.get("price")
    if isinstance(raw_price, bool):
        found.append(f"price\0{raw_price!r} is not a number")
    else:
        try:
            price = float(raw_price if isinstance(raw_price, int | float) else _text(raw_price))
        except ValueError:
            found.append(f"price\0{_text(raw_price)!r} is not a number")
        else:
            if not math.isfinite(price):
                found.append(f"price\0{price!r} is not a finite price")
                price = None
    contract: Contract | None = None
    label = _text(row.get("contract"))
    if label:
        if block is not None:
            try:
                contract = parse_contract(label, block, as_of)
            except ValueError as exc:
                found.append(f"contract\0{exc}")
    else:
        start = _parse_date(row.get("start"), "start", found)
        end = _parse_date(row.get("end"), "end", found)
        if start is not None and end is not None:
            if end <= start:
                found.append(f"end\0{end} is not after start {start}")
            elif block is not None:
                contract = contract_from_dates(start, end, block)
    if contract is not None and contract.end <= as_of:
        field = "contract" if label else "end"
        found.append(f"{field}\0{contract.name} ended on or before {as_of} (already delivered)")
        contract = None
    if found:
        pairs = [item.split("\0", 1) for item in found]
        return [QuoteProblem(line, field, message, unit) for field, message in pairs]
    assert contract is not None and price is not None  # every failure path above recorded a problem
    return Quote(contract, price, line)


def _check_columns(columns: set[str]) -> str | None:
    missing = [c for c in ("block", "price") if c not in columns]
    if "contract" not in columns:
        missing += [c for c in ("start", "end") if c not in columns]
    if missing:
        return f"missing column(s) {', '.join(missing)}; expected {_EXPECTED}"
    return None


def read_quotes_csv(text: str, *, as_of: date) -> list[Quote]:
    """Quotes from CSV text: header `start,end,block,price` or `contract,block,price` (prices $/MWh).

    Blank lines are skipped (and still counted). `as_of` anchors `BOM`
    labels and rejects contracts already delivered (ending on or before
    it). Raises `QuoteFileError` (a ValueError) listing every bad line as
    "line N, field: message": an empty file, missing columns, unknown
    blocks or labels, prices that are not finite numbers, end <= start, bad
    dates and delivered contracts.
    """
    lines = text.splitlines()
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
    if not numbered:
        raise QuoteFileError([QuoteProblem(1, "file", f"empty file; expected a header {_EXPECTED}")])
    header_line, header_text = numbered[0]
    header = [h.strip().lower() for h in next(csv.reader([header_text]))]
    problem = _check_columns(set(header))
    if problem:
        raise QuoteFileError([QuoteProblem(header_line, "header", problem)])
    if len(numbered) == 1:
        raise QuoteFileError([QuoteProblem(header_line, "file", "no quotes after the header")])
    quotes: list[Quote] = []
    problems: list[QuoteProblem] = []
    for number, line in numbered[1:]:
        cells = next(csv.reader([line]))
        if len(cells) != len(header):
            problems.append(
                QuoteProblem(number, "line", f"{len(cells)} fields where the header has {len(header)}")
            )
            continue
        result = _quote(dict(zip(header, cells, strict=True)), as_of, number, "line")
        if isinstance(result, Quote):
            quotes.append(result)
        else:
            problems.extend(result)
    if problems:
        raise QuoteFileError(problems)
    return quotes


def quotes_from_records(records: Sequence[Mapping[str, object]], *, as_of: date) -> list[Quote]:
    """Quotes from JSON-like records with the CSV's fields (keys case-insensitive; prices $/MWh).

    Each record has `block` and `price` and either `contract` or `start`
    and `end` (ISO date strings or `date`s). Raises `QuoteFileError`
    listing every bad record as "item N, field: message" (N 1-based, also
    kept as `Quote.line`).
    """
    if not records:
        raise QuoteFileError([QuoteProblem(1, "records", "no quotes", unit="item")])
    quotes: list[Quote] = []
    problems: list[QuoteProblem] = []
    for number, record in enumerate(records, start=1):
        if not isinstance(record, Mapping):
            problems.append(QuoteProblem(number, "item", "is not an object", unit="item"))
            continue
        row = {str(k).strip().lower(): v for k, v in record.items()}
        problem = _check_columns({k for k, v in row.items() if v is not None})
        if problem:
            problems.append(QuoteProblem(number, "fields", problem, unit="item"))
            continue
        result = _quote(row, as_of, number, "item")
        if isinstance(result, Quote):
            quotes.append(result)
        else:
            problems.extend(result)
    if problems:
        raise QuoteFileError(problems)
    return quotes


def write_quotes_csv(quotes: Sequence[Quote]) -> str:
    """Quotes as CSV text that `read_quotes_csv` reads back: `start,end,block,price,label` ($/MWh).

    Dates rather than labels, so the file means the same whatever `as_of` it
    is read with (a `BOM` label would move); `label` is for the reader only.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["start", "end", "block", "price", "label"])
    for quote in quotes:
        contract = quote.contract
        writer.writerow(
            [
                contract.start.isoformat(),
                contract.end.isoformat(),
                contract.block.value,
                repr(quote.price),
                contract.label,
            ]
        )
    return out.getvalue()
