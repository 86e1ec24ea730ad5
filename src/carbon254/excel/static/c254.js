// The 254Carbon Excel functions (namespace C254): client, batching, function table and LIVE hub.
//
// A plain ES2020 module with no dependencies, shared by Office (functions.js registers the
// table with CustomFunctions) and the Node tests. Everything that touches the outside world
// (fetch, WebSocket, timers) is passed in, so both run the same code over real HTTP.
//
// Times: every function shows interval times in the ISO's market time (the REST `tz=iso`),
// as ISO-8601 text with the UTC offset, e.g. "2024-03-01T00:00:00-06:00" for ERCOT. Text
// rather than Excel date serials, because a serial cannot say which zone it is in and
// market days cross DST changes; wrap a cell in DATEVALUE/TIMEVALUE (or LEFT(.., 19)) to
// compute with it. Prices are $/MWh.
//
// Errors: a function never hangs (every request has a timeout) and fails with a C254Error
// whose `kind` is an Excel error code name: "invalidValue" for a bad argument (unknown ISO,
// market or location, malformed date), "notAvailable" for everything else (signed out,
// key refused, no entitlement, no data, timeout, platform unreachable); the message is the
// platform's own.

import { ISO_TIME_ZONES, OPERATION_FUNCTIONS } from "./declarations.js";

export const DEFAULT_TIMEOUT_MS = 30000;
// Calls arriving within this window that differ only in location share one request: a
// recalculating sheet calls the function for every cell within a few milliseconds.
export const DEFAULT_BATCH_WINDOW_MS = 25;
// Locations merged into one request; the platform's own limit (max_locations) is larger,
// this keeps URLs short.
export const MAX_BATCH_LOCATIONS = 100;
export const DEFAULT_RECONNECT_MS = 1000;
export const MAX_RECONNECT_MS = 30000;

export const ErrorKind = Object.freeze({ INVALID_VALUE: "invalidValue", NOT_AVAILABLE: "notAvailable" });

// Each ISO's market-time zone and the functions of analytics operations come from the
// platform's own declarations (declarations.js is generated from them): LIVE converts the
// stream's UTC times into the zone, as the REST API does for tz=iso.
export { ISO_TIME_ZONES, OPERATION_FUNCTIONS };

/** A failure shown in the cell as an Excel error (`kind`: an ErrorKind value) with `message`. */
export class C254Error extends Error {
  constructor(kind, message, { status = null, code = null, parameter = null } = {}) {
    super(message);
    this.name = "C254Error";
    this.kind = kind;
    this.status = status; // the HTTP status (or stream close code - 4000), when the platform answered
    this.code = code; // the platform's error code, e.g. not_found
    this.parameter = parameter; // the argument the platform blamed, e.g. locations
  }
}

function invalid(message) {
  return new C254Error(ErrorKind.INVALID_VALUE, message);
}

function unavailable(message, details) {
  return new C254Error(ErrorKind.NOT_AVAILABLE, message, details);
}

// ------------------------------------------------------------------------------- arguments

const EXCEL_EPOCH_MS = Date.UTC(1899, 11, 30);
const DAY_MS = 86400000;

function pad(n, width = 2) {
  return String(n).padStart(width, "0");
}

/**
 * A start/end argument as the text the API reads in the ISO's market time: a date typed as
 * text passes through; an Excel date serial (a date cell) becomes "YYYY-MM-DD", or
 * "YYYY-MM-DDTHH:MM:SS" when it has a time of day.
 */
export function timeArgument(name, value) {
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  if (typeof value === "number" && Number.isFinite(value) && value > 0) {
    const at = new Date(EXCEL_EPOCH_MS + Math.round(value * DAY_MS / 1000) * 1000);
    const day = `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}`;
    const seconds = at.getUTCHours() * 3600 + at.getUTCMinutes() * 60 + at.getUTCSeconds();
    if (seconds === 0) return day;
    return `${day}T${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}`;
  }
  throw invalid(`${name} must be a date (a date cell, or text such as 2024-03-01 or today-30d), got ${JSON.stringify(value)}`);
}

/**
 * A delivery month as "YYYY-MM": text passes through (trimmed); a date cell (Excel turns a typed
 * 2027-01 into one) names its month.
 */
export function monthArgument(name, value) {
  if (typeof value === "number" && Number.isFinite(value) && value > 0) return timeArgument(name, value).slice(0, 7);
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  throw invalid(`${name} must be a month (text such as 2027-01, or a date cell), got ${JSON.stringify(value)}`);
}

/** A required text argument, trimmed; invalidValue when missing or blank. */
export function textArgument(name, value) {
  if (typeof value === "number" || typeof value === "boolean") value = String(value);
  if (typeof value !== "string" || value.trim() === "") throw invalid(`${name} is required`);
  return value.trim();
}

