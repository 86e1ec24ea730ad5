"""Scenarios as every surface offers them: validate, save, list and run against marked curves.

A run takes a scenario (saved by name, or given inline as YAML or JSON), the
hubs it runs on and the day of their marks; it builds the base `CurveSet`
from those marks (with each hub's HPFC when a step works on hours or the
caller asks for hours), reads the stored prices replay steps need, applies
the scenario (`carbon254.scenarios`) and records the run with its inputs
(the marks' ids), engine version and fingerprint, so any result can be
reproduced and checked. A sweep of more than `INLINE_SWEEP_MAX` points runs
as the `scenario_sweep` job instead (`application.scenario_sweep`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyarrow as pa

from carbon254.application.curves import find_mark
from carbon254.application.datasets import build_query, read_rows, with_catalog_names
from carbon254.application.errors import ApiError, bad_parameter
from carbon254.application.identity import Principal, entitle_data, entitle_feature
from carbon254.application.operations.curves import mark_hpfc
from carbon254.config import Settings
from carbon254.curves import CurveSet
from carbon254.metadata.curves import CurveMark
from carbon254.metadata.database import MetadataDatabase
from carbon254.metadata.scenarios import (
    InvalidScenario,
    ScenarioRecord,
    ScenarioRun,
    UnknownRun,
    UnknownScenario,
    get_run,
    get_scenario,
    list_runs,
    list_scenarios,
    record_run,
    save_scenario,
)
from carbon254.scenarios import (
    ENGINE_VERSION,
    HistoryNeed,
    PathsStep,
    RenewablesStep,
    ReplayStep,
    Scenario,
    ScenarioError,
    ScenarioFileError,
    ScenarioResult,
    ScenarioSummary,
    SweepTooLarge,
    VolatilityStep,
    apply_scenario,
    expand_sweep,
    history_needs,
    load_scenario,
    summarize,
)
from carbon254.schema import Dataset
from carbon254.store.base import Store

SCENARIOS_FEATURE = "scenarios"
# Sweep points one request runs inline (about 2 ms each on a 10-year hourly curve); larger sweeps
# are jobs, with progress, cancel and resume.
INLINE_SWEEP_MAX = 200
# Path-hours one request draws (160 MB of prices): 600 paths over three years of hours. More is the
# `scenario_paths` job, which draws them in batches and writes them to a file.
INLINE_PATH_CELLS = 20_000_000
# Steps that transform hours, so the base set needs each hub's HPFC.
_HOURLY_STEPS = (RenewablesStep, VolatilityStep, ReplayStep, PathsStep)


def parse_scenario(text: str) -> Scenario:
    """A scenario from YAML (or JSON, which is YAML too); 422 listing every problem with its line."""
    try:
        return load_scenario(text)
    except ScenarioFileError as exc:
        problems = "; ".join(str(p) for p in exc.errors)
        raise ApiError(422, "invalid_scenario", f"scenario: {problems}", "scenario") from None


@dataclass(frozen=True, slots=True)
class ScenarioCheck:
    """A valid scenario: its name, number of steps and how many points its sweep expands to (1 without)."""

    name: str
    steps: int
    points: int


def check_definition(principal: Principal, text: str) -> ScenarioCheck:
    """Validate a YAML (or JSON) scenario and count its sweep's points.

    403 without the `scenarios` feature; 422 listing every problem with its
    line, or for a sweep over the engine's point limit (no surface could run
    it, so it is refused here too rather than counted).
    """
    entitle_feature(principal, SCENARIOS_FEATURE)
    scenario = parse_scenario(text)
    try:
        points = len(expand_sweep(scenario)) if scenario.sweep else 1
    except SweepTooLarge as exc:
        raise bad_parameter("scenario", f"scenario: {exc}") from None
    return ScenarioCheck(scenario.name, len(scenario.steps), points)


def save_definition(db: MetadataDatabase, principal: Principal, text: str) -> ScenarioRecord:
    """Validate and store a scenario under its name for the caller's tenant (a new version each time)."""
    entitle_feature(principal, SCENARIOS_FEATURE)
    scenario = parse_scenario(text)
    try:
        return save_scenario(
            db,
            owner=principal.tenant,
            name=scenario.name,
            yaml=text,
            definition=scenario.model_dump_json(),
            created_by=principal.subject,
        )
    except InvalidScenario as exc:
        raise bad_parameter("scenario", f"scenario: {exc}") from None


