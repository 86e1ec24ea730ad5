"""Reading back what the XLSX writer wrote: sheet names and cell values, from the archive's XML."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
EXCEL_EPOCH = datetime(1899, 12, 30)


def _column(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref)
    assert letters is not None
    index = 0
    for letter in letters.group():
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def read_workbook(data: bytes, only: Collection[str] | None = None) -> list[tuple[str, list[list[Any]]]]:
    """Each sheet's name and rows; a styled number (the writer styles only datetimes) is a datetime.

    Datetimes are rounded to the millisecond, Excel's precision. `only`
    names the sheets to read (None: all).
    """
    archive = zipfile.ZipFile(io.BytesIO(data))
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target") for rel in rels}
    sheets = []
    for sheet in book.findall("m:sheets/m:sheet", NS):
        if only is not None and sheet.get("name") not in only:
            continue
        root = ElementTree.fromstring(archive.read(f"xl/{targets[sheet.get(REL)]}"))
        rows: list[list[Any]] = []
        for row in root.findall("m:sheetData/m:row", NS):
            values: dict[int, Any] = {}
            for cell in row.findall("m:c", NS):
                column = _column(cell.get("r", ""))
                if cell.get("t") == "inlineStr":
                    values[column] = "".join(t.text or "" for t in cell.iter(f"{{{NS['m']}}}t"))
                    continue
                number = cell.find("m:v", NS)
                assert number is not None and number.text is not None
                if cell.get("s") is not None:
                    values[column] = EXCEL_EPOCH + timedelta(
                        milliseconds=round(float(number.text) * 86_400_000)
                    )
                else:
                    values[column] = float(number.text)
            width = max(values) + 1 if values else 0
            rows.append([values.get(i) for i in range(width)])
        sheets.append((sheet.get("name", ""), rows))
    return sheets