/** An optional text argument: trimmed, or `fallback` when omitted or blank. */
export function optionalText(name, value, fallback = null) {
  if (value === null || value === undefined || (typeof value === "string" && value.trim() === "")) return fallback;
  return textArgument(name, value);
}

/** One location name (a comma would silently ask for several). */
export function locationArgument(name, value) {
  const text = textArgument(name, value);
  if (text.includes(",")) throw invalid(`${name} names one location; use one cell per location`);
  return text;
}

/** UTC ISO-8601 text (the stream's times) as ISO-8601 text in `iso`'s market time with its offset. */
export function marketTime(utcText, iso) {
  const zone = ISO_TIME_ZONES[iso.toUpperCase()];
  const instant = new Date(utcText);
  if (!zone || Number.isNaN(instant.getTime())) return utcText;
  const parts = {};
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  for (const { type, value } of format.formatToParts(instant)) parts[type] = value;
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  const offset = Math.round((wall - Math.floor(instant.getTime() / 1000) * 1000) / 60000);
  const sign = offset < 0 ? "-" : "+";
  const hhmm = `${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}${sign}${hhmm}`;
}

// ------------------------------------------------------------------------------------ client

function errorFromBody(status, body, fallback) {
  const message = body && typeof body.message === "string" ? body.message : fallback;
  const suggestions = body && Array.isArray(body.suggestions) && body.suggestions.length
    ? ` (did you mean ${body.suggestions.slice(0, 3).join(", ")}?)` : "";
  const details = { status, code: body && body.code ? body.code : null, parameter: body && body.parameter ? body.parameter : null };
  // A bad argument (unknown name, malformed value) is the cell's mistake; the rest is not.
  const kind = status === 404 || status === 422 || status === 400 ? ErrorKind.INVALID_VALUE : ErrorKind.NOT_AVAILABLE;
  return new C254Error(kind, `${message}${suggestions}`, details);
}

/**
 * The platform at `baseUrl` (scheme://host:port[/root]) as the functions see it.
 *
 * `credential()` returns the signed-in API key or OIDC token (null when signed out), sent
 * as `Authorization: Bearer`. `fetch`, `WebSocket`, `setTimeout` and `clearTimeout` are the
 * host's implementations; `timeoutMs` bounds every HTTP request (and the stream's silence),
 * `batchWindowMs` is how long LMP calls wait for others to share a request with.
 */
export class Platform {
  constructor({
    baseUrl, credential, fetch, WebSocket = null, setTimeout, clearTimeout,
    timeoutMs = DEFAULT_TIMEOUT_MS, batchWindowMs = DEFAULT_BATCH_WINDOW_MS,
    reconnectMs = DEFAULT_RECONNECT_MS,
  }) {
    if (!baseUrl || !/^https?:\/\//.test(baseUrl)) throw new TypeError(`baseUrl must be an http(s) URL, got ${baseUrl}`);
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.credential = credential;
    this.fetch = fetch;
    this.WebSocket = WebSocket;
    this.setTimeout = setTimeout;
    this.clearTimeout = clearTimeout;
    this.timeoutMs = timeoutMs;
    this.batchWindowMs = batchWindowMs;
    this.reconnectMs = reconnectMs;
    this.batcher = new Batcher(this);
    this.hubs = new Map(); // credential -> LiveHub
  }

  url(path, params) {
    const query = Object.entries(params)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .join("&");
    return `${this.baseUrl}${path}${query ? `?${query}` : ""}`;
  }

  /**
   * One GET of `path` with `params`, as parsed JSON; a C254Error on any failure or after
   * timeoutMs. Sent with `credential`, by default the signed-in one.
   */
  async getJson(path, params, credential = this.credential()) {
    if (!credential) throw unavailable("not signed in: open the 254Carbon task pane and sign in");
    const controller = new AbortController();
    const timer = this.setTimeout(() => controller.abort(), this.timeoutMs);
    try {
      let response;
      try {
        response = await this.fetch(this.url(path, params), {
          headers: { Accept: "application/json", Authorization: `Bearer ${credential}` },
          signal: controller.signal,
        });
      } catch (err) {
        if (controller.signal.aborted) throw unavailable(`no answer from ${this.baseUrl} within ${this.timeoutMs / 1000} s`);
        throw unavailable(`cannot reach ${this.baseUrl}: ${err && err.message ? err.message : err}`);
      }
      let body = null;
      try {
        body = await response.json();
      } catch (err) {
        if (controller.signal.aborted) throw unavailable(`no answer from ${this.baseUrl} within ${this.timeoutMs / 1000} s`);
        if (response.ok) throw unavailable(`unreadable answer from ${this.baseUrl}${path}`);
      }
      if (!response.ok) throw errorFromBody(response.status, body, `HTTP ${response.status} from ${path}`);
      return body;
    } finally {
      this.clearTimeout(timer);
    }
  }

  /** Every row of a paged JSON answer: follows `next_cursor` with the same parameters until null. */
  async getRows(path, params) {
    const rows = [];
    let cursor = null;
    do {
      const page = await this.getJson(path, cursor ? { ...params, cursor } : params);
      rows.push(...(page.data || []));
      cursor = page.next_cursor || null;
    } while (cursor);
    return rows;
  }

  /** The stream hub for the current credential (one WebSocket per base URL and credential). */
  liveHub() {
    const credential = this.credential();
    if (!credential) throw unavailable("not signed in: open the 254Carbon task pane and sign in");
    if (!this.WebSocket) throw unavailable("this Excel has no WebSocket support");
    let hub = this.hubs.get(credential);
    if (!hub) {
      const created = new LiveHub(this, credential, () => {
        if (this.hubs.get(credential) === created) this.hubs.delete(credential);
      });
      hub = created;
      this.hubs.set(credential, hub);
    }
    return hub;
  }
}

// ----------------------------------------------------------------------------------- batching

/**
 * Merges calls to one endpoint that differ only in their `locations` into one request.
 *
 * Calls with equal parameters (the location list aside) arriving within the batch window
 * join a group; the group asks once with the union of locations (in chunks of
 * MAX_BATCH_LOCATIONS) and hands each call the rows of its own locations. Identical calls
 * therefore share a request too. If the merged request fails because one location is
 * unknown, each call is retried on its own, so only the misspelled cell shows the error.
 */
export class Batcher {
  constructor(platform) {
    this.platform = platform;
    this.groups = new Map();
  }