def saved_scenario(
    db: MetadataDatabase, principal: Principal, name: str, version: int | None
) -> ScenarioRecord:
    """The tenant's saved scenario `name` (latest version unless given); 404 when it has none."""
    entitle_feature(principal, SCENARIOS_FEATURE)
    try:
        return get_scenario(db, owner=principal.tenant, name=name, version=version)
    except UnknownScenario as exc:
        raise ApiError(404, "scenario_not_found", f"scenario: {exc}", "scenario") from None


def saved_scenarios(db: MetadataDatabase, principal: Principal) -> list[ScenarioRecord]:
    """The tenant's saved scenarios, the latest version of each, by name."""
    entitle_feature(principal, SCENARIOS_FEATURE)
    return list_scenarios(db, owner=principal.tenant)


def recorded_runs(
    db: MetadataDatabase, principal: Principal, limit: int = INLINE_SWEEP_MAX
) -> list[ScenarioRun]:
    """The tenant's latest `limit` runs (interactive and sweep jobs), newest first."""
    entitle_feature(principal, SCENARIOS_FEATURE)
    return list_runs(db, tenant=principal.tenant, limit=limit)


def recorded_run(db: MetadataDatabase, principal: Principal, run_id: str) -> ScenarioRun:
    """The tenant's run `run_id`; 404 naming it when the tenant has none (another tenant's is not found)."""
    entitle_feature(principal, SCENARIOS_FEATURE)
    try:
        return get_run(db, tenant=principal.tenant, run_id=run_id)
    except UnknownRun:
        raise ApiError(404, "run_not_found", f"run_id: no run {run_id!r}", "run_id") from None


def needs_hours(scenario: Scenario) -> bool:
    """Whether any step works on hours (renewables, volatility, replay, paths)."""
    return any(isinstance(step, _HOURLY_STEPS) for step in scenario.steps)


@dataclass(frozen=True, slots=True)
class ScenarioBase:
    """The marks a run starts from and the curve set built from them (with HPFCs when needed)."""

    marks: tuple[CurveMark, ...]
    curves: CurveSet


def base_curves(
    db: MetadataDatabase,
    store: Store,
    settings: Settings,
    principal: Principal,
    *,
    iso: str | None,
    hubs: Sequence[str],
    as_of: date | None,
    hourly: bool,
) -> ScenarioBase:
    """Each hub's mark on or before `as_of` (own before shared), and its HPFC when `hourly`.

    The HPFC is shaped from the hub's stored history exactly as
    `/v1/curves/hpfc` shapes it. 404 for a hub without a mark.
    """
    if not hubs:
        raise bad_parameter("hubs", "hubs: name at least one marked hub to run the scenario on")
    marks = tuple(find_mark(db, principal, iso, hub, as_of) for hub in hubs)
    monthly = {m.curve.hub: m.curve for m in marks}
    hours = {m.curve.hub: mark_hpfc(store, settings, principal, db, m) for m in marks} if hourly else {}
    return ScenarioBase(marks, CurveSet(monthly=monthly, hourly=hours))


def replay_history(
    store: Store, settings: Settings, principal: Principal, needs: Sequence[HistoryNeed]
) -> dict[HistoryNeed, pa.Table]:
    """The stored LMPs each replay step re-applies; a need the store lacks is left out (the engine says)."""
    found: dict[HistoryNeed, pa.Table] = {}
    for need in needs:
        entitle_data(principal, need.iso, Dataset.LMP)
        try:
            query = build_query(
                store,
                settings,
                Dataset.LMP,
                iso=need.iso,
                market=need.market,
                locations=[need.location],
                start=need.start.isoformat(),
                end=(need.end + timedelta(days=1)).isoformat(),  # the need's dates are inclusive
                tz="iso",
            )
            query = with_catalog_names(store.locations(iso=query.iso.value), query)
        except ApiError as exc:
            if exc.status_code in (404, 422):
                continue  # not stored (or outside the settings' window): MissingHistory names it
            raise
        found[need] = read_rows(store, query)
    return found


