// BATTERY_REVENUE (one number: the net revenue, $) and BATTERY_DISPATCH (the schedule) against the real
// platform's simulated ERCOT prices and ancillary prices, compared with the REST reads they call.

import assert from "node:assert/strict";
import { test } from "node:test";

import { C254Error, OPERATION_FUNCTIONS, invoke } from "../../../src/carbon254/excel/static/c254.js";
import { PJM_ONLY_KEY, makePlatform, restRows } from "./platform.mjs";

// One market day of Central time inside the simulated 2024-03-01..03 (UTC).
const DAY = ["HB_NORTH", 100, 400, "2024-03-01", "2024-03-02"];
const REST = { location: "HB_NORTH", power_mw: "100", energy_mwh: "400", start: "2024-03-01", end: "2024-03-02" };
const DISPATCH_COLUMNS = OPERATION_FUNCTIONS.find((f) => f.id === "BATTERY_DISPATCH").columns;
// Excel's date serial of a day: days since 1899-12-30.
const serial = (day) => (Date.parse(`${day}T00:00:00Z`) - Date.UTC(1899, 11, 30)) / 86400000;

async function failure(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail("expected the call to fail");
}

test("BATTERY_REVENUE is one number: the run's net revenue", async () => {
  const platform = makePlatform();
  const matrix = await invoke(platform, "BATTERY_REVENUE", DAY);
  assert.equal(matrix.length, 1);
  assert.equal(matrix[0].length, 1);
  const [row] = await restRows("/v1/battery/revenue", REST);
  assert.ok(Math.abs(matrix[0][0] - row.net_revenue) < 1e-6, `${matrix[0][0]} vs ${row.net_revenue}`);
  assert.ok(row.reserve_revenue > 0, "every ERCOT product is co-optimized by default");
  // Date cells read as the same market day.
  const dated = await invoke(platform, "BATTERY_REVENUE", ["HB_NORTH", 100, 400, serial("2024-03-01"), serial("2024-03-02")]);
  assert.deepEqual(dated, matrix);
});

test("BATTERY_REVENUE with services none and a round trip is energy arbitrage alone, never more", async () => {
  const platform = makePlatform();
  const [[all]] = await invoke(platform, "BATTERY_REVENUE", [...DAY, "DAM", "all", 0.9]);
  const [[energy]] = await invoke(platform, "BATTERY_REVENUE", [...DAY, "DAM", "none", 0.9]);
  const [row] = await restRows("/v1/battery/revenue", { ...REST, services: "none", round_trip_efficiency: "0.9" });
  assert.ok(Math.abs(energy - row.net_revenue) < 1e-6);
  assert.equal(row.reserve_revenue, 0);
  assert.ok(all >= energy - 1e-6, `${all} < ${energy}`);
});

test("BATTERY_DISPATCH spills the schedule hour by hour in the ISO's market time", async () => {
  const matrix = await invoke(makePlatform(), "BATTERY_DISPATCH", DAY);
  assert.deepEqual(matrix[0], DISPATCH_COLUMNS);
  const rows = matrix.slice(1);
  assert.equal(rows.length, 24);
  assert.equal(rows[0][0], "2024-03-01T00:00:00-06:00");
  const rest = await restRows("/v1/battery/dispatch", REST);
  assert.deepEqual(rows, rest.map((r) => DISPATCH_COLUMNS.map((c) => r[c])));
  const soc = DISPATCH_COLUMNS.indexOf("soc_mwh");
  assert.ok(rows.every((r) => r[soc] >= -1e-6 && r[soc] <= 400 + 1e-6));
});

test("a bad asset is the cell's mistake, naming the argument", async () => {
  const err = await failure(invoke(makePlatform(), "BATTERY_REVENUE", ["HB_NORTH", -5, 400, "2024-03-01", "2024-03-02"]));
  assert.ok(err instanceof C254Error);
  assert.equal(err.kind, "invalidValue");
  assert.equal(err.parameter, "power_mw");
  const text = await failure(invoke(makePlatform(), "BATTERY_REVENUE", ["HB_NORTH", "big", 400, "2024-03-01", "2024-03-02"]));
  assert.match(text.message, /power_mw must be a number/);
});

test("a tenant without ERCOT cannot value a battery there", async () => {
  // 404 when its catalog has no such location; 403 when the platform remembers this very request
  // answered for another tenant and checks the answer's entitlements.
  const err = await failure(invoke(makePlatform({ key: PJM_ONLY_KEY }), "BATTERY_REVENUE", DAY));
  assert.ok(err instanceof C254Error);
  assert.ok([403, 404].includes(err.status), String(err.status));
  const fresh = await failure(invoke(makePlatform({ key: PJM_ONLY_KEY }), "BATTERY_REVENUE", ["HB_WEST", 7, 28, "2024-03-01", "2024-03-02"]));
  assert.equal(fresh.status, 404);
  assert.equal(fresh.parameter, "location");
  assert.match(fresh.message, /no ISO you may read lists/);
});