  rows(path, params, locations) {
    const key = JSON.stringify([path, Object.entries(params).filter(([, v]) => v !== null && v !== undefined).sort()]);
    let group = this.groups.get(key);
    if (!group) {
      group = { path, params, calls: [] };
      this.groups.set(key, group);
      this.platform.setTimeout(() => {
        this.groups.delete(key);
        this.run(group);
      }, this.platform.batchWindowMs);
    }
    return new Promise((resolve, reject) => group.calls.push({ locations, resolve, reject }));
  }

  async run(group) {
    const fold = (name) => name.toUpperCase();
    const wanted = [...new Map(group.calls.flatMap((c) => c.locations).map((l) => [fold(l), l])).values()];
    let rows;
    try {
      rows = await this.fetchLocations(group, wanted);
    } catch (err) {
      const oneBadName = err instanceof C254Error && err.status === 404 && err.parameter === "locations";
      if (oneBadName && wanted.length > 1) {
        for (const call of group.calls) {
          this.fetchLocations(group, call.locations).then(call.resolve, call.reject);
        }
      } else {
        for (const call of group.calls) call.reject(err);
      }
      return;
    }
    const byLocation = new Map();
    for (const row of rows) {
      const key = fold(String(row.location));
      if (!byLocation.has(key)) byLocation.set(key, []);
      byLocation.get(key).push(row);
    }
    for (const call of group.calls) {
      call.resolve(call.locations.flatMap((l) => byLocation.get(fold(l)) || []));
    }
  }

