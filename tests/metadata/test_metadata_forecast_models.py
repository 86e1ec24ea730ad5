"""The forecast model registry on SQLite and PostgreSQL: versions, stages, promote and rollback, tenants."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from carbon254.metadata import MetadataDatabase
from carbon254.metadata.forecast_models import (
    InvalidModel,
    InvalidModelStage,
    ModelStage,
    UnknownModel,
    archive,
    get_model,
    list_models,
    production_model,
    promote,
    register_model,
    rollback,
)
from carbon254.metadata.models import ForecastModelRow, ForecastModelStageRow
from registry_models import SHA, fields, register


def tenant() -> str:
    return f"tenant-{uuid.uuid4().hex[:8]}"


def stages(db: MetadataDatabase, owner: str, name: str = "houston-dam") -> dict[int, ModelStage]:
    return {m.version: m.stage for m in list_models(db, owner=owner, name=name)}


def test_registering_adds_candidate_versions_with_everything_kept(db: MetadataDatabase) -> None:
    owner = tenant()
    given = fields(name="Houston-DAM")
    first = register_model(db, owner=owner, **given)
    second = register(db, owner, name="houston-dam", model="lightgbm", seed=8)
    assert (first.version, second.version) == (1, 2)
    assert second.name == "Houston-DAM"  # the name as first given
    assert first.stage is ModelStage.CANDIDATE and first.created_at.tzinfo is not None
    assert first.stage_changed_at == first.created_at
    read = get_model(db, owner=owner, name="HOUSTON-dam", version=1)
    assert read == first
    assert (read.iso, read.location, read.market, read.model) == ("ERCOT", "HB_HOUSTON", "dam", "lear")
    assert read.features == ("price_lag_24", "load_forecast")
    assert (read.train_start, read.train_end, read.seed) == (date(2022, 1, 1), date(2023, 12, 31), 7)
    assert json.loads(read.metrics)["n"] == 720 and json.loads(read.parameters)["window_days"] == 1456
    assert (read.artifact_key, read.artifact_sha256) == (given["artifact_key"], SHA)
    # No production version yet: the latest.
    assert get_model(db, owner=owner, name="houston-dam").version == 2
    assert [m.version for m in list_models(db, owner=owner, name="houston-dam")] == [2, 1]


def test_promote_promote_rollback_rollback(db: MetadataDatabase) -> None:
    owner = tenant()
    for _ in range(3):
        register(db, owner)
    assert promote(db, owner=owner, name="houston-dam", version=1).stage is ModelStage.PRODUCTION
    assert stages(db, owner) == {1: "production", 2: "candidate", 3: "candidate"}
    promoted = promote(db, owner=owner, name="Houston-Dam", version=2)
    assert (promoted.version, promoted.stage) == (2, ModelStage.PRODUCTION)
    assert stages(db, owner) == {1: "archived", 2: "production", 3: "candidate"}
    assert get_model(db, owner=owner, name="houston-dam").version == 2  # production before latest
    restored = rollback(db, owner=owner, name="houston-dam")
    assert (restored.version, restored.stage) == (1, ModelStage.PRODUCTION)
    assert stages(db, owner) == {1: "production", 2: "archived", 3: "candidate"}
    with pytest.raises(InvalidModelStage) as refused:
        rollback(db, owner=owner, name="houston-dam")
    assert refused.value.field == "name" and "before version 1" in refused.value.message
    assert stages(db, owner) == {1: "production", 2: "archived", 3: "candidate"}  # nothing changed


def test_rollback_walks_back_through_promotions_not_to_the_latest_archived(db: MetadataDatabase) -> None:
    owner = tenant()
    for _ in range(4):
        register(db, owner)
    for version in (1, 3, 2, 4):
        promote(db, owner=owner, name="houston-dam", version=version)
    # Every earlier one is archived now; the history says which came before which.
    assert rollback(db, owner=owner, name="houston-dam").version == 2
    assert rollback(db, owner=owner, name="houston-dam").version == 3
    assert rollback(db, owner=owner, name="houston-dam").version == 1
    with pytest.raises(InvalidModelStage):
        rollback(db, owner=owner, name="houston-dam")


def test_promoting_an_archived_version_goes_back_explicitly(db: MetadataDatabase) -> None:
    owner = tenant()
    for _ in range(2):
        register(db, owner)
    promote(db, owner=owner, name="houston-dam", version=1)
    promote(db, owner=owner, name="houston-dam", version=2)
    again = promote(db, owner=owner, name="houston-dam", version=1)
    assert again.stage is ModelStage.PRODUCTION
    assert stages(db, owner) == {1: "production", 2: "archived"}
    # Promoting the production version again changes nothing.
    assert promote(db, owner=owner, name="houston-dam", version=1).stage_changed_at == again.stage_changed_at
    assert rollback(db, owner=owner, name="houston-dam").version == 2


def test_archive_retires_a_version_for_good(db: MetadataDatabase) -> None:
    owner = tenant()
    for _ in range(3):
        register(db, owner)
    for version in (1, 2, 3):
        promote(db, owner=owner, name="houston-dam", version=version)
    archived = archive(db, owner=owner, name="houston-dam", version=2)
    assert archived.stage is ModelStage.ARCHIVED
    # Withdrawn version 2 is skipped: the rollback goes to version 1.
    assert rollback(db, owner=owner, name="houston-dam").version == 1
    gone = archive(db, owner=owner, name="houston-dam", version=1)
    assert gone.stage is ModelStage.ARCHIVED
    assert production_model(db, owner=owner, iso="ERCOT", location="HB_HOUSTON", market="dam") is None
    with pytest.raises(InvalidModelStage, match="no production version"):
        rollback(db, owner=owner, name="houston-dam")
    # With nothing in production, the unversioned read is the latest.
    assert get_model(db, owner=owner, name="houston-dam").version == 3


def test_production_model_finds_the_newest_promotion_serving_a_market(db: MetadataDatabase) -> None:
    owner = tenant()
    assert production_model(db, owner=owner, iso="ERCOT", location="HB_HOUSTON", market="dam") is None
    register(db, owner, name="lear-dam")
    register(db, owner, name="trees-dam", model="lightgbm")
    register(db, owner, name="houston-rt", market="RTM", model="subhourly")
    register(db, owner, name="north-dam", location="HB_NORTH")
    for name in ("lear-dam", "houston-rt", "north-dam"):
        promote(db, owner=owner, name=name, version=1)
    found = production_model(db, owner=owner, iso="ercot", location="HB_HOUSTON", market="DAM")
    assert found is not None and found.name == "lear-dam"
    promote(db, owner=owner, name="trees-dam", version=1)
    found = production_model(db, owner=owner, iso="ERCOT", location="HB_HOUSTON", market="dam")
    assert found is not None and found.name == "trees-dam"
    realtime = production_model(db, owner=owner, iso="ERCOT", location="HB_HOUSTON", market="rtm")
    assert realtime is not None and (realtime.name, realtime.market) == ("houston-rt", "rtm")
    north = production_model(db, owner=owner, iso="ERCOT", location="HB_NORTH", market="dam")
    assert north is not None and north.name == "north-dam"
    assert production_model(db, owner=owner, iso="PJM", location="HB_HOUSTON", market="dam") is None


def test_tenants_never_see_each_others_models(db: MetadataDatabase) -> None:
    owner, other = tenant(), tenant()
    register(db, owner)
    promote(db, owner=owner, name="houston-dam", version=1)
    assert list_models(db, owner=other) == []
    assert production_model(db, owner=other, iso="ERCOT", location="HB_HOUSTON", market="dam") is None
    for call in (
        lambda: get_model(db, owner=other, name="houston-dam"),
        lambda: promote(db, owner=other, name="houston-dam", version=1),
        lambda: archive(db, owner=other, name="houston-dam", version=1),
        lambda: rollback(db, owner=other, name="houston-dam"),
    ):
        with pytest.raises(UnknownModel) as unknown:
            call()
        assert unknown.value.field == "name"
    # The other tenant's first registration of the same name is its version 1.
    assert register(db, other).version == 1
    assert get_model(db, owner=owner, name="houston-dam").stage is ModelStage.PRODUCTION


def test_unknown_versions_name_the_version(db: MetadataDatabase) -> None:
    owner = tenant()
    register(db, owner)
    for call in (
        lambda: get_model(db, owner=owner, name="houston-dam", version=2),
        lambda: promote(db, owner=owner, name="houston-dam", version=2),
        lambda: archive(db, owner=owner, name="houston-dam", version=0),
    ):
        with pytest.raises(UnknownModel) as unknown:
            call()
        assert unknown.value.field == "version" and "no version" in unknown.value.message


def test_listing_all_names_is_newest_first(db: MetadataDatabase) -> None:
    owner = tenant()
    register(db, owner, name="a")
    register(db, owner, name="b")
    register(db, owner, name="a")
    assert [(m.name, m.version) for m in list_models(db, owner=owner)] == [("a", 2), ("b", 1), ("a", 1)]


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("name", {"name": "../x"}),
        ("name", {"name": " "}),
        ("owner", {"owner": "not a tenant!"}),
        ("iso", {"iso": "ERCOTT"}),
        ("location", {"location": "  "}),
        ("market", {"market": "intraday"}),
        ("model", {"model": "Not A Kind"}),
        ("parameters", {"parameters": "{oops"}),
        ("parameters", {"parameters": "[1, 2]"}),
        ("metrics", {"metrics": "3.5"}),
        ("features", {"features": "price_lag_24"}),
        ("features", {"features": ["ok", ""]}),
        ("train_end", {"train_end": date(2021, 12, 31)}),
        ("artifact_key", {"artifact_key": "../escape.pkl"}),
        ("artifact_sha256", {"artifact_sha256": "AB" * 32}),
        ("seed", {"seed": -1}),
    ],
)
def test_bad_registrations_are_refused_naming_the_field(
    db: MetadataDatabase, field: str, changes: dict[str, Any]
) -> None:
    owner = changes.get("owner", tenant())
    given = {k: v for k, v in changes.items() if k != "owner"}
    with pytest.raises(InvalidModel) as refused:
        register_model(db, owner=owner, **fields(**given))
    assert refused.value.field == field
    assert field in refused.value.message
    if field != "owner":
        assert list_models(db, owner=owner) == []


def test_the_database_refuses_two_production_versions_of_a_name(db: MetadataDatabase) -> None:
    owner = tenant()
    register(db, owner)
    register(db, owner)
    promote(db, owner=owner, name="houston-dam", version=1)
    with pytest.raises(IntegrityError), db.session(write=True) as session:
        session.execute(
            update(ForecastModelRow)
            .where(ForecastModelRow.owner == owner, ForecastModelRow.version == 2)
            .values(stage="production")
        )
    assert stages(db, owner) == {1: "production", 2: "candidate"}


def test_every_stage_change_is_in_the_history(db: MetadataDatabase) -> None:
    owner = tenant()
    register(db, owner)
    register(db, owner)
    promote(db, owner=owner, name="houston-dam", version=1)
    promote(db, owner=owner, name="houston-dam", version=2)
    rollback(db, owner=owner, name="houston-dam")
    with db.session() as session:
        rows = session.execute(
            select(ForecastModelStageRow.version, ForecastModelStageRow.stage, ForecastModelStageRow.action)
            .where(ForecastModelStageRow.owner == owner)
            .order_by(ForecastModelStageRow.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        (1, "candidate", "register"),
        (2, "candidate", "register"),
        (1, "production", "promote"),
        (1, "archived", "promote"),
        (2, "production", "promote"),
        (2, "archived", "rollback"),
        (1, "production", "rollback"),
    ]


def test_concurrent_promotions_leave_exactly_one_production_version(db: MetadataDatabase) -> None:
    owner = tenant()
    for _ in range(6):
        register(db, owner)
    errors: list[BaseException] = []

    def promote_one(version: int) -> None:
        try:
            promote(db, owner=owner, name="houston-dam", version=version)
        except BaseException as error:  # collected: a thread's exception is otherwise lost
            errors.append(error)

    threads = [threading.Thread(target=promote_one, args=(v,)) for v in range(1, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(stages(db, owner).values()).count(ModelStage.PRODUCTION) == 1
    assert sorted(stages(db, owner).values()).count(ModelStage.ARCHIVED) == 5
