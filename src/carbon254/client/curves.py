"""What `Client` and `AsyncClient` share for forward curves: the mark upload and the chart.

`mark_upload` turns the quotes a caller has (a file, CSV text, records or a
DataFrame) into the body of `POST /v1/curves`: CSV bodies travel as they
are, records as JSON, so the service reports bad lines in the caller's own
terms (`line 3` of a file, `item 2` of a list). `chart_png` rebuilds the
monthly and hourly curves from the answers of `/v1/curves` and
`/v1/curves/hpfc` and draws them with the platform's own chart, which needs
the full `carbon254` package (the standalone SDK has no matplotlib).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic_core import to_json

from carbon254.client.errors import InvalidRequest
from carbon254.client.queries import day_text, month_text

# What `quotes` may be: a file path, CSV text, records, or a pandas/Polars DataFrame.
QuoteSource = str | Path | Sequence[Mapping[str, Any]] | Any


@dataclass(frozen=True, slots=True)
class MarkUpload:
    """One `POST /v1/curves`: its query parameters, body bytes and content type."""

    params: dict[str, str]
    content: bytes
    content_type: str


def _csv_of_frame(frame: Any) -> str | None:
    """A pandas or Polars DataFrame as CSV text (dates as YYYY-MM-DD), else None."""
    module = type(frame).__module__.split(".")[0]
    if module == "pandas" and hasattr(frame, "to_csv"):
        text: str = frame.to_csv(index=False, date_format="%Y-%m-%d")
        return text
    if module == "polars" and hasattr(frame, "write_csv"):
        written: str = frame.write_csv(date_format="%Y-%m-%d")
        return written
    return None


def _read_file(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidRequest(
            f"quotes: cannot read {path} ({exc.strerror or exc})", parameter="quotes"
        ) from None
    except UnicodeDecodeError:
        raise InvalidRequest(f"quotes: {path} is not UTF-8 text", parameter="quotes") from None


def mark_upload(
    *,
    iso: str,
    hub: str,
    as_of: str | date,
    quotes: QuoteSource,
    through: str | date | None,
    prior: bool,
) -> MarkUpload:
    """The request marking `hub` on `as_of` from `quotes` ($/MWh); `InvalidRequest` if they are unusable.

    A `Path` (or a one-line string naming an existing file) is read: a
    `.json` file holds a list of quote objects (or `{"quotes": [...]}`),
    anything else is CSV (`start,end,block,price` or `contract,block,price`).
    Text with a line break is CSV; a list of mappings is sent as JSON; a
    pandas or Polars DataFrame with the CSV's columns is sent as CSV.
    """
    day = day_text(as_of) or ""
    month = month_text(through)
    params = {"iso": iso, "hub": hub, "as_of": day, "prior": "true" if prior else "false"}
    if month is not None:
        params["through"] = month
    if isinstance(quotes, str) and "\n" not in quotes and Path(quotes).is_file():
        quotes = Path(quotes)
    if isinstance(quotes, Path):
        text = _read_file(quotes)
        if quotes.suffix.lower() != ".json":
            return MarkUpload(params, text.encode(), "text/csv")
        return MarkUpload(
            params, _json_body(params, month, prior, _json_quotes(text, quotes)), "application/json"
        )
    if isinstance(quotes, str):
        if "\n" not in quotes.strip():
            raise InvalidRequest(
                f"quotes: {quotes!r} is neither a file nor CSV text (a header line and quote lines)",
                parameter="quotes",
            )
        return MarkUpload(params, quotes.encode(), "text/csv")
    frame_text = _csv_of_frame(quotes)
    if frame_text is not None:
        return MarkUpload(params, frame_text.encode(), "text/csv")
    if isinstance(quotes, Sequence) and not isinstance(quotes, bytes | bytearray):
        return MarkUpload(params, _json_body(params, month, prior, list(quotes)), "application/json")
    raise InvalidRequest(
        f"quotes: a {type(quotes).__name__} is not a file, CSV text, list of quotes or DataFrame",
        parameter="quotes",
    )


def _json_quotes(text: str, path: Path) -> list[Any]:
    """The quote objects of a JSON file: a list, or an object's `quotes` list."""
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise InvalidRequest(f"quotes: {path} is not JSON ({exc})", parameter="quotes") from None
    if isinstance(parsed, dict):
        parsed = parsed.get("quotes")
    if not isinstance(parsed, list):
        raise InvalidRequest(f"quotes: {path} holds no list of quotes", parameter="quotes")
    return parsed