  async fetchLocations(group, locations) {
    const chunks = [];
    for (let i = 0; i < locations.length; i += MAX_BATCH_LOCATIONS) chunks.push(locations.slice(i, i + MAX_BATCH_LOCATIONS));
    const pages = await Promise.all(
      chunks.map((chunk) => this.platform.getRows(group.path, { ...group.params, locations: chunk.join(",") })),
    );
    return pages.flat();
  }
}

// ------------------------------------------------------------------------------ result shaping

function cell(value) {
  return value === null || value === undefined ? "" : value;
}

/** Rows as a matrix: a header row of `columns`, then one row per record. */
export function table(columns, rows) {
  return [columns.slice(), ...rows.map((row) => columns.map((c) => cell(row[c])))];
}

function noRows(what, hint = "check the dates, market and location (times are the ISO's market time)") {
  return unavailable(`no ${what}: ${hint}`);
}

function lmpParams(a) {
  return {
    iso: a.iso, market: a.market, start: a.start, end: a.end, tz: "iso", resample: a.resample, block: a.block,
    format: "json",
  };
}

export const LMP_COLUMNS = ["interval_start", "interval_end", "lmp", "energy", "congestion", "loss"];
export const LOCATION_COLUMNS = ["location", "location_type", "source"];
// What a resampled answer adds: the share of each bucket with data (0-1) and the intervals averaged.
export const RESAMPLE_COLUMNS = ["coverage", "intervals"];

/** `columns`, plus the resample columns when the rows carry them (the call asked for resample). */
function withResampleColumns(columns, rows) {
  return rows.length && "coverage" in rows[0] ? [...columns, ...RESAMPLE_COLUMNS] : columns;
}

// ------------------------------------------------------------------------------ function table

function param(name, type, description, extra = {}) {
  return { name, type, description, ...extra };
}

const ISO_PARAM = param("iso", "string", "ISO/RTO, e.g. ERCOT, PJM, CAISO, MISO, SPP, NYISO, ISONE.");
const START_PARAM = param("start", "any", "First day or time (inclusive), ISO market time: a date cell, or text like 2024-03-01 or today-30d.");
const END_PARAM = param("end", "any", "Day or time to stop before (exclusive), same forms as start.");

/**
 * The C254 functions, one entry each. An entry names its Excel parameters (for
 * functions.json), how to read them (`args`), where its rows come from (`endpoint` and
 * `query`; `batchOn: "locations"` merges concurrent calls, see Batcher) and how rows become
 * the spilled table (`shape`). A new analytics endpoint is one more entry.
 */
export const FUNCTIONS = [
  {
    id: "LMP",
    description: "Locational marginal prices ($/MWh) with energy, congestion and loss; spills a table with a header row.",
    parameters: [
      ISO_PARAM,
      param("location", "string", "Hub, zone or node name, e.g. HB_NORTH (see =C254.LOCATIONS)."),
      START_PARAM,
      END_PARAM,
      param("market", "string", "Market: DAM (default), RTH, RT5, RT15.", { optional: true }),
      param("resample", "string", "Average into hourly, daily or monthly buckets (ISO market time).", { optional: true }),
      param("block", "string", "Keep one delivery block: onpeak, offpeak, 2x16, 7x8 or atc.", { optional: true }),
    ],
    endpoint: "/v1/lmp",
    batchOn: "locations",
    args: (v) => ({
      iso: textArgument("iso", v[0]), location: locationArgument("location", v[1]),
      start: timeArgument("start", v[2]), end: timeArgument("end", v[3]),
      market: optionalText("market", v[4], "DAM"), resample: optionalText("resample", v[5]),
      block: optionalText("block", v[6]),
    }),
    query: (a) => ({ params: lmpParams(a), locations: [a.location] }),
    shape: (rows, a) => {
      if (!rows.length) throw noRows(`${a.iso} ${a.market} prices for ${a.location} from ${a.start} to ${a.end}`);
      return table(withResampleColumns(LMP_COLUMNS, rows), rows);
    },
  },
  ...OPERATION_FUNCTIONS.map(operationFunction),
  {
    id: "LOCATIONS",
    description: "Priced locations of an ISO (name, type, source), optionally only names containing a text.",
    parameters: [
      ISO_PARAM,
      param("search", "string", "Case-insensitive part of the name, e.g. HB_ or HUB.", { optional: true }),
    ],
    endpoint: "/v1/locations",
    args: (v) => ({ iso: textArgument("iso", v[0]), search: optionalText("search", v[1]) }),
    query: (a) => ({ params: { iso: a.iso, search: a.search, format: "json" } }),
    shape: (rows, a) => {
      if (!rows.length) throw noRows(`${a.iso} locations${a.search ? ` containing ${a.search}` : ""}`);
      return table(LOCATION_COLUMNS, rows);
    },
  },
  {
    id: "LIVE",
    description: "Latest interval of one location, updating as the platform receives new intervals (default market RT5).",
    parameters: [
      ISO_PARAM,
      param("location", "string", "Hub, zone or node name, e.g. HB_NORTH."),
      param("market", "string", "Market: RT5 (default), RT15, RTH, DAM.", { optional: true }),
    ],
    stream: true,
    args: (v) => ({
      iso: textArgument("iso", v[0]), location: locationArgument("location", v[1]),
      market: optionalText("market", v[2], "RT5"),
    }),
  },
];

const BY_ID = new Map(FUNCTIONS.map((f) => [f.id, f]));

/**
 * The table entry of an analytics operation's declared Excel function (declarations.js): its
 * arguments fill the operation's request fields, `fixed` parameters ride along, and the rows
 * spill in the declared columns.
 */
function operationFunction(spec) {
  const readers = {
    text: (a, v) => (a.optional ? optionalText(a.name, v, a.default) : textArgument(a.name, v)),
    location: (a, v) => locationArgument(a.name, v),
    time: (a, v) => (a.optional && omitted(v) ? a.default : timeArgument(a.name, v)),
    month: (a, v) => (a.optional && omitted(v) ? a.default : monthArgument(a.name, v)),
    number: (a, v) => {
      if (a.optional && (v === null || v === undefined || v === "")) return a.default;
      if (typeof v !== "number" || !Number.isFinite(v)) throw invalid(`${a.name} must be a number`);
      return v;
    },
  };
  return {
    id: spec.id,
    description: spec.description,
    parameters: spec.arguments.map((a) => param(a.name, a.reader === "time" || a.reader === "month" ? "any" : a.reader === "number" ? "number" : "string",
      a.description, a.optional ? { optional: true } : {})),
    endpoint: spec.endpoint,
    args: (values) => Object.fromEntries(spec.arguments.map((a, i) => [a.field, readers[a.reader](a, values[i])])),
    query: (a) => ({ params: withoutUnset({ ...spec.fixed, ...a, format: "json" }) }),
    shape: (rows, a) => {
      if (!rows.length) {
        const windowed = spec.arguments.some((x) => x.field === "start" && x.reader === "time");
        throw windowed
          ? noRows(`${spec.id} rows for ${describeArguments(spec, a)}`)
          : noRows(`${spec.id} rows for ${describeArguments(spec, a)}`, "check the arguments");
      }
      // One number in the cell typed: a single price asked for by every `scalar_when` argument.
      const named = (spec.scalar_when || []).every((n) => {
        const arg = spec.arguments.find((x) => x.name === n);
        return arg && a[arg.field] !== null && a[arg.field] !== undefined;
      });
      if (spec.scalar && rows.length === 1 && named) return [[cell(rows[0][spec.scalar])]];
      return table(withResampleColumns(spec.columns, rows), rows);
    },
  };
}

function omitted(value) {
  return value === null || value === undefined || (typeof value === "string" && value.trim() === "");
}

/** Parameters without the ones left unset (an omitted optional argument is not sent at all). */
function withoutUnset(params) {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== null && v !== undefined));
}

