// Shared by the JS tests: the platform process pytest started (see test_excel_functions.py),
// read from environment variables, and a Platform over it whose fetch counts real requests.

import { spawnSync } from "node:child_process";
import { Platform } from "../../../src/carbon254/excel/static/c254.js";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through tests/excel/test_excel_functions.py`);
  return value;
}

export const BASE_URL = required("C254_BASE_URL");
export const KEY = required("C254_KEY");
export const PJM_ONLY_KEY = required("C254_PJM_ONLY_KEY");

/** A Platform over the test server; `platform.requests` lists every URL it fetched. */
export function makePlatform({ key = KEY, baseUrl = BASE_URL, timeoutMs = 15000, reconnectMs = 100 } = {}) {
  const requests = [];
  const platform = new Platform({
    baseUrl,
    credential: () => key,
    fetch: (url, init) => {
      requests.push(url);
      return fetch(url, init);
    },
    WebSocket: globalThis.WebSocket,
    setTimeout,
    clearTimeout,
    timeoutMs,
    reconnectMs,
  });
  platform.requests = requests;
  return platform;
}

/** Every row of GET /v1/lmp (tz=iso, JSON pages followed), fetched directly for comparison. */
export async function restLmp(params) {
  return restRows("/v1/lmp", params);
}

/** Every row of a GET of `path` (tz=iso, JSON pages followed), fetched directly for comparison. */
export async function restRows(path, params) {
  const rows = [];
  let cursor = null;
  do {
    const query = new URLSearchParams({ tz: "iso", format: "json", ...params, ...(cursor ? { cursor } : {}) });
    const answer = await fetch(`${BASE_URL}${path}?${query}`, { headers: { "X-API-Key": KEY } });
    if (!answer.ok) throw new Error(`REST ${answer.status}: ${await answer.text()}`);
    const page = await answer.json();
    rows.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor);
  return rows;
}

/** Commit simulated ERCOT RT5 LMPs for [start, end) UTC days with the carbon254 CLI. */
export function commitErcotRt5(start, end) {
  const run = spawnSync(required("C254_CLI"), [
    "simulate", "--start", start, "--end", end, "--isos", "ERCOT", "--markets", "RT5", "--datasets", "lmp",
    "--nodes", required("C254_NODES"), "--data-dir", required("C254_DATA_DIR"),
  ], { encoding: "utf8", timeout: 120000 });
  if (run.status !== 0) throw new Error(`simulate failed (${run.status}): ${run.stdout}\n${run.stderr}`);
}

/** A promise resolved by the first value `predicate` accepts among those passed to the returned `push`. */
export function waitFor(predicate) {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  return { promise, push: (value) => { if (predicate(value)) resolve(value); } };
}