def _json_body(params: dict[str, str], month: str | None, prior: bool, records: list[Any]) -> bytes:
    """The JSON body of a mark (dates in records as ISO-8601 text)."""
    body: dict[str, Any] = {"iso": params["iso"], "hub": params["hub"], "as_of": params["as_of"]}
    body |= {"prior": prior, "quotes": records}
    if month is not None:
        body["through"] = month
    return to_json(body)


def _monthly(table: pa.Table) -> Any:
    """The `MonthlyCurve` of a `/v1/curves` answer (every block of every month)."""
    from carbon254.curves.model import MonthlyCurve
    from carbon254.timeseries.periods import Block

    months = sorted({date.fromisoformat(f"{m}-01") for m in table.column("month").to_pylist()})
    blocks = tuple(Block(b) for b in dict.fromkeys(table.column("block").to_pylist()))
    prices = np.full((len(months), len(blocks)), np.nan)
    hours = np.zeros((len(months), len(blocks)), dtype=np.int64)
    index = {m: i for i, m in enumerate(months)}
    columns = {b: j for j, b in enumerate(blocks)}
    extrapolated = [m for m, e in zip(months, _extrapolated(table, index), strict=True) if e]
    for row in table.select(["month", "block", "price", "hours"]).to_pylist():
        i, j = index[date.fromisoformat(f"{row['month']}-01")], columns[Block(row["block"])]
        prices[i, j], hours[i, j] = row["price"], row["hours"]
    last = months[-1]
    following = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    return MonthlyCurve(
        iso=str(table.column("iso")[0].as_py()),
        hub=str(table.column("hub")[0].as_py()),
        as_of=date.fromisoformat(str(table.column("as_of")[0].as_py())),
        months=tuple(months),
        blocks=blocks,
        prices=prices,
        hours=hours,
        quoted_through=extrapolated[0] if extrapolated else following,
    )


def _extrapolated(table: pa.Table, index: dict[date, int]) -> list[bool]:
    """Per month (ascending), whether the answer marks it extrapolated."""
    flags = [False] * len(index)
    for month, flag in zip(
        table.column("month").to_pylist(), table.column("extrapolated").to_pylist(), strict=True
    ):
        if flag:
            flags[index[date.fromisoformat(f"{month}-01")]] = True
    return flags


def _hourly(table: pa.Table, curve: Any) -> Any:
    """The `HourlyCurve` of a `/v1/curves/hpfc` answer (UTC microsecond starts)."""
    from carbon254.curves.model import HourlyCurve

    starts = pc.cast(table.column("interval_start"), pa.timestamp("us", "UTC")).cast(pa.int64())
    return HourlyCurve(
        iso=curve.iso,
        hub=curve.hub,
        as_of=curve.as_of,
        starts=starts.to_numpy(),
        prices=table.column("price").to_numpy().astype("float64"),
    )


def chart_png(curve: pa.Table, hpfc: pa.Table | None, against: pa.Table | None) -> bytes:
    """A PNG of a mark's block prices ($/MWh) by month, its HPFC beneath and an earlier mark dashed.

    The tables are the Arrow answers of `/v1/curves` and `/v1/curves/hpfc`.
    Raises ImportError saying so when the full `carbon254` package (with
    matplotlib) is not installed.
    """
    try:
        from carbon254.reports.curve_chart import CurveSeries, curve_png
    except ImportError as exc:
        raise ImportError(
            f"curve_chart needs the full carbon254 package (pip install carbon254): {exc}"
        ) from None
    if curve.num_rows == 0:
        raise InvalidRequest("hub: the curve has no months to draw", parameter="hub")
    marked = _monthly(curve)
    series = [CurveSeries(marked, marked.as_of.isoformat())]
    if against is not None and against.num_rows:
        earlier = _monthly(against)
        series.append(CurveSeries(earlier, earlier.as_of.isoformat(), dashed=True))
    hourly = _hourly(hpfc, marked) if hpfc is not None else None
    return curve_png(series, hourly)


def write_png(path: str | Path, png: bytes) -> Path:
    """Write `png` to `path` (which must end in .png); the path written."""
    target = Path(path)
    if target.suffix.lower() != ".png":
        raise InvalidRequest(
            f"path: the chart is a PNG; name the file *.png, not {target.name}", parameter="path"
        )
    target.write_bytes(png)
    return target