/** The arguments given, for a message: "ERCOT from 2024-03-01 to 2024-03-02", or "hub=HB_NORTH, month=2027-01". */
function describeArguments(spec, a) {
  if (a.start !== undefined && a.end !== undefined && a.iso) return `${a.iso} from ${a.start} to ${a.end}`;
  const given = spec.arguments.filter((x) => a[x.field] !== null && a[x.field] !== undefined);
  return given.map((x) => `${x.name}=${a[x.field]}`).join(", ");
}

/** The custom-functions metadata (functions.json) the table describes. */
export function functionsMetadata() {
  return {
    functions: FUNCTIONS.map((f) => ({
      id: f.id,
      name: f.id,
      description: f.description,
      result: { dimensionality: "matrix" },
      parameters: f.parameters.map((p) => ({
        name: p.name, description: p.description, type: p.type, dimensionality: "scalar",
        ...(p.optional ? { optional: true } : {}),
      })),
      ...(f.stream ? { options: { stream: true, cancelable: true } } : {}),
    })),
  };
}

/** Run non-streaming function `id` with Excel's argument values; the spilled matrix, or a C254Error. */
export async function invoke(platform, id, values) {
  const f = BY_ID.get(id);
  if (!f || f.stream) throw new TypeError(`no request function named ${id}`);
  const a = f.args(values);
  const { params, locations } = f.query(a);
  const rows = f.batchOn
    ? await platform.batcher.rows(f.endpoint, params, locations)
    : await platform.getRows(f.endpoint, params);
  return f.shape(rows, a);
}

// -------------------------------------------------------------------------------------- LIVE

const WAITING = "waiting for the next interval";

/**
 * LIVE(iso, location, [market]): calls `onResult(matrix)` with a header row and the latest
 * interval of the location, first with a waiting row once the platform streams it, then on
 * every new or revised interval; `onError(C254Error)` when it cannot continue, so the cell
 * shows the error instead of a stale price: the subscription refused, ended by the platform
 * (status 403, code not_entitled: the tenant lost the ISO) or the credential refused (status
 * 401, code unauthenticated: every LIVE cell of that credential). Returns `{ cancel() }`: the
 * Office `invocation.onCanceled` handler. The location is checked over REST first, so a
 * misspelling or a missing entitlement reads as that, not as a silent stream.
 */
export function startLive(platform, values, { onResult, onError }) {
  const f = BY_ID.get("LIVE");
  let cancelled = false;
  let leave = null;
  const fail = (err) => {
    if (!cancelled) onError(err instanceof C254Error ? err : unavailable(String(err && err.message ? err.message : err)));
  };
  (async () => {
    const a = f.args(values);
    const found = await platform.getJson("/v1/locations", { iso: a.iso, search: a.location, format: "json" });
    const match = (found.data || []).find((r) => r.location.toUpperCase() === a.location.toUpperCase());
    if (!match) throw invalid(`locations: unknown ${a.iso.toUpperCase()} location '${a.location}'`);
    if (cancelled) return;
    const iso = match.iso;
    let latest = null;
    let latestUtc = "";
    const show = () => onResult(latest
      ? table(LMP_COLUMNS, [latest])
      : [LMP_COLUMNS.slice(), [WAITING, ...LMP_COLUMNS.slice(1).map(() => "")]]);
    leave = platform.liveHub().join(iso, a.market, match.location, {
      onSubscribed: () => { if (!cancelled) show(); },
      onRows: (rows) => {
        // A message may hold many intervals (a replay, a day's commit) and revisions of
        // shown ones: show the newest interval, once per message.
        const newest = rows.reduce((a, b) => (b.interval_start >= a.interval_start ? b : a));
        if (cancelled || newest.interval_start < latestUtc) return;
        latestUtc = newest.interval_start;
        latest = {
          ...newest, interval_start: marketTime(newest.interval_start, iso), interval_end: marketTime(newest.interval_end, iso),
        };
        show();
      },
      onError: fail,
    });
  })().catch(fail);
  return {
    cancel() {
      cancelled = true;
      if (leave) leave();
    },
  };
}

