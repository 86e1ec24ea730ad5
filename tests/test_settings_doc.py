"""The README's settings table is exactly the `Settings` fields, as `carbon254.settings_doc` renders them."""

from __future__ import annotations

import re
from pathlib import Path

from carbon254.config import Settings
from carbon254.settings_doc import main, readme_table, settings_fields, settings_table, with_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_table_is_the_generated_one() -> None:
    assert readme_table(README.read_text()) == settings_table(), (
        "README.md's settings table is out of date: run `python -m carbon254.settings_doc --write README.md`"
    )


def test_readme_table_lists_exactly_the_settings_fields() -> None:
    listed = re.findall(r"^\| `(CARBON254_[A-Z0-9_]+)` \|", readme_table(README.read_text()), re.M)
    assert listed == [variable for variable, _ in settings_fields()]
    assert len(set(listed)) == len(listed)


def test_every_field_has_a_description() -> None:
    assert [name for name, info in Settings.model_fields.items() if not info.description] == []
    assert [variable for variable, info in settings_fields() if not info.description] == []


def test_defaults_are_rendered_as_set_in_env_vars() -> None:
    rows = {line.split(" | ")[0].strip("| `"): line for line in settings_table().splitlines()[2:]}
    assert "| `required` |" in rows["CARBON254_AUTH"]
    assert "| `true` |" in rows["CARBON254_LOG_JSON"]
    assert "| `[]` |" in rows["CARBON254_CORS_ORIGINS"]
    assert "| — |" in rows["CARBON254_METADATA_URL"]


def test_write_replaces_only_the_table(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    start, end = re.findall(r"<!-- settings-table:\w+[^>]*-->", README.read_text())
    doc.write_text(f"# Title\n\n{start}\n| stale |\n{end}\n\nAfter.\n")
    assert main(["--write", str(doc)]) == 0
    text = doc.read_text()
    assert text.startswith("# Title\n\n") and text.endswith(f"{end}\n\nAfter.\n")
    assert "stale" not in text and readme_table(text) == settings_table()
    assert with_table(text) == text
