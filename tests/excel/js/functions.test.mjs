// LMP, BASIS (the spreads operation) and LOCATIONS against the real platform: values, defaults,
// errors and batching.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { test } from "node:test";

import {
  C254Error, LMP_COLUMNS, LOCATION_COLUMNS, OPERATION_FUNCTIONS, RESAMPLE_COLUMNS, functionsMetadata, invoke,
} from "../../../src/carbon254/excel/static/c254.js";
import { register } from "../../../src/carbon254/excel/static/functions.js";
import { BASE_URL, KEY, PJM_ONLY_KEY, makePlatform, restLmp, restRows } from "./platform.mjs";

const BASIS_COLUMNS = OPERATION_FUNCTIONS.find((f) => f.id === "BASIS").columns;

const DAY = ["2024-03-01", "2024-03-02"];
const asMatrix = (columns, rows) => [columns, ...rows.map((r) => columns.map((c) => r[c]))];

async function failure(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail("expected the call to fail");
}

test("LMP spills a header row and exactly the REST rows", async () => {
  const platform = makePlatform();
  const matrix = await invoke(platform, "LMP", ["ERCOT", "HB_NORTH", ...DAY, "DAM"]);
  const rest = await restLmp({ iso: "ERCOT", market: "DAM", locations: "HB_NORTH", start: DAY[0], end: DAY[1] });
  assert.equal(rest.length, 24);
  assert.deepEqual(matrix, asMatrix(LMP_COLUMNS, rest));
  assert.match(matrix[1][0], /^2024-03-01T00:00:00-06:00$/); // the ISO's market time
});

test("omitted arguments take their defaults and date cells are read as dates", async () => {
  const platform = makePlatform();
  const explicit = await invoke(platform, "LMP", ["ERCOT", "HB_NORTH", ...DAY, "DAM", null, null]);
  const omitted = await invoke(platform, "LMP", ["ERCOT", "hb_north", ...DAY, null, undefined, ""]);
  assert.deepEqual(omitted, explicit);
  const serials = await invoke(platform, "LMP", ["ERCOT", "HB_NORTH", 45352, 45353]); // Excel dates
  assert.deepEqual(serials, explicit);
});

test("resample and block reach the API", async () => {
  const platform = makePlatform();
  const hourly = await invoke(platform, "LMP", ["ERCOT", "HB_NORTH", ...DAY, "RT5", "hourly", "onpeak"]);
  const rest = await restLmp({
    iso: "ERCOT", market: "RT5", locations: "HB_NORTH", start: DAY[0], end: DAY[1], resample: "hourly", block: "onpeak",
  });
  assert.equal(rest.length, 16); // 2024-03-01 is a weekday: hour-ending 7-22
  assert.deepEqual(hourly, asMatrix([...LMP_COLUMNS, ...RESAMPLE_COLUMNS], rest));
  assert.ok(hourly.slice(1).every((row) => row[6] === 1 && row[7] === 12), "full hours of 12 intervals");
});

test("BASIS is node minus hub per interval", async () => {
  const platform = makePlatform();
  const catalog = await invoke(platform, "LOCATIONS", ["PJM"]);
  const name = catalog.find((row) => row[1] === "node")[0]; // a simulated node
  const matrix = await invoke(platform, "BASIS", ["PJM", name, "WESTERN HUB", ...DAY]);
  assert.deepEqual(matrix[0], BASIS_COLUMNS);
  const rest = await restLmp({ iso: "PJM", market: "DAM", locations: `${name},WESTERN HUB`, start: DAY[0], end: DAY[1] });
  const node = rest.filter((r) => r.location === name);
  const hub = rest.filter((r) => r.location === "WESTERN HUB");
  assert.equal(matrix.length - 1, node.length);
  assert.ok(node.length > 0);
  node.forEach((n, i) => {
    const h = hub[i];
    const row = matrix[i + 1];
    assert.equal(row[0], n.interval_start);
    assert.equal(h.interval_start, n.interval_start);
    assert.deepEqual(row.slice(2, 4), [n.lmp, h.lmp]);
    for (const [j, part] of [[4, "lmp"], [5, "energy"], [6, "congestion"], [7, "loss"]]) {
      assert.ok(Math.abs(row[j] - (n[part] - h[part])) < 1e-9, `${part} basis at ${n.interval_start}`);
    }
  });
  assert.ok(matrix.slice(1).some((row) => row[4] !== 0), "a basis that is always zero proves nothing");
  // The same rows as the spreads operation answers over REST.
  const spreads = await restRows("/v1/spreads", {
    iso: "PJM", market: "DAM", location: name, minus: "WESTERN HUB", start: DAY[0], end: DAY[1],
  });
  assert.deepEqual(matrix, asMatrix(BASIS_COLUMNS, spreads));
});

