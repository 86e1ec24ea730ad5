"""The README's markets table is exactly what the service accepts, as `carbon254.markets_doc` renders it."""

from __future__ import annotations

from pathlib import Path

from carbon254.application.catalog import declared_markets
from carbon254.isos import Iso
from carbon254.markets_doc import MARKERS, main, markets_table
from carbon254.schema import Dataset

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_table_is_the_generated_one() -> None:
    assert MARKERS.block(README.read_text()) == markets_table(), (
        "README.md's markets table is out of date: run `python -m carbon254.markets_doc --write README.md`"
    )


def test_the_table_lists_every_declared_market_and_marks_the_simulated_ones() -> None:
    table = markets_table()
    row = {line.split(" | ")[0].removeprefix("| "): line for line in table.splitlines()[2:]}
    assert set(row) == {i.value for i in Iso}
    for iso in Iso:
        for dataset, markets in declared_markets(iso).items():
            for market in markets:
                assert f"`{market}`" in row[iso.value], (iso, dataset, market)
    # ERCOT publishes 15-minute settlement prices; the demo's hourly real time is simulated only.
    assert "`RT15`," in row["ERCOT"] and "`RTH`°" in row["ERCOT"]
    ercot = row["ERCOT"].split(" | ")
    assert ercot[1 + list(Dataset).index(Dataset.CAPACITY_PRICE)] == "—"


def test_write_replaces_only_the_table(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(f"# Title\n\n{MARKERS.start}\n| stale |\n{MARKERS.end}\n\nAfter.\n")
    assert main(["--write", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("# Title\n\n") and text.endswith(f"{MARKERS.end}\n\nAfter.\n")
    assert "stale" not in text and MARKERS.block(text) == markets_table()
