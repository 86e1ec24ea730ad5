// LIVE against the real platform: one shared WebSocket, rows after a commit, resume with
// `since` after a drop or a failed handshake, a cell joining a location already streaming,
// errors, entitlements lost while streaming, and silence after cancel.
//
// Every wait is for a condition (a cell's value, the hub's state); only the test's own
// timeout bounds it, so a slow machine makes the tests slower, never wrong.

import assert from "node:assert/strict";
import { createConnection, createServer } from "node:net";
import { test } from "node:test";

import { LMP_COLUMNS, startLive } from "../../../src/carbon254/excel/static/c254.js";
import {
  BASE_URL, PJM_ONLY_KEY, admin, commitErcotRt5, commitRt5, makePlatform, restLmp, tenantWithKey, until, waitFor,
} from "./platform.mjs";

const WAITING = /^waiting/;
const TEST_TIMEOUT_MS = 240000;

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
const isWaiting = (m) => Array.isArray(m) && WAITING.test(String(m[1][0]));
const isError = (v) => v instanceof Error;

async function restRow(location, marketStart) {
  const day = marketStart.slice(0, 10);
  const next = new Date(Date.parse(`${day}T00:00:00Z`) + 86400000).toISOString().slice(0, 10);
  const rows = await restLmp({ iso: "ERCOT", market: "RT5", locations: location, start: day, end: next });
  return rows.find((r) => r.interval_start === marketStart);
}

test("LIVE shows each new interval, shares one socket, resumes after a drop and stops when cancelled", { timeout: TEST_TIMEOUT_MS }, async (t) => {
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
  // Waiting means listening: the platform confirmed both RT5 locations before the commit.
  assert.deepEqual([...hub.channels.get("ERCOT|RT5").confirmed].sort(), ["HB_HOUSTON", "HB_NORTH"]);

  await commitErcotRt5("2024-03-03", "2024-03-04");
  const row = await north.next(isData);
  assert.deepEqual(row[0], LMP_COLUMNS);
  // The commit's last interval (UTC 2024-03-03 23:55) in ERCOT market time.
  assert.equal(row[1][0], "2024-03-03T17:55:00-06:00");
  const rest = await restRow("HB_NORTH", row[1][0]);
  assert.ok(rest, `REST has the interval ${row[1][0]}`);
  assert.deepEqual(row[1], LMP_COLUMNS.map((c) => rest[c]));
  const houstonRow = await houston.next(isData);
  assert.equal(houstonRow[1][0], "2024-03-03T17:55:00-06:00");
  assert.ok(!dam.results.some(isData), "an RT5 commit does not reach a DAM cell");

  // A dropped connection resumes from the last interval seen: rows committed meanwhile arrive.
  hub.socket.close();
  await until(() => !hub.connected, "the hub to see its socket close");
  assert.ok(hub.retryTimer, "a dropped connection is retried");
  await commitErcotRt5("2024-03-04", "2024-03-05");
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
  // A cell of another platform shows when the next commit has been streamed.
  const observer = live(makePlatform(), ["ERCOT", "HB_NORTH"]);
  t.after(() => observer.handle.cancel());
  await observer.next(isWaiting);
  await commitErcotRt5("2024-03-05", "2024-03-06");
  const observed = await observer.next(isData);
  assert.equal(observed[1][0], "2024-03-05T17:55:00-06:00");
  assert.deepEqual([north, houston, dam].map((c) => c.results.length), counts);
  assert.deepEqual([north, houston, dam, observer].flatMap((c) => c.errors), []);
});

