"""Scenarios: named, ordered transformations of curve sets (shifts, gas, load, solar, replays, paths).

A scenario is a Pydantic model (`Scenario`) loaded from YAML or JSON with
line-numbered errors (`load_scenario`, `scenario_from_json`) and checked
against the published JSON Schema (`scenario.schema.json`). `apply_scenario`
runs it on a `carbon254.curves.CurveSet` with no I/O: replay steps get their
price history from the caller (`history_needs`). `compose` chains scenarios,
`expand_sweep` turns a sweep into its grid, `summarize` makes sweep-table rows.
"""

from carbon254.scenarios.engine import ENGINE_VERSION, ScenarioResult, apply_scenario, fingerprint
from carbon254.scenarios.errors import ScenarioError, SweepTooLarge
from carbon254.scenarios.loading import ScenarioFileError, ScenarioProblem, load_scenario, scenario_from_json
from carbon254.scenarios.model import (
    GasStep,
    LoadGrowthStep,
    PathsStep,
    RenewablesStep,
    ReplayStep,
    Scenario,
    ShiftStep,
    Step,
    SweepAxis,
    SweepRange,
    VolatilityStep,
)
from carbon254.scenarios.paths import PricePaths
from carbon254.scenarios.replay import (
    HistoryNeed,
    MissingHistory,
    ReplayPreset,
    history_needs,
    list_presets,
)
from carbon254.scenarios.schema import scenario_schema
from carbon254.scenarios.summary import ScenarioSummary, YearSummary, summarize
from carbon254.scenarios.sweep import compose, expand_sweep

__all__ = [
    "ENGINE_VERSION",
    "GasStep",
    "HistoryNeed",
    "LoadGrowthStep",
    "MissingHistory",
    "PathsStep",
    "PricePaths",
    "RenewablesStep",
    "ReplayPreset",
    "ReplayStep",
    "Scenario",
    "ScenarioError",
    "ScenarioFileError",
    "ScenarioProblem",
    "ScenarioResult",
    "ScenarioSummary",
    "ShiftStep",
    "Step",
    "SweepAxis",
    "SweepRange",
    "SweepTooLarge",
    "VolatilityStep",
    "YearSummary",
    "apply_scenario",
    "compose",
    "expand_sweep",
    "fingerprint",
    "history_needs",
    "list_presets",
    "load_scenario",
    "scenario_from_json",
    "scenario_schema",
    "summarize",
]
