// CURVE (one number for a month and block, else the curve) and HPFC against the real platform,
// on a hub this file marks itself through POST /v1/curves.

import assert from "node:assert/strict";
import { before, test } from "node:test";

import { C254Error, OPERATION_FUNCTIONS, invoke } from "../../../src/carbon254/excel/static/c254.js";
import { BASE_URL, KEY, makePlatform } from "./platform.mjs";

// A hub of this run only (marks persist in the server's metadata database).
const HUB = `XL_HUB_${process.pid}`;
const AS_OF = "2026-12-04";
const QUOTES = [
  { start: "2027-01-01", end: "2027-02-01", block: "onpeak", price: 60 },
  { start: "2027-02-01", end: "2027-03-01", block: "onpeak", price: 55 },
  { start: "2027-01-01", end: "2027-04-01", block: "offpeak", price: 40 },
  { start: "2027-01-01", end: "2027-04-01", block: "onpeak", price: 55 },
];
const CURVE_COLUMNS = OPERATION_FUNCTIONS.find((f) => f.id === "CURVE").columns;
const HPFC_COLUMNS = OPERATION_FUNCTIONS.find((f) => f.id === "HPFC").columns;
// Excel's date serial of a day: days since 1899-12-30.
const serial = (day) => (Date.parse(`${day}T00:00:00Z`) - Date.UTC(1899, 11, 30)) / 86400000;

/** The rows of one JSON answer of `path` (curve answers fit one page), fetched directly for comparison. */
async function restRows(path, params) {
  const query = new URLSearchParams({ format: "json", ...params });
  const answer = await fetch(`${BASE_URL}${path}?${query}`, { headers: { "X-API-Key": KEY } });
  if (!answer.ok) throw new Error(`REST ${answer.status}: ${await answer.text()}`);
  const page = await answer.json();
  assert.equal(page.next_cursor, null);
  return page.data;
}

async function failure(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail("expected the call to fail");
}

before(async () => {
  const answer = await fetch(`${BASE_URL}/v1/curves`, {
    method: "POST",
    headers: { "X-API-Key": KEY, "Content-Type": "application/json" },
    body: JSON.stringify({ iso: "ERCOT", hub: HUB, as_of: AS_OF, quotes: QUOTES }),
  });
  assert.equal(answer.status, 201, await answer.text());
});

test("CURVE with a month and block is one number: the marked price", async () => {
  const platform = makePlatform();
  const matrix = await invoke(platform, "CURVE", [HUB, "2027-02", "onpeak"]);
  assert.equal(matrix.length, 1);
  assert.equal(matrix[0].length, 1);
  assert.ok(Math.abs(matrix[0][0] - 55) < 1e-9, String(matrix[0][0]));
  const [row] = await restRows("/v1/curves", { hub: HUB, month: "2027-02", block: "onpeak" });
  assert.deepEqual(matrix, [[row.price]]);
});

test("CURVE reads a date cell as its month and the iso and as_of when given", async () => {
  const platform = makePlatform();
  const typed = await invoke(platform, "CURVE", [HUB, "2027-03", "offpeak"]);
  const dated = await invoke(platform, "CURVE", [HUB, serial("2027-03-01"), "offpeak", serial(AS_OF), "ercot"]);
  assert.deepEqual(dated, typed);
  assert.ok(Math.abs(typed[0][0] - 40) < 1e-9);
});

test("CURVE without a month or block spills the curve with a header row", async () => {
  const platform = makePlatform();
  const matrix = await invoke(platform, "CURVE", [HUB]);
  const rest = await restRows("/v1/curves", { hub: HUB });
  assert.deepEqual(matrix[0], CURVE_COLUMNS);
  assert.deepEqual(matrix.slice(1), rest.map((r) => CURVE_COLUMNS.map((c) => r[c])));
  assert.equal(matrix.length, 1 + 3 * 3); // three months of onpeak, offpeak and atc
  const month = await invoke(platform, "CURVE", [HUB, "2027-01"]);
  assert.deepEqual(month.map((r) => r[1]), ["block", "onpeak", "offpeak", "atc"]);
});

test("CURVE of a hub nobody marked says how to mark one", async () => {
  const err = await failure(invoke(makePlatform(), "CURVE", ["NO_SUCH_XL_HUB", "2027-01", "onpeak"]));
  assert.ok(err instanceof C254Error);
  assert.equal(err.status, 404);
  assert.match(err.message, /mark one/);
});

test("CURVE refuses a month that is not one, before asking", async () => {
  const platform = makePlatform();
  const err = await failure(invoke(platform, "CURVE", [HUB, true, "onpeak"]));
  assert.ok(err instanceof C254Error);
  assert.match(err.message, /month must be a month/);
  assert.equal(platform.requests.length, 0);
});

test("HPFC spills the hours of the months asked for, in the ISO's market time", async () => {
  const platform = makePlatform();
  const matrix = await invoke(platform, "HPFC", [HUB, "2027-02", serial("2027-03-01")]);
  assert.deepEqual(matrix[0], HPFC_COLUMNS);
  const rows = matrix.slice(1);
  assert.equal(rows.length, 28 * 24);
  assert.equal(rows[0][0], "2027-02-01T00:00:00-06:00");
  const onpeak = rows.filter((r) => r[1] === "onpeak").map((r) => r[2]);
  assert.equal(onpeak.length, 20 * 16);
  const mean = onpeak.reduce((s, p) => s + p, 0) / onpeak.length;
  assert.ok(Math.abs(mean - 55) < 1e-9, String(mean));
  const rest = await restRows("/v1/curves/hpfc", { hub: HUB, iso: "ERCOT", start: "2027-02", end: "2027-03", tz: "iso" });
  assert.deepEqual(rows, rest.map((r) => HPFC_COLUMNS.map((c) => r[c])));
});

test("HPFC of the whole curve needs only the hub", async () => {
  const matrix = await invoke(makePlatform(), "HPFC", [HUB]);
  assert.equal(matrix.length - 1, (31 + 28 + 31) * 24 - 1); // Central time springs forward in March
});
