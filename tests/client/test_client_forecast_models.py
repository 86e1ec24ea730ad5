"""The SDK's forecast model registry methods against the service's own code (local mode), sync and async.

Versions are registered in the data dir's metadata database as the training
job does; the SDK then lists, reads, promotes, rolls back and archives them
through `/v1/models`, with the service's errors as the SDK's own types.
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from carbon254.application.identity import ANONYMOUS_TENANT
from carbon254.client import AsyncClient, Client, ForecastModel, InvalidRequest, NotFound
from carbon254.config import Settings
from carbon254.metadata import MetadataDatabase
from carbon254.schema import TIMESTAMP
from carbon254.store import open_store
from registry_models import METRICS, PARAMETERS, register


def _registered(data_dir: Path, name: str, versions: int, **changes: str) -> None:
    """`versions` versions of model `name` in the data dir, whose store local mode needs is made too."""
    if not (data_dir / "lmp").exists():
        _store_with_a_day(data_dir)
    db = MetadataDatabase(Settings(data_dir=data_dir).metadata_database_url())
    try:
        for _ in range(versions):
            register(db, ANONYMOUS_TENANT, name=name, **changes)
    finally:
        db.close()


def _store_with_a_day(data_dir: Path) -> None:
    """A store holding one day of HB_HOUSTON day-ahead prices (a store is made by its first write)."""
    starts = np.datetime64("2024-03-01T06:00", "us") + np.arange(24) * np.timedelta64(3600, "s")
    prices = 30.0 + np.arange(24.0)
    table = pa.table(
        {
            "iso": ["ERCOT"] * 24,
            "market": ["DAM"] * 24,
            "location": ["HB_HOUSTON"] * 24,
            "location_type": ["hub"] * 24,
            "interval_start": pa.array(starts).cast(TIMESTAMP),
            "interval_end": pa.array(starts + np.timedelta64(3600, "s")).cast(TIMESTAMP),
            "lmp": prices,
            "energy": prices,
            "congestion": np.zeros(24),
            "loss": np.zeros(24),
            "published_at": pa.nulls(24, TIMESTAMP),
        }
    )
    store = open_store(data_dir)
    try:
        store.write("lmp", table)
    finally:
        store.close()


def test_models_round_trip_through_the_sync_client(tmp_path: Path) -> None:
    _registered(tmp_path, "Houston DAM", 3)
    _registered(tmp_path, "north", 1, location="HB_NORTH")
    with Client.local(tmp_path) as client:
        listed = client.models()
        assert [(m.name, m.version) for m in listed][:2] == [("north", 1), ("Houston DAM", 3)]
        first = client.model("houston dam", 1)
        assert isinstance(first, ForecastModel)
        assert (first.iso, first.location, first.market, first.model) == (
            "ERCOT",
            "HB_HOUSTON",
            "dam",
            "lear",
        )
        assert first.parameters == PARAMETERS and first.metrics == METRICS
        assert first.train_start == date(2022, 1, 1) and first.created_at.tzinfo is not None
        assert client.model("houston dam").version == 3  # nothing in production: the latest
        assert client.promote_model("Houston DAM", 1).stage == "production"
        promoted = client.promote_model("houston dam", 2)
        assert (promoted.version, promoted.stage) == (2, "production")
        assert client.model("houston dam").version == 2  # the production version
        assert client.model("houston dam", 1).stage == "archived"
        restored = client.rollback_model("houston dam")
        assert (restored.version, restored.stage) == (1, "production")
        with pytest.raises(InvalidRequest) as nothing_left:
            client.rollback_model("houston dam")
        assert nothing_left.value.status == 409 and nothing_left.value.parameter == "name"
        assert client.archive_model("houston dam", 3).stage == "archived"
        stages = {m.version: m.stage for m in client.models(name="HOUSTON DAM")}
        assert stages == {3: "archived", 2: "archived", 1: "production"}
        assert [m.name for m in client.models(location="HB_NORTH")] == ["north"]
        assert client.models(iso="PJM") == []


def test_refusals_are_the_sdks_error_types(tmp_path: Path) -> None:
    _registered(tmp_path, "solo", 1)
    with Client.local(tmp_path) as client:
        with pytest.raises(NotFound) as unknown:
            client.model("nothing")
        assert unknown.value.parameter == "name"
        with pytest.raises(NotFound) as version:
            client.promote_model("solo", 5)
        assert version.value.parameter == "version"
        with pytest.raises(InvalidRequest) as market:
            client.models(market="intraday")
        assert market.value.parameter == "market"
        with pytest.raises(InvalidRequest):
            client.archive_model("solo", 0)
        assert client.model("solo").stage == "candidate"


def test_models_round_trip_through_the_async_client(tmp_path: Path) -> None:
    _registered(tmp_path, "async model", 2)

    async def scenario() -> None:
        async with AsyncClient.local(tmp_path) as client:
            assert [m.version for m in await client.models(name="async model")] == [2, 1]
            await client.promote_model("async model", 1)
            await client.promote_model("async model", 2)
            assert (await client.model("async model")).version == 2
            assert (await client.rollback_model("async model")).version == 1
            assert (await client.model("async model", 2)).stage == "archived"
            assert (await client.archive_model("async model", 1)).stage == "archived"
            with pytest.raises(InvalidRequest):
                await client.rollback_model("async model")
            with pytest.raises(NotFound):
                await client.model("async model", 3)

    asyncio.run(scenario())
