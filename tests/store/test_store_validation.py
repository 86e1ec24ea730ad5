"""Each validation rule rejects a bad batch whole, naming the rule and the rows."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from store_tables import lmp_table, utc

from carbon254.schema import TIMESTAMP, ValidationError, infer_dataset, validate
from carbon254.store import ParquetStore


def _set(table: pa.Table, column: str, row: int, value: object) -> pa.Table:
    values = table.column(column).to_pylist()
    values[row] = value
    field = table.schema.field(column)
    return table.set_column(table.schema.get_field_index(column), field, pa.array(values, field.type))


def _rule(exc: pytest.ExceptionInfo[ValidationError], rule: str) -> tuple[int, ...]:
    matches = [v for v in exc.value.violations if v.rule == rule]
    assert matches, f"rule {rule} not reported: {exc.value}"
    return matches[0].rows


@pytest.fixture
def good() -> pa.Table:
    return lmp_table(["HB_NORTH", "HB_SOUTH"], utc(2025, 1, 1), 24)


def test_good_batch_passes(good: pa.Table) -> None:
    out = validate("lmp", good)
    assert out.num_rows == good.num_rows
    assert out.schema.field("ingested_at").type == TIMESTAMP


@pytest.mark.parametrize(
    ("column", "row", "value", "rule"),
    [
        ("lmp", 3, None, "not_null"),
        ("location", 5, "  ", "not_blank"),
        ("iso", 7, "ERCOTT", "unknown_iso"),
        ("lmp", 2, float("nan"), "finite"),
        ("energy", 4, float("inf"), "finite"),
        ("lmp", 9, 30_000.0, "bounds"),
        ("congestion", 1, -12_000.0, "bounds"),
        ("loss", 6, 5.0, "components"),
    ],
)
def test_each_rule_names_its_rows(good: pa.Table, column: str, row: int, value: object, rule: str) -> None:
    bad = _set(good, column, row, value)
    with pytest.raises(ValidationError) as exc:
        validate("lmp", bad)
    assert row in _rule(exc, rule)
    assert rule in str(exc.value) and str(row) in str(exc.value)


def test_interval_end_after_start(good: pa.Table) -> None:
    bad = _set(good, "interval_end", 0, good.column("interval_start")[0].as_py())
    with pytest.raises(ValidationError) as exc:
        validate("lmp", bad)
    assert _rule(exc, "interval_order") == (0,)


def test_missing_column_and_naive_and_wrong_type(good: pa.Table) -> None:
    with pytest.raises(ValidationError) as exc:
        validate("lmp", good.drop_columns(["lmp"]))
    assert "lmp" in str(exc.value) and _rule(exc, "missing_column") == ()

    naive = good.set_column(
        good.schema.get_field_index("interval_start"),
        "interval_start",
        good.column("interval_start").cast(pa.timestamp("us")),
    )
    with pytest.raises(ValidationError) as exc:
        validate("lmp", naive)
    _rule(exc, "utc_timestamp")

    text_prices = good.set_column(
        good.schema.get_field_index("lmp"), "lmp", pc.cast(good.column("lmp"), pa.string())
    )
    assert validate("lmp", text_prices).column("lmp").type == pa.float64()  # numeric text casts cleanly
    with pytest.raises(ValidationError) as exc:
        validate("lmp", _set(text_prices, "lmp", 0, "n/a"))
    _rule(exc, "type")


def test_components_checked_only_when_all_present(good: pa.Table) -> None:
    no_loss = _set(_set(good, "loss", 6, None), "lmp", 6, 999.0)
    assert validate("lmp", no_loss).num_rows == good.num_rows


def test_scarcity_prices_of_february_2021_are_accepted() -> None:
    # ERCOT real-time prices sat at the $9,000 cap with ORDC adders on top.
    t = lmp_table(["HB_HOUSTON"], utc(2021, 2, 16), 4, iso="ERCOT", market="RT5", base=9_000.0)
    assert validate("lmp", t).num_rows == 4


def test_offset_timestamps_are_converted_to_utc(good: pa.Table) -> None:
    local = good.set_column(
        good.schema.get_field_index("interval_start"),
        "interval_start",
        good.column("interval_start").cast(pa.timestamp("us", tz="America/Chicago")),
    )
    out = validate("lmp", local)
    assert out.column("interval_start").type == TIMESTAMP
    assert out.column("interval_start").equals(good.column("interval_start"))


def test_a_rejected_batch_leaves_no_file_behind(tmp_path: Path, good: pa.Table) -> None:
    # That the store is unchanged is in the contract suite; here: not even an orphan file.
    store = ParquetStore(tmp_path)
    with pytest.raises(ValidationError):
        store.write("lmp", _set(good, "lmp", 30, 1e9))
    twice = pa.concat_tables([good, _set(good.slice(5, 1), "lmp", 0, good.column("lmp")[5].as_py() + 1)])
    with pytest.raises(ValidationError):
        store.write("lmp", _set(twice, "energy", good.num_rows, None))
    assert not (tmp_path / "store" / "manifest.json").exists()
    assert not list((tmp_path / "store").rglob("*.parquet"))


def test_infer_dataset() -> None:
    assert infer_dataset(["iso", "market", "location", "interval_start", "interval_end", "lmp"]) == "lmp"
    assert infer_dataset(["iso", "zone", "kind", "interval_start", "interval_end", "mw"]) == "load"
    with pytest.raises(ValueError, match="cannot tell"):
        infer_dataset(["iso", "price"])