test("BASIS with minus_market is the DA-RT spread, and resampled it says what each bucket covers", async () => {
  const platform = makePlatform();
  const dart = await invoke(platform, "BASIS", ["ERCOT", "HB_NORTH", "HB_NORTH", ...DAY, "DAM", "RT5"]);
  assert.equal(dart.length - 1, 24); // hourly: RT5 averaged onto the day-ahead hours
  const daily = await invoke(platform, "BASIS", ["ERCOT", "HB_NORTH", "HB_NORTH", ...DAY, "DAM", "RT5", "daily", "onpeak"]);
  assert.deepEqual(daily[0], [...BASIS_COLUMNS, ...RESAMPLE_COLUMNS]);
  assert.equal(daily.length, 2);
  const onpeak = dart.slice(1).filter((row) => { const h = Number(row[0].slice(11, 13)); return h >= 6 && h < 22; });
  const mean = onpeak.reduce((sum, row) => sum + row[4], 0) / onpeak.length;
  assert.ok(Math.abs(daily[1][4] - mean) < 1e-6, `daily on-peak spread ${daily[1][4]} vs ${mean}`);
  assert.equal(daily[1][9], 16); // sixteen on-peak hours
  const bad = await failure(invoke(platform, "BASIS", ["ERCOT", "HB_NORTH", "HB_NORHT", ...DAY]));
  assert.equal(bad.kind, "invalidValue");
  assert.match(bad.message, /HB_NORHT/);
});

test("LOCATIONS lists an ISO's names, filtered by search", async () => {
  const platform = makePlatform();
  const all = await invoke(platform, "LOCATIONS", ["ERCOT"]);
  const hubs = await invoke(platform, "LOCATIONS", ["ercot", "hb_"]);
  assert.deepEqual(all[0], LOCATION_COLUMNS);
  assert.deepEqual(hubs[0], LOCATION_COLUMNS);
  assert.ok(hubs.length > 2 && hubs.length < all.length);
  assert.ok(hubs.slice(1).every(([name]) => name.includes("HB_")));
  assert.deepEqual(hubs.slice(1), all.slice(1).filter(([name]) => name.includes("HB_")));
});

test("a bad argument is #VALUE! with the platform's message", async () => {
  const platform = makePlatform();
  const iso = await failure(invoke(platform, "LMP", ["NOPE", "HB_NORTH", ...DAY]));
  assert.ok(iso instanceof C254Error);
  assert.equal(iso.kind, "invalidValue");
  assert.match(iso.message, /unknown ISO: 'NOPE'/);
  const location = await failure(invoke(platform, "LMP", ["ERCOT", "HB_NRTH", ...DAY]));
  assert.equal(location.kind, "invalidValue");
  assert.match(location.message, /HB_NRTH.*did you mean HB_NORTH/);
  const date = await failure(invoke(platform, "LMP", ["ERCOT", "HB_NORTH", true, DAY[1]]));
  assert.equal(date.kind, "invalidValue");
  assert.match(date.message, /start must be a date/);
  const resample = await failure(invoke(platform, "LMP", ["ERCOT", "HB_NORTH", ...DAY, "DAM", "weekly"]));
  assert.equal(resample.kind, "invalidValue");
  assert.match(resample.message, /resample/);
});

test("refused credentials and missing entitlements are #N/A with the reason", async () => {
  const wrong = await failure(invoke(makePlatform({ key: "c254_not-a-real-key" }), "LMP", ["ERCOT", "HB_NORTH", ...DAY]));
  assert.equal(wrong.kind, "notAvailable");
  assert.equal(wrong.status, 401);
  assert.ok(wrong.message.length > 0);
  const outside = await failure(invoke(makePlatform({ key: PJM_ONLY_KEY }), "LMP", ["ERCOT", "HB_NORTH", ...DAY]));
  assert.equal(outside.kind, "notAvailable");
  assert.equal(outside.status, 403);
  assert.match(outside.message, /ERCOT/);
  const inside = await invoke(makePlatform({ key: PJM_ONLY_KEY }), "LMP", ["PJM", "WESTERN HUB", ...DAY]);
  assert.ok(inside.length > 1);
  const signedOut = await failure(invoke(makePlatform({ key: null }), "LOCATIONS", ["ERCOT"]));
  assert.equal(signedOut.kind, "notAvailable");
  assert.match(signedOut.message, /sign in/);
});