@dataclass(frozen=True, slots=True)
class ScenarioOutcome:
    """A recorded run: the base, each scenario's result (one, or a sweep's points) and the run record."""

    base: ScenarioBase
    results: tuple[ScenarioResult, ...]
    summaries: tuple[ScenarioSummary, ...]
    run: ScenarioRun


def run_scenario(
    db: MetadataDatabase,
    store: Store,
    settings: Settings,
    principal: Principal,
    scenario: Scenario,
    *,
    iso: str | None,
    hubs: Sequence[str],
    as_of: date | None,
    hourly: bool = False,
    saved: ScenarioRecord | None = None,
) -> ScenarioOutcome:
    """Run `scenario` (or each point of its sweep) on the hubs' marks and record the run.

    Prices are $/MWh. 403 without the `scenarios` feature; 404 for an
    unmarked hub; 422 naming the step for a scenario that cannot apply (a
    hub it names is not in the run, a replay whose prices are not stored)
    or a sweep over `INLINE_SWEEP_MAX` points (submit the `scenario_sweep`
    job instead).
    """
    entitle_feature(principal, SCENARIOS_FEATURE)
    try:
        points = expand_sweep(scenario) if scenario.sweep else [scenario]
    except SweepTooLarge as exc:
        raise bad_parameter("scenario", f"scenario: {exc}") from None
    if len(points) > INLINE_SWEEP_MAX:
        raise bad_parameter(
            "scenario",
            f"scenario: its sweep has {len(points):,} points; up to {INLINE_SWEEP_MAX} run inline, "
            "submit larger sweeps as a `scenario_sweep` job",
        )
    base = base_curves(
        db,
        store,
        settings,
        principal,
        iso=iso,
        hubs=hubs,
        as_of=as_of,
        hourly=hourly or any(needs_hours(p) for p in points),
    )
    _check_path_cells(points, base.curves)
    needs = sorted({need for p in points for need in history_needs(p)}, key=repr)
    history = replay_history(store, settings, principal, needs) if needs else None
    try:
        results = tuple(apply_scenario(p, base.curves, history=history) for p in points)
    except ScenarioError as exc:
        raise ApiError(422, "scenario_failed", f"scenario: {exc}", "scenario") from None
    summaries = tuple(summarize(r) for r in results)
    run = record_run(
        db,
        tenant=principal.tenant,
        base_marks=[m.id for m in base.marks],
        engine_version=ENGINE_VERSION,
        fingerprint=results[0].fingerprint if len(results) == 1 else _combined(results),
        status="succeeded",
        summary=_run_summary(summaries),
        scenario=(saved.name, saved.version) if saved is not None else None,
        inline=None if saved is not None else scenario.model_dump_json(),
    )
    return ScenarioOutcome(base, results, summaries, run)


def _check_path_cells(points: Sequence[Scenario], curves: CurveSet) -> None:
    """422 when the points' price paths would hold over `INLINE_PATH_CELLS` values (the job draws those)."""
    hours = sum(len(h.starts) for h in curves.hourly.values())
    cells = sum(step.n_paths * hours for p in points for step in p.steps if isinstance(step, PathsStep))
    if cells > INLINE_PATH_CELLS:
        raise bad_parameter(
            "scenario",
            f"scenario: its paths come to {cells:,} path-hours, over the {INLINE_PATH_CELLS:,} a request "
            "draws; submit it as a `scenario_paths` job (drawn in batches, written to paths.parquet)",
        )