/**
 * One WebSocket to /v1/stream shared by every LIVE cell of one credential. Subscribes per
 * (iso, market) with the union of its cells' locations (subscribing again replaces a
 * subscription), reconnects with `since` (the last interval_start seen) after a drop, a
 * failed handshake or a silence longer than timeoutMs, unsubscribes a channel when its last
 * cell leaves and closes when no cell is left.
 *
 * A cell hears `onSubscribed` once the platform confirms its location is streamed (at once
 * when it joins a location already streaming, followed by the newest rows seen there), then
 * `onRows` per message with rows of its location, or `onError` once when its subscription
 * cannot go on: refused, ended by the platform (`not_entitled`, the tenant lost the ISO or
 * dataset), or the credential refused (close 4401), which ends every cell of the hub. Other
 * channels carry on after a channel's refusal.
 */
export class LiveHub {
  constructor(platform, credential, onClosed) {
    this.platform = platform;
    this.credential = credential;
    this.onClosed = onClosed;
    // "ISO|MARKET" -> { key, iso, market, cells: Map(id -> cell), since, subscribed, confirmed, latest }
    this.channels = new Map();
    // Requests awaiting their answer, in the order sent ({ type, key }): the platform answers
    // a subscribe or unsubscribe in order, and a refusal names no channel, only its position.
    this.requests = [];
    this.socket = null;
    this.open = false;
    this.closing = null; // the error message the platform sent just before closing, if any
    this.nextId = 1;
    this.retryMs = platform.reconnectMs;
    this.retryTimer = null;
    this.checking = false; // entitlements are being re-checked after a 4403 close
    this.watchdog = null;
    this.connects = 0; // sockets opened, for tests and diagnostics
  }

  /** Add a cell listening to `location` of (iso, market); returns the function that removes it. */
  join(iso, market, location, listener) {
    const key = channelKey(iso, market);
    let channel = this.channels.get(key);
    if (!channel) {
      channel = { key, iso, market, cells: new Map(), since: null, subscribed: "", confirmed: null, latest: new Map() };
      this.channels.set(key, channel);
    }
    const id = this.nextId++;
    const cell = { location: location.toUpperCase(), listening: false, ...listener };
    channel.cells.set(id, cell);
    if (this.open) {
      this.subscribe(channel);
      // Its location already streams: no answer will come for it, so confirm it here (after
      // the caller holds the leave function, as a confirmation from the platform would be).
      if (channel.confirmed && channel.confirmed.has(cell.location)) {
        Promise.resolve().then(() => {
          if (channel.cells.get(id) === cell && !cell.listening) this.listening(channel, cell);
        });
      }
    } else {
      this.connect();
    }
    return () => this.leave(key, id);
  }

  leave(key, id) {
    const channel = this.channels.get(key);
    if (!channel || !channel.cells.delete(id)) return;
    if (channel.cells.size === 0) {
      this.channels.delete(key);
      if (this.open && channel.subscribed) this.request("unsubscribe", channel);
    } else if (this.open) {
      this.subscribe(channel);
    }
    if (this.channels.size === 0) this.close();
  }

  streamUrl() {
    const base = this.platform.baseUrl.replace(/^http/, "ws");
    return `${base}/v1/stream?token=${encodeURIComponent(this.credential)}`;
  }

