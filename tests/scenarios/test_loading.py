"""Scenario files: YAML and JSON checked against the published schema, every problem with its line."""

from __future__ import annotations

import json
from datetime import date

import pytest

from carbon254.scenarios.loading import ScenarioFileError, load_scenario, scenario_from_json
from carbon254.scenarios.model import GasStep, ReplayStep, ShiftStep
from carbon254.scenarios.schema import published_schema, scenario_schema

GOOD = """\
name: winter stress
description: gas up, onpeak up
seed: 7
steps:
  - type: shift
    percent: 10
    blocks: [onpeak]
    start: 2026-01
    end: 2026-03
  - type: gas
    gas_change: 1.5
    heat_rates: {onpeak: 9.0}
  - type: replay
    preset: uri
    apply_from: 2027-02-13
"""


def _problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario(text)
    assert isinstance(caught.value, ValueError)
    return [(p.line, p.path, p.message) for p in caught.value.errors]


def test_a_good_file_loads_into_typed_steps() -> None:
    scenario = load_scenario(GOOD)
    shift, gas, replay = scenario.steps
    assert isinstance(shift, ShiftStep) and shift.percent == 10 and shift.start == "2026-01"
    assert isinstance(gas, GasStep) and gas.heat_rates.onpeak == 9.0 and gas.heat_rates.offpeak == 7.0
    assert isinstance(replay, ReplayStep) and replay.apply_from == date(2027, 2, 13)
    assert scenario.seed == 7


def test_wrong_type_names_line_and_path() -> None:
    text = GOOD.replace("percent: 10", "percent: ten")
    assert _problems(text) == [(6, "steps[0].percent", "'ten' is not of type 'number'")]


def test_unknown_key_is_an_error_at_its_own_line() -> None:
    text = GOOD.replace("    gas_change: 1.5\n", "    gas_change: 1.5\n    gass: 2\n")
    [(line, path, message)] = _problems(text)
    assert (line, path) == (12, "steps[1].gass")
    assert "unknown field 'gass'" in message


def test_missing_field_points_at_the_step() -> None:
    text = "name: x\nsteps:\n  - type: shift\n    percent: 1\n  - type: load_growth\n    blocks: [onpeak]\n"
    assert _problems(text) == [(5, "steps[1]", "'percent' is a required property")]


def test_every_error_is_reported_not_just_the_first() -> None:
    text = (
        "name: x\nsteps:\n  - type: shift\n    percent: a\n  - type: nope\n"
        "  - type: volatility\n    factor: -1\n"
    )
    found = _problems(text)
    assert [(line, path) for line, path, _ in found] == [
        (4, "steps[0].percent"),
        (5, "steps[1].type"),
        (7, "steps[2].factor"),
    ]


def test_a_step_without_type_says_so() -> None:
    [(line, path, message)] = _problems("name: x\nsteps:\n  - percent: 3\n")
    assert (line, path) == (3, "steps[0]") and message.startswith("'type' is a required property")


def test_yaml_syntax_error_has_its_line() -> None:
    text = "name: x\nsteps:\n  - type: shift\n   percent: 1\n"
    [(line, path, message)] = _problems(text)
    assert line == 4 and path == "scenario" and message.startswith("YAML syntax")


def test_inconsistent_step_is_located_by_the_model_check() -> None:
    text = "name: x\nsteps:\n  - type: shift\n    percent: 1\n    absolute: 2\n"
    [(line, path, message)] = _problems(text)
    assert (line, path) == (3, "steps[0]") and "exactly one of absolute" in message


def test_repeated_key_and_bad_date_are_errors() -> None:
    text = "name: x\nname: y\nsteps:\n  - type: replay\n    preset: uri\n    apply_from: 2027-02-30\n"
    found = _problems(text)
    assert (2, "name", "given twice") in found
    assert (6, "steps[0].apply_from", "'2027-02-30' is not a 'date'") in found


def test_sweep_naming_a_missing_step_or_parameter() -> None:
    base = "name: x\nsteps:\n  - type: shift\n    percent: 1\nsweep:\n"
    [(line, path, message)] = _problems(base + "  - {step: 4, parameter: percent, values: [1]}\n")
    assert (line, path) == (6, "sweep[0].step") and "has 1 steps" in message
    [(line, path, message)] = _problems(base + "  - step: 0\n    parameter: gas\n    values: [1]\n")
    assert (line, path) == (7, "sweep[0].parameter") and "no parameter 'gas'" in message


def test_empty_file() -> None:
    assert _problems("") == [(1, "scenario", "the file holds no scenario")]


def test_json_loads_too_and_reports_lines() -> None:
    scenario = scenario_from_json(json.dumps(load_scenario(GOOD).model_dump(mode="json")))
    assert scenario == load_scenario(GOOD)
    text = '{\n  "name": "x",\n  "steps": [\n    {"type": "shift", "percent": "ten"}\n  ]\n}'
    with pytest.raises(ScenarioFileError) as caught:
        scenario_from_json(text)
    assert [(p.line, p.path) for p in caught.value.errors] == [(4, "steps[0].percent")]
    with pytest.raises(ScenarioFileError) as caught:
        scenario_from_json('{"name": "x",\n "steps": [}')
    assert caught.value.errors[0].line == 2


def test_published_schema_file_equals_the_generated_schema() -> None:
    assert published_schema() == scenario_schema()
    assert published_schema()["$defs"]["ShiftStep"]["additionalProperties"] is False