def run_request(
    db: MetadataDatabase,
    store: Store,
    settings: Settings,
    principal: Principal,
    *,
    text: str | None,
    name: str | None,
    version: int | None,
    hubs: Sequence[str],
    iso: str | None,
    as_of: date | None,
    hourly: bool,
) -> ScenarioOutcome:
    """Run the inline scenario `text` or the saved scenario `name` (latest unless `version`) and record it.

    Exactly one of `text` and `name` (422 on `text` otherwise); then as
    `run_scenario`: prices in $/MWh, 404 for an unknown saved name or an
    unmarked hub, 422 for a scenario that cannot apply.
    """
    if (text is None) == (name is None):
        raise bad_parameter("text", "text: give the scenario's text or a saved scenario's name, not both")
    saved = saved_scenario(db, principal, name, version) if name is not None else None
    scenario = parse_scenario(saved.yaml if saved is not None else text or "")
    return run_scenario(
        db, store, settings, principal, scenario, iso=iso, hubs=hubs, as_of=as_of, hourly=hourly, saved=saved
    )


def _combined(results: Sequence[ScenarioResult]) -> str:
    """One fingerprint for a sweep: the SHA-256 of its points' fingerprints in order."""
    digest = hashlib.sha256()
    for result in results:
        digest.update(result.fingerprint.encode())
    return digest.hexdigest()


def _run_summary(summaries: Sequence[ScenarioSummary]) -> dict[str, Any]:
    """What the run record keeps: per point, its name and yearly means (small JSON)."""
    return {
        "points": len(summaries),
        "scenarios": [
            {
                "scenario": s.scenario,
                "years": [
                    {"hub": r.hub, "year": r.year, "onpeak": _num(r.onpeak), "atc": _num(r.atc), "p50": r.p50}
                    for r in s.rows
                ],
            }
            for s in summaries[:INLINE_SWEEP_MAX]
        ],
    }


def _num(value: float) -> float | None:
    return None if value != value else value  # NaN (a block the curve lacks) is null in JSON


def monthly_changes(outcome: ScenarioOutcome) -> pa.Table:
    """Per hub, month and block: the base price, the scenario's price and the change ($/MWh).

    For a sweep, one block of rows per point, named in `scenario`.
    """
    columns: dict[str, list[Any]] = {
        k: [] for k in ("scenario", "hub", "month", "block", "base_price", "price", "change")
    }
    for result in outcome.results:
        for hub, curve in result.curves.monthly.items():
            before = outcome.base.curves.monthly[hub]
            for i, month in enumerate(curve.months):
                for j, block in enumerate(curve.blocks):
                    base = before.price(month, block)
                    price = float(curve.prices[i, j])
                    columns["scenario"].append(result.scenario.name)
                    columns["hub"].append(hub)
                    columns["month"].append(f"{month:%Y-%m}")
                    columns["block"].append(block.value)
                    columns["base_price"].append(base)
                    columns["price"].append(price)
                    columns["change"].append(price - base)
    return pa.table(columns)


def summary_rows(summaries: Sequence[ScenarioSummary]) -> pa.Table:
    """Per point, hub and calendar year: mean onpeak, offpeak and atc ($/MWh), and path percentiles of atc."""
    rows = [(s.scenario, r) for s in summaries for r in s.rows]
    return pa.table(
        {
            "scenario": pa.array([name for name, _ in rows], pa.string()),
            "hub": pa.array([r.hub for _, r in rows], pa.string()),
            "year": pa.array([r.year for _, r in rows], pa.int64()),
            "onpeak": pa.array([_num(r.onpeak) for _, r in rows], pa.float64()),
            "offpeak": pa.array([_num(r.offpeak) for _, r in rows], pa.float64()),
            "atc": pa.array([_num(r.atc) for _, r in rows], pa.float64()),
            "p5": pa.array([r.p5 for _, r in rows], pa.float64()),
            "p50": pa.array([r.p50 for _, r in rows], pa.float64()),
            "p95": pa.array([r.p95 for _, r in rows], pa.float64()),
        }
    )
