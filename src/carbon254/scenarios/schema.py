"""The JSON Schema of scenario files, generated from the models and published with the package.

`scenario.schema.json` next to this module is the generated schema, written
by `write_schema()` after a model changes; a test checks it equals what the
models generate, so editors and other tools that read the file never see a
stale contract.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from carbon254.scenarios.model import Scenario

SCHEMA_FILE = "scenario.schema.json"
SCHEMA_ID = "https://254carbon.example/schemas/scenario.schema.json"


@cache
def scenario_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a scenario, generated from the Pydantic models."""
    schema = Scenario.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def schema_text() -> str:
    """The schema as the published file holds it: sorted keys, two-space indents, a final newline."""
    return json.dumps(scenario_schema(), indent=2, sort_keys=True) + "\n"


def published_schema() -> dict[str, Any]:
    """The schema file shipped in the package, parsed."""
    parsed: dict[str, Any] = json.loads(files("carbon254.scenarios").joinpath(SCHEMA_FILE).read_text())
    return parsed


def write_schema(path: Path | None = None) -> Path:
    """Write the generated schema to `path` (default the package's published file) and return the path."""
    target = path or Path(__file__).with_name(SCHEMA_FILE)
    target.write_text(schema_text())
    return target
