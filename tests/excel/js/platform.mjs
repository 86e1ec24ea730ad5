// Shared by the JS tests: the platform process pytest started (see test_excel_functions.py),
// read from environment variables, and a Platform over it whose fetch counts real requests.

import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { Platform } from "../../../src/carbon254/excel/static/c254.js";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run these tests through tests/excel/test_excel_functions.py`);
  return value;
}

export const BASE_URL = required("C254_BASE_URL");
export const KEY = required("C254_KEY");
export const PJM_ONLY_KEY = required("C254_PJM_ONLY_KEY");
export const ADMIN_KEY = required("C254_ADMIN_KEY");

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

/**
 * Commit simulated `iso` RT5 LMPs for [start, end) UTC days with the carbon254 CLI. The CLI
 * runs as a child process the event loop keeps serving meanwhile, so open sockets go on
 * reading while it works.
 */
export function commitRt5(iso, start, end) {
  const args = [
    "simulate", "--start", start, "--end", end, "--isos", iso, "--markets", "RT5", "--datasets", "lmp",
    "--nodes", required("C254_NODES"), "--data-dir", required("C254_DATA_DIR"),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(required("C254_CLI"), args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => { output += chunk; });
    child.stderr.on("data", (chunk) => { output += chunk; });
    child.on("error", reject);
    child.on("close", (status) => {
      if (status === 0) resolve();
      else reject(new Error(`simulate failed (${status}): ${output}`));
    });
  });
}

/** Commit simulated ERCOT RT5 LMPs for [start, end) UTC days (see commitRt5). */
export function commitErcotRt5(start, end) {
  return commitRt5("ERCOT", start, end);
}

/** One call of the admin API (/v1/admin`path`) with the admin key; the parsed answer. */
export async function admin(method, path, body = undefined) {
  const answer = await fetch(`${BASE_URL}/v1/admin${path}`, {
    method,
    headers: { "X-API-Key": ADMIN_KEY, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!answer.ok) throw new Error(`admin ${method} ${path}: ${answer.status} ${await answer.text()}`);
  return answer.json();
}

/** A new tenant `name` entitled to `isos` (null: all) and a key for it: `{ key, keyId }`. */
export async function tenantWithKey(name, isos = null) {
  await admin("POST", "/tenants", { name, isos });
  const issued = await admin("POST", "/keys", { tenant: name });
  return { key: issued.key, keyId: issued.key_id };
}

/** A promise resolved by the first value `predicate` accepts among those passed to the returned `push`. */
export function waitFor(predicate) {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  return { promise, push: (value) => { if (predicate(value)) resolve(value); } };
}

/**
 * Resolves once `condition()` holds, checking every few milliseconds; rejects naming `what`
 * after `deadlineMs`, a bound far above any wait the test expects.
 */
export async function until(condition, what, deadlineMs = 60000) {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`still waiting after ${deadlineMs / 1000} s for ${what}`);
    await sleep(5);
  }
}