  connect() {
    if (this.socket || this.retryTimer || this.checking || this.channels.size === 0) return;
    let socket;
    try {
      socket = new this.platform.WebSocket(this.streamUrl());
    } catch (err) {
      this.retryLater();
      return;
    }
    this.socket = socket;
    this.closing = null;
    this.connects += 1;
    this.armWatchdog();
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.open = true;
      this.retryMs = this.platform.reconnectMs;
      for (const channel of this.channels.values()) this.subscribe(channel, true);
    };
    socket.onmessage = (event) => {
      if (socket === this.socket) this.receive(event.data);
    };
    socket.onclose = (event) => this.closed(socket, event.code, event.reason);
    // A close event follows an error on an open socket; a failed handshake may end with the
    // error alone (Node's WebSocket), which must reconnect all the same.
    socket.onerror = () => {
      if (socket === this.socket && !this.open) this.closed(socket, 1006, "");
    };
  }

  send(message) {
    this.socket.send(JSON.stringify(message));
  }

  request(type, channel) {
    this.requests.push({ type, key: channel.key });
    const body = { type, dataset: "lmp", iso: channel.iso, market: channel.market };
    if (type === "subscribe") {
      const locations = channelLocations(channel);
      this.send({ ...body, locations, since: channel.since });
    } else {
      this.send(body);
    }
  }

  subscribe(channel, force = false) {
    const signature = channelLocations(channel).join(",");
    if (!force && signature === channel.subscribed) return;
    channel.subscribed = signature;
    this.request("subscribe", channel);
  }

  /** Remove the oldest request of `type` for `key` still awaiting its answer; whether there was one. */
  answered(type, key) {
    const at = this.requests.findIndex((r) => r.type === type && r.key === key);
    if (at >= 0) this.requests.splice(at, 1);
    return at >= 0;
  }

  armWatchdog() {
    if (this.watchdog) this.platform.clearTimeout(this.watchdog);
    // Heartbeats arrive every stream_heartbeat_s; silence this long means a dead connection.
    const limit = Math.max(this.platform.timeoutMs, 20000);
    const due = Date.now() + limit;
    this.watchdog = this.platform.setTimeout(() => {
      this.watchdog = null;
      const socket = this.socket;
      if (!socket) return;
      // Firing late means this thread was busy (a long recalculation), so messages may be
      // waiting unread: that is no silence of the platform, give it another period.
      if (Date.now() - due > Math.max(1000, limit / 4)) {
        this.armWatchdog();
        return;
      }
      try {
        socket.close(4000, "no message within the timeout");
      } catch (err) {
        // A socket whose handshake failed may refuse to close; it is dropped below either way.
      }
      this.closed(socket, 4000, "no message within the timeout");
    }, limit);
  }

  receive(text) {
    this.armWatchdog();
    let message;
    try {
      message = JSON.parse(text);
    } catch (err) {
      return;
    }
    const key = message.iso ? channelKey(String(message.iso), String(message.market)) : null;
    if (message.type === "subscribed") {
      this.answered("subscribe", key);
      const channel = this.channels.get(key);
      if (!channel) return;
      channel.confirmed = new Set(Array.isArray(message.locations)
        ? message.locations.map((l) => String(l).toUpperCase())
        : [...channel.cells.values()].map((c) => c.location));
      for (const cell of [...channel.cells.values()]) {
        if (!cell.listening && channel.confirmed.has(cell.location)) this.listening(channel, cell);
      }
    } else if (message.type === "unsubscribed") {
      this.answered("unsubscribe", key);
    } else if (message.type === "error") {
      this.error(message, key);
    } else if (message.type === "data") {
      const channel = this.channels.get(key);
      if (!channel) return;
      const byLocation = new Map();
      for (const row of message.data || []) {
        if (!channel.since || row.interval_start > channel.since) channel.since = row.interval_start;
        const location = String(row.location).toUpperCase();
        if (!byLocation.has(location)) byLocation.set(location, []);
        byLocation.get(location).push(row);
      }
      for (const [location, rows] of byLocation) channel.latest.set(location, rows);
      for (const c of [...channel.cells.values()]) {
        const rows = byLocation.get(c.location);
        if (rows) c.onRows(rows);
      }
    }
  }

  /** Tell `cell` it listens, with the newest rows already seen at its location. */
  listening(channel, cell) {
    cell.listening = true;
    if (cell.onSubscribed) cell.onSubscribed();
    const rows = channel.latest.get(cell.location);
    // onSubscribed may have cancelled the cell.
    if (rows && [...channel.cells.values()].includes(cell)) cell.onRows(rows);
  }

  error(message, key) {
    const code = typeof message.code === "string" ? message.code : null;
    if (key !== null) {
      // The platform ended this channel's subscription (the tenant lost the ISO or dataset);
      // it may be the answer to a subscribe just sent, which then gets no other.
      const head = this.requests[0];
      if (head && head.type === "subscribe" && head.key === key) this.requests.shift();
      const details = { status: 403, code: code || "not_entitled", parameter: message.parameter || null };
      this.endChannel(key, unavailable(message.message || "the platform ended the subscription", details));
    } else if (CLOSING_ERRORS.has(code)) {
      this.closing = message; // the close that follows decides what happens
    } else {
      const request = this.requests.shift();
      if (request && request.type === "subscribe") this.refused(request.key, message);
    }
  }

  /** A subscribe of channel `key` was refused: its cells not yet listening fail, the others carry on. */
  refused(key, message) {
    const channel = this.channels.get(key);
    if (!channel) return;
    const status = REFUSAL_STATUS[message.code] || null;
    const err = errorFromBody(status, message, "the stream refused the subscription");
    for (const [id, cell] of [...channel.cells]) {
      if (cell.listening) continue;
      channel.cells.delete(id);
      cell.onError(err);
    }
    if (channel.cells.size === 0) {
      // A refused subscribe leaves the platform's earlier subscription of the channel, if any.
      this.channels.delete(key);
      if (this.open && channel.confirmed) this.request("unsubscribe", channel);
      if (this.channels.size === 0) this.close();
    } else if (this.open) {
      this.subscribe(channel);
    }
  }

  /** End every cell of channel `key` with `err` (the platform no longer streams it to this credential). */
  endChannel(key, err) {
    const channel = this.channels.get(key);
    if (!channel) return;
    this.channels.delete(key);
    for (const cell of channel.cells.values()) cell.onError(err);
    if (this.channels.size === 0) this.close();
  }

  closed(socket, code, reason) {
    if (socket !== this.socket) return;
    if (this.watchdog) this.platform.clearTimeout(this.watchdog);
    this.watchdog = null;
    this.socket = null;
    this.open = false;
    const pending = this.requests;
    this.requests = [];
    const said = reason || (this.closing && this.closing.message) || "";
    for (const channel of this.channels.values()) {
      channel.subscribed = "";
      channel.confirmed = null;
      for (const cell of channel.cells.values()) cell.listening = false;
    }
    if (this.channels.size === 0) {
      this.close();
      return;
    }
    if (code === 4401) {
      const err = unavailable(
        `the platform no longer accepts this credential${said ? ` (${said})` : ""}: sign in again in the 254Carbon task pane`,
        { status: 401, code: "unauthenticated" },
      );
      const cells = [...this.channels.values()].flatMap((channel) => [...channel.cells.values()]);
      this.channels.clear();
      this.close();
      for (const cell of cells) cell.onError(err);
      return;
    }
    if (code === 4403) {
      this.recheckEntitlements(pending, said);
      return;
    }
    // Anything else (network, failed handshake, restart, slow consumer 4008, rate limit 4429,
    // broker 1013): resume with `since`.
    this.retryLater();
  }

  /**
   * After a 4403 close (a subscribe outside the tenant's entitlements ends the connection):
   * ask REST which of the channels then awaiting their subscribe the tenant may no longer
   * see, end those, and reconnect the others.
   */
  async recheckEntitlements(pending, said) {
    const keys = [...new Set(pending.filter((r) => r.type === "subscribe").map((r) => r.key))];
    const suspects = keys.map((k) => this.channels.get(k)).filter(Boolean);
    this.checking = true;
    let refused = [];
    try {
      const verdicts = await Promise.all(suspects.map(async (channel) => {
        const [location] = channelLocations(channel);
        try {
          await this.platform.getJson("/v1/locations", { iso: channel.iso, search: location, format: "json" }, this.credential);
          return null;
        } catch (err) {
          return err instanceof C254Error && err.status === 403 ? err : null;
        }
      }));
      refused = suspects.map((channel, i) => [channel, verdicts[i]]).filter(([, err]) => err);
      // The stream refused one of them even if REST now allows all: end them rather than
      // reconnect into the same refusal.
      if (!refused.length) {
        const err = unavailable(`not entitled to this stream${said ? `: ${said}` : ""}`, { status: 403, code: "not_entitled" });
        refused = suspects.map((channel) => [channel, err]);
      }
    } finally {
      this.checking = false;
    }
    for (const [channel, err] of refused) this.endChannel(channel.key, err);
    if (this.channels.size) this.retryLater();
  }

  retryLater() {
    if (this.retryTimer) return;
    this.retryTimer = this.platform.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, MAX_RECONNECT_MS);
  }

  close() {
    if (this.watchdog) this.platform.clearTimeout(this.watchdog);
    if (this.retryTimer) this.platform.clearTimeout(this.retryTimer);
    this.watchdog = null;
    this.retryTimer = null;
    const socket = this.socket;
    this.socket = null;
    this.open = false;
    this.requests = [];
    if (socket) {
      try {
        socket.close(1000, "no cell listens any more");
      } catch (err) {
        // Already failed: nothing left to close.
      }
    }
    this.onClosed();
  }

  /** Whether a socket is open or being opened. */
  get connected() {
    return this.socket !== null;
  }
}

function channelKey(iso, market) {
  return `${iso.toUpperCase()}|${market.toUpperCase()}`;
}

function channelLocations(channel) {
  return [...new Set([...channel.cells.values()].map((c) => c.location))].sort();
}

// Error codes the platform sends just before it closes the connection (the close code then
// says what to do); any other error without a channel answers the oldest open request.
const CLOSING_ERRORS = new Set(["unauthenticated", "rate_limited", "slow_consumer", "unavailable", "not_entitled"]);

// A refused subscribe's code as the REST status with the same meaning (a bad argument is
// the cell's mistake, anything else is not).
const REFUSAL_STATUS = {
  not_found: 404, not_published: 404, invalid_parameter: 422, missing_parameter: 422, too_many_locations: 422,
  range_too_long: 422,
};