test("a cell placed on a location already streaming shows it listens, with the latest interval", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const platform = makePlatform();
  const first = live(platform, ["ERCOT", "HB_WEST"]);
  let second = null;
  t.after(() => [first, second].forEach((cell) => cell && cell.handle.cancel()));
  await first.next(isWaiting);
  await commitErcotRt5("2024-03-06", "2024-03-07");
  const row = await first.next(isData);
  assert.equal(row[1][0], "2024-03-06T17:55:00-06:00");

  // The channel's locations do not change, so no subscribe (and no answer) is needed.
  second = live(platform, ["ercot", "hb_west", "RT5"]);
  assert.deepEqual(await second.next(isData), row);
  const hub = platform.liveHub();
  assert.equal(hub.connects, 1);
  assert.deepEqual([...hub.channels.get("ERCOT|RT5").confirmed], ["HB_WEST"]);

  // Either cell leaving leaves the other streaming.
  first.handle.cancel();
  await commitErcotRt5("2024-03-07", "2024-03-08");
  const after = await second.next((m) => isData(m) && m[1][0] > row[1][0]);
  assert.equal(after[1][0], "2024-03-07T17:55:00-06:00");
  assert.deepEqual([...first.errors, ...second.errors], []);
});

/**
 * A TCP proxy to the platform that fails the first `refusals` WebSocket handshakes (cutting
 * the connection unanswered) and passes everything else through. Every chunk is looked at,
 * since a handshake may reuse a connection that served REST requests before.
 */
