// LIVE against the real platform: one shared WebSocket, rows after a commit, resume with
// `since` after a drop, errors, and silence after cancel.

import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import { LMP_COLUMNS, startLive } from "../../../src/carbon254/excel/static/c254.js";
import { PJM_ONLY_KEY, commitErcotRt5, makePlatform, restLmp, waitFor } from "./platform.mjs";

const WAITING = /^waiting/;

function live(platform, values) {
  const results = [];
  const errors = [];
  const waiters = [];
  const handle = startLive(platform, values, {
    onResult: (matrix) => { results.push(matrix); waiters.forEach((w) => w.push(matrix)); },
    onError: (err) => { errors.push(err); waiters.forEach((w) => w.push(err)); },
  });
  const next = (predicate) => {
    const waiter = waitFor(predicate);
    waiters.push(waiter);
    [...results, ...errors].forEach((v) => waiter.push(v));
    return waiter.promise;
  };
  return { handle, results, errors, next };
}

const isData = (m) => Array.isArray(m) && m.length === 2 && !WAITING.test(String(m[1][0]));

async function restRow(location, marketStart) {
  const day = marketStart.slice(0, 10);
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);
  const rows = await restLmp({ iso: "ERCOT", market: "RT5", locations: location, start: day, end: next });
  return rows.find((r) => r.interval_start === marketStart);
}

test("LIVE shows each new interval, shares one socket, resumes after a drop and stops when cancelled", { timeout: 120000 }, async (t) => {
  const platform = makePlatform({ reconnectMs: 3600000 }); // reconnect only when the test says so
  const north = live(platform, ["ERCOT", "HB_NORTH"]); // market omitted: RT5
  const houston = live(platform, ["ercot", "hb_houston", "rt5"]);
  const dam = live(platform, ["ERCOT", "HB_NORTH", "DAM"]);
  // A failed assertion must not leave the socket open: node would wait on it forever.
  t.after(() => [north, houston, dam].forEach((cell) => cell.handle.cancel()));

  for (const cell of [north, houston, dam]) {
    const first = await cell.next((m) => Array.isArray(m));
    assert.deepEqual(first[0], LMP_COLUMNS);
    assert.match(String(first[1][0]), WAITING);
  }
  const hub = platform.liveHub();
  assert.equal(hub.connects, 1, "every LIVE cell of one credential shares one WebSocket");
  assert.deepEqual([...hub.channels.keys()].sort(), ["ERCOT|DAM", "ERCOT|RT5"]);

  commitErcotRt5("2024-03-03", "2024-03-04");
  const row = await north.next(isData);
  assert.deepEqual(row[0], LMP_COLUMNS);
  // The commit's last interval (UTC 2024-03-03 23:55) in ERCOT market time.
  assert.equal(row[1][0], "2024-03-03T17:55:00-06:00");
  const rest = await restRow("HB_NORTH", row[1][0]);
  assert.ok(rest, `REST has the interval ${row[1][0]}`);
  assert.deepEqual(row[1], LMP_COLUMNS.map((c) => rest[c]));
  const houstonRow = await houston.next(isData);
  assert.ok(houstonRow[1][2] !== undefined);
  assert.ok(!dam.results.some(isData), "an RT5 commit does not reach a DAM cell");

  // A dropped connection resumes from the last interval seen: rows committed meanwhile arrive.
  hub.socket.close();
  await sleep(200);
  assert.equal(hub.connected, false);
  commitErcotRt5("2024-03-04", "2024-03-05");
  const seen = north.results.length;
  platform.clearTimeout(hub.retryTimer);
  hub.retryTimer = null;
  hub.connect();
  const resumed = await north.next((m) => isData(m) && m[1][0] > row[1][0]);
  assert.equal(resumed[1][0], "2024-03-04T17:55:00-06:00");
  assert.ok(north.results.length > seen);
  assert.equal(hub.connects, 2);
  const resumedRest = await restRow("HB_NORTH", resumed[1][0]);
  assert.deepEqual(resumed[1], LMP_COLUMNS.map((c) => resumedRest[c]));

  // Cancelling every cell unsubscribes and closes the socket; later commits reach no one.
  for (const cell of [north, houston, dam]) cell.handle.cancel();
  assert.equal(hub.connected, false);
  assert.equal(platform.hubs.size, 0);
  const counts = [north, houston, dam].map((c) => c.results.length);
  commitErcotRt5("2024-03-05", "2024-03-06");
  await sleep(1000);
  assert.deepEqual([north, houston, dam].map((c) => c.results.length), counts);
  assert.deepEqual([north, houston, dam].flatMap((c) => c.errors), []);
});

test("LIVE with a misspelled location or outside the entitlements is an error, not a silent cell", { timeout: 30000 }, async (t) => {
  const platform = makePlatform();
  const misspelled = live(platform, ["ERCOT", "HB_NOWHERE"]);
  let market = null;
  t.after(() => market && market.handle.cancel());
  const err = await misspelled.next((v) => v instanceof Error);
  assert.equal(err.kind, "invalidValue");
  assert.match(err.message, /HB_NOWHERE/);

  const outside = live(makePlatform({ key: PJM_ONLY_KEY }), ["ERCOT", "HB_NORTH"]);
  const refused = await outside.next((v) => v instanceof Error);
  assert.equal(refused.kind, "notAvailable");
  assert.equal(refused.status, 403);

  market = live(platform, ["ERCOT", "HB_NORTH", "RT99"]);
  const unknown = await market.next((v) => v instanceof Error);
  assert.match(unknown.message, /RT99/);
  market.handle.cancel();
  assert.equal(platform.hubs.size, 0);
});
