"""Saved scenarios and scenario runs on SQLite and PostgreSQL: versions, lookups, run records, refusals."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date

import numpy as np
import pytest

from carbon254.curves.model import MonthlyCurve
from carbon254.jobs.models import JobStatus
from carbon254.metadata import MetadataDatabase
from carbon254.metadata.curves import save_curve
from carbon254.metadata.scenarios import (
    InvalidScenario,
    UnknownRun,
    UnknownScenario,
    get_run,
    get_scenario,
    list_runs,
    list_scenarios,
    record_run,
    save_scenario,
)
from carbon254.timeseries.periods import Block

FINGERPRINT = hashlib.sha256(b"run").hexdigest()


def unique_tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"


def save(db: MetadataDatabase, owner: str, name: str, shock: float) -> int:
    record = save_scenario(
        db,
        owner=owner,
        name=name,
        yaml=f"shock: {shock}  # as written\n",
        definition=json.dumps({"shock": shock, "name": name}, indent=2),
        created_by="analyst",
    )
    return record.version


def mark(db: MetadataDatabase, owner: str | None) -> int:
    curve = MonthlyCurve(
        iso="PJM",
        hub=f"Hub {uuid.uuid4().hex[:6]}",
        as_of=date(2026, 6, 1),
        months=(date(2026, 7, 1),),
        blocks=(Block.ONPEAK,),
        prices=np.array([[50.0]]),
        hours=np.array([[368]], dtype=np.int64),
        quoted_through=date(2026, 8, 1),
    )
    return save_curve(db, owner=owner, curve=curve, quotes=(), implied=(), created_by="me").id


def test_resaving_a_name_makes_a_new_version(db: MetadataDatabase) -> None:
    tenant = unique_tenant()
    assert save(db, tenant, "Heat wave", 1.1) == 1
    assert save(db, tenant, "heat WAVE", 1.2) == 2
    assert save(db, unique_tenant(), "Heat wave", 9.0) == 1  # another tenant's name space
    latest = get_scenario(db, owner=tenant, name="HEAT WAVE")
    assert (latest.version, latest.name) == (2, "heat WAVE")
    assert latest.definition == '{"name":"heat WAVE","shock":1.2}'
    assert latest.digest == hashlib.sha256(latest.definition.encode()).hexdigest()
    assert latest.yaml == "shock: 1.2  # as written\n"
    first = get_scenario(db, owner=tenant, name="heat wave", version=1)
    assert json.loads(first.definition)["shock"] == 1.1
    with pytest.raises(UnknownScenario, match="version 3"):
        get_scenario(db, owner=tenant, name="heat wave", version=3)
    with pytest.raises(UnknownScenario):
        get_scenario(db, owner=tenant, name="cold snap")


def test_list_shows_the_latest_version_of_each_name(db: MetadataDatabase) -> None:
    tenant = unique_tenant()
    save(db, tenant, "b-case", 1.0)
    save(db, tenant, "a-case", 1.0)
    save(db, tenant, "b-case", 2.0)
    assert [(s.name, s.version) for s in list_scenarios(db, owner=tenant)] == [("a-case", 1), ("b-case", 2)]


def test_bad_names_and_definitions_are_refused(db: MetadataDatabase) -> None:
    tenant = unique_tenant()
    for bad in ("", " -leading", "x" * 101, "semi;colon"):
        with pytest.raises(InvalidScenario) as error:
            save_scenario(db, owner=tenant, name=bad, yaml="", definition="{}", created_by="me")
        assert error.value.field == "name"
    with pytest.raises(InvalidScenario, match="not JSON"):
        save_scenario(db, owner=tenant, name="ok", yaml="", definition="{oops", created_by="me")
    assert list_scenarios(db, owner=tenant) == []


def test_runs_round_trip_and_list_newest_first(db: MetadataDatabase) -> None:
    tenant = unique_tenant()
    save(db, tenant, "Heat wave", 1.1)
    own, shared = mark(db, tenant), mark(db, None)
    first = record_run(
        db,
        tenant=tenant,
        scenario=("heat wave", 1),
        base_marks=[own, shared],
        engine_version="1.0",
        fingerprint=FINGERPRINT,
        status=JobStatus.SUCCEEDED,
        summary={"pnl": -12.5, "hubs": ["WESTERN HUB"]},
        artifact_key="runs/abc.parquet",
        job_id=str(uuid.uuid4()),
    )
    second = record_run(
        db,
        tenant=tenant,
        inline='{"shock": 2}',
        base_marks=[shared],
        engine_version="1.0",
        fingerprint=FINGERPRINT,
        status="running",
        summary={},
    )
    got = get_run(db, tenant=tenant, run_id=first.id)
    assert got == first
    assert (got.scenario_name, got.scenario_version, got.inline) == ("Heat wave", 1, None)
    assert got.base_marks == (own, shared)
    assert got.summary == {"pnl": -12.5, "hubs": ["WESTERN HUB"]}
    assert second.inline == '{"shock":2}' and second.status is JobStatus.RUNNING
    assert [r.id for r in list_runs(db, tenant=tenant)] == [second.id, first.id]
    assert [r.id for r in list_runs(db, tenant=tenant, scenario="HEAT WAVE")] == [first.id]
    with pytest.raises(UnknownRun):
        get_run(db, tenant=unique_tenant(), run_id=first.id)


def test_runs_refuse_what_does_not_exist_or_is_malformed(db: MetadataDatabase) -> None:
    tenant = unique_tenant()
    save(db, tenant, "base", 1.0)
    other = mark(db, unique_tenant())
    common = {"engine_version": "1.0", "summary": {}, "status": "succeeded"}
    with pytest.raises(UnknownScenario):
        record_run(db, tenant=tenant, scenario=("base", 2), base_marks=[], fingerprint=FINGERPRINT, **common)  # type: ignore[arg-type]
    with pytest.raises(InvalidScenario, match="either"):
        record_run(db, tenant=tenant, base_marks=[], fingerprint=FINGERPRINT, **common)  # type: ignore[arg-type]
    with pytest.raises(InvalidScenario) as marks_error:
        record_run(db, tenant=tenant, inline="{}", base_marks=[other], fingerprint=FINGERPRINT, **common)  # type: ignore[arg-type]
    assert marks_error.value.field == "base_marks"
    with pytest.raises(InvalidScenario) as fp_error:
        record_run(db, tenant=tenant, inline="{}", base_marks=[], fingerprint="ABC", **common)  # type: ignore[arg-type]
    assert fp_error.value.field == "fingerprint"
    with pytest.raises(InvalidScenario, match="status"):
        record_run(
            db,
            tenant=tenant,
            inline="{}",
            base_marks=[],
            engine_version="1",
            fingerprint=FINGERPRINT,
            status="done",
            summary={},
        )
    with pytest.raises(InvalidScenario, match="summary"):
        record_run(
            db,
            tenant=tenant,
            inline="{}",
            base_marks=[],
            engine_version="1",
            fingerprint=FINGERPRINT,
            status="failed",
            summary={"x": float("nan")},
        )
    assert list_runs(db, tenant=tenant) == []