async function flakyProxy(refusals) {
  const target = new URL(BASE_URL);
  const sockets = new Set();
  const proxy = { handshakes: 0, refused: 0 };
  const server = createServer((client) => {
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
      socket.on("error", () => socket.destroy());
    }
    client.on("data", (chunk) => {
      if (/^upgrade:\s*websocket/im.test(chunk.toString("latin1"))) {
        proxy.handshakes += 1;
        if (proxy.refused < refusals) {
          proxy.refused += 1;
          client.destroy();
          return;
        }
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${server.address().port}`;
  proxy.close = () => {
    for (const socket of sockets) socket.destroy();
    server.close();
  };
  return proxy;
}

test("LIVE reconnects after failed WebSocket handshakes", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const proxy = await flakyProxy(2);
  t.after(() => proxy.close());
  const platform = makePlatform({ baseUrl: proxy.url, reconnectMs: 50 });
  const cell = live(platform, ["ERCOT", "HB_SOUTH"]);
  t.after(() => cell.handle.cancel());
  await cell.next(isWaiting);
  assert.equal(proxy.refused, 2);
  assert.equal(proxy.handshakes, 3);
  assert.equal(platform.liveHub().connects, 3);
  assert.deepEqual(cell.errors, []);
});

test("LIVE with a misspelled location or outside the entitlements is an error, not a silent cell", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const platform = makePlatform();
  const misspelled = live(platform, ["ERCOT", "HB_NOWHERE"]);
  let market = null;
  t.after(() => market && market.handle.cancel());
  const err = await misspelled.next(isError);
  assert.equal(err.kind, "invalidValue");
  assert.match(err.message, /HB_NOWHERE/);

  const outside = live(makePlatform({ key: PJM_ONLY_KEY }), ["ERCOT", "HB_NORTH"]);
  const refused = await outside.next(isError);
  assert.equal(refused.kind, "notAvailable");
  assert.equal(refused.status, 403);

  market = live(platform, ["ERCOT", "HB_NORTH", "RT99"]);
  const unknown = await market.next(isError);
  assert.equal(unknown.kind, "invalidValue");
  assert.match(unknown.message, /RT99/);
  // The refused cell left the hub, which closed with its last cell.
  assert.equal(platform.hubs.size, 0);
});

test("an ISO removed from the tenant's entitlements ends its LIVE cells with an error; other ISOs stream on", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { key } = await tenantWithKey("excel-live-narrowed");
  const platform = makePlatform({ key });
  const ercot = live(platform, ["ERCOT", "HB_NORTH"]);
  const pjm = live(platform, ["PJM", "WESTERN HUB"]);
  t.after(() => [ercot, pjm].forEach((cell) => cell.handle.cancel()));
  await ercot.next(isWaiting);
  await pjm.next(isWaiting);

  await admin("PATCH", "/tenants/excel-live-narrowed", { isos: ["PJM"] });
  const ended = await ercot.next(isError);
  assert.equal(ended.kind, "notAvailable");
  assert.equal(ended.status, 403);
  assert.equal(ended.code, "not_entitled");
  assert.match(ended.message, /ERCOT/);
  assert.deepEqual(ercot.errors, [ended], "a cell hears the end of its subscription once");

  await commitRt5("PJM", "2024-03-03", "2024-03-04");
  const row = await pjm.next(isData);
  assert.equal(row[1][0], "2024-03-03T18:55:00-05:00"); // UTC 23:55 in PJM market time
  assert.deepEqual(pjm.errors, []);
  const hub = platform.liveHub();
  assert.equal(hub.connects, 1, "the socket carries on for the ISO still entitled");
  assert.deepEqual([...hub.channels.keys()], ["PJM|RT5"]);
  assert.ok(!ercot.results.some(isData), "the ended cell shows no price");
});

test("a key revoked while streaming ends its LIVE cells with an error; other credentials stream on", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const { key, keyId } = await tenantWithKey("excel-live-revoked");
  const revokedPlatform = makePlatform({ key });
  const platform = makePlatform();
  const doomed = [live(revokedPlatform, ["ERCOT", "HB_NORTH"]), live(revokedPlatform, ["PJM", "EASTERN HUB", "RT5"])];
  const other = live(platform, ["ERCOT", "HB_NORTH"]);
  t.after(() => [...doomed, other].forEach((cell) => cell.handle.cancel()));
  for (const cell of [...doomed, other]) await cell.next(isWaiting);

  await admin("DELETE", `/keys/${keyId}`);
  for (const cell of doomed) {
    const err = await cell.next(isError);
    assert.equal(err.kind, "notAvailable");
    assert.equal(err.status, 401);
    assert.equal(err.code, "unauthenticated");
    assert.match(err.message, /sign in again/);
  }
  await until(() => revokedPlatform.hubs.size === 0, "the refused credential's hub to close");

  await commitErcotRt5("2024-03-08", "2024-03-09");
  const row = await other.next(isData);
  assert.equal(row[1][0], "2024-03-08T17:55:00-06:00");
  assert.deepEqual(other.errors, []);
  assert.ok(!doomed.some((cell) => cell.results.some(isData)), "the refused cells show no price");
});

test("a subscribe outside the entitlements (close 4403) ends only its channel's cells; the others reconnect", { timeout: TEST_TIMEOUT_MS }, async (t) => {
  const platform = makePlatform({ key: PJM_ONLY_KEY });
  const pjm = live(platform, ["PJM", "WESTERN HUB"]);
  t.after(() => pjm.handle.cancel());
  await pjm.next(isWaiting);
  const hub = platform.liveHub();
  // Straight to the hub, past LIVE's REST check, as when an entitlement goes between the two.
  const heard = [];
  const leave = hub.join("ERCOT", "RT5", "HB_NORTH", {
    onSubscribed: () => heard.push("subscribed"),
    onRows: () => heard.push("rows"),
    onError: (err) => heard.push(err),
  });
  t.after(leave);
  await until(() => heard.length > 0, "the ERCOT cell to hear from the hub");
  const [err] = heard;
  assert.ok(err instanceof Error, `the ERCOT cell fails, not ${String(err)}`);
  assert.equal(err.status, 403);
  assert.equal(err.kind, "notAvailable");
  await until(() => hub.open && hub.channels.get("PJM|RT5").confirmed, "the PJM channel to be streamed again");
  assert.deepEqual([...hub.channels.keys()], ["PJM|RT5"]);
  assert.equal(hub.connects, 2);
  assert.deepEqual(heard, [err]);

  await commitRt5("PJM", "2024-03-04", "2024-03-05");
  const row = await pjm.next(isData);
  assert.equal(row[1][0], "2024-03-04T18:55:00-05:00");
  assert.deepEqual(pjm.errors, []);
});