test("a server that never answers gives an error, not a hang", { timeout: 20000 }, async () => {
  const sockets = [];
  const silent = createServer((socket) => sockets.push(socket)); // accepts, never answers
  await new Promise((resolve) => silent.listen(0, "127.0.0.1", resolve));
  try {
    const platform = makePlatform({ baseUrl: `http://127.0.0.1:${silent.address().port}`, timeoutMs: 300 });
    const err = await failure(invoke(platform, "LMP", ["ERCOT", "HB_NORTH", ...DAY]));
    assert.equal(err.kind, "notAvailable");
    assert.match(err.message, /no answer from http:\/\/127\.0\.0\.1:\d+ within 0\.3 s/);
    assert.ok(sockets.length >= 1, "the request reached the silent server");
  } finally {
    for (const socket of sockets) socket.destroy();
    silent.close();
  }
});

test("concurrent LMP calls are one request, split back per cell", async () => {
  const platform = makePlatform();
  const locations = ["HB_NORTH", "HB_HOUSTON", "HB_SOUTH", "HB_WEST", "HB_NORTH"]; // one repeated
  const matrices = await Promise.all(locations.map((l) => invoke(platform, "LMP", ["ERCOT", l, ...DAY])));
  assert.equal(platform.requests.length, 1, platform.requests.join("\n"));
  const url = new URL(platform.requests[0]);
  assert.deepEqual(url.searchParams.get("locations").split(",").sort(), ["HB_HOUSTON", "HB_NORTH", "HB_SOUTH", "HB_WEST"]);
  for (const [i, location] of locations.entries()) {
    const rest = await restLmp({ iso: "ERCOT", market: "DAM", locations: location, start: DAY[0], end: DAY[1] });
    assert.deepEqual(matrices[i], asMatrix(LMP_COLUMNS, rest), location);
  }

  // Different windows or markets do not merge.
  const other = makePlatform();
  await Promise.all([
    invoke(other, "LMP", ["ERCOT", "HB_NORTH", ...DAY, "DAM"]),
    invoke(other, "LMP", ["ERCOT", "HB_NORTH", ...DAY, "RT5"]),
  ]);
  assert.equal(other.requests.length, 2);
});

test("a misspelled location in a batch fails only its own cell", async () => {
  const platform = makePlatform();
  const results = await Promise.allSettled([
    invoke(platform, "LMP", ["ERCOT", "HB_NORTH", ...DAY]),
    invoke(platform, "LMP", ["ERCOT", "HB_NOWHERE", ...DAY]),
    invoke(platform, "LMP", ["ERCOT", "HB_SOUTH", ...DAY]),
  ]);
  assert.deepEqual(results.map((r) => r.status), ["fulfilled", "rejected", "fulfilled"]);
  assert.equal(results[1].reason.kind, "invalidValue");
  assert.match(results[1].reason.message, /HB_NOWHERE/);
  assert.equal(results[0].value.length, 25);
});

test("functions.json is what the function table describes", () => {
  const checkedIn = JSON.parse(readFileSync(new URL("../../../src/carbon254/excel/static/functions.json", import.meta.url)));
  assert.deepEqual(checkedIn, functionsMetadata());
});

test("functions.js registers every function and turns failures into Excel errors", async () => {
  // Office's CustomFunctions API does not exist in Node: this stands in for its two members.
  class ExcelError {
    constructor(code, message) {
      this.code = code;
      this.message = message;
    }
  }
  const registered = new Map();
  const office = {
    associate: (id, fn) => registered.set(id, fn),
    Error: ExcelError,
    ErrorCode: { invalidValue: "#VALUE!", notAvailable: "#N/A" },
  };
  const platform = makePlatform();
  register(office, () => platform);
  assert.deepEqual([...registered.keys()], functionsMetadata().functions.map((f) => f.id));

  const matrix = await registered.get("LOCATIONS")("ERCOT", "HB_NORTH");
  assert.deepEqual(matrix[1][0], "HB_NORTH");
  const err = await failure(registered.get("LMP")("ERCOT", "HB_NRTH", ...DAY, null, null, null));
  assert.ok(err instanceof ExcelError);
  assert.equal(err.code, "#VALUE!");
  assert.match(err.message, /HB_NRTH/);
  assert.ok(BASE_URL && KEY);
});
