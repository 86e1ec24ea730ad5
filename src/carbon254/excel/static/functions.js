// Registers the C254 custom functions with Office and holds the signed-in credential.
//
// Loaded by taskpane.html, the page of the add-in's shared runtime: the task pane and the
// functions run in one JavaScript context, so the key signed in with there is the one every
// function sends, and every request is same-origin (the platform serves this file).

import { C254Error, ErrorKind, FUNCTIONS, Platform, invoke, startLive } from "./c254.js";

const CREDENTIAL_KEY = "carbon254.excel.credential";

/** The signed-in API key or OIDC token, or null (kept in the add-in's own storage). */
export function readCredential() {
  try {
    return globalThis.localStorage.getItem(CREDENTIAL_KEY);
  } catch (err) {
    return null;
  }
}

/** Remember `value` as the credential (null or blank signs out). */
export function saveCredential(value) {
  if (value && value.trim()) globalThis.localStorage.setItem(CREDENTIAL_KEY, value.trim());
  else globalThis.localStorage.removeItem(CREDENTIAL_KEY);
}

let shared = null;

/** The platform this add-in was served by (the directory above /excel/), created once. */
export function sharedPlatform() {
  if (!shared) {
    shared = new Platform({
      baseUrl: new URL("..", import.meta.url).href,
      credential: readCredential,
      fetch: globalThis.fetch.bind(globalThis),
      WebSocket: globalThis.WebSocket,
      setTimeout: globalThis.setTimeout.bind(globalThis),
      clearTimeout: globalThis.clearTimeout.bind(globalThis),
    });
  }
  return shared;
}

/** A failure as the Excel error Office shows: #VALUE! or #N/A with the message as its tooltip. */
export function excelError(customFunctions, err) {
  const known = err instanceof C254Error;
  const code = customFunctions.ErrorCode[known ? err.kind : ErrorKind.NOT_AVAILABLE]
    || customFunctions.ErrorCode.notAvailable;
  return new customFunctions.Error(code, known ? err.message : `unexpected failure: ${err && err.message ? err.message : err}`);
}

/**
 * Associate every function of the table with `customFunctions` (Office's CustomFunctions),
 * each running against `platform()`. Request functions resolve to a matrix or throw the
 * Excel error; LIVE (a streaming function) sets results until Excel cancels it.
 */
export function register(customFunctions, platform) {
  for (const f of FUNCTIONS) {
    const arity = f.parameters.length;
    if (f.stream) {
      customFunctions.associate(f.id, (...values) => {
        const invocation = values[values.length - 1];
        const live = startLive(platform(), values.slice(0, arity), {
          onResult: (matrix) => invocation.setResult(matrix),
          onError: (err) => invocation.setResult(excelError(customFunctions, err)),
        });
        invocation.onCanceled = () => live.cancel();
      });
    } else {
      customFunctions.associate(f.id, async (...values) => {
        try {
          return await invoke(platform(), f.id, values.slice(0, arity));
        } catch (err) {
          throw excelError(customFunctions, err);
        }
      });
    }
  }
}

if (typeof CustomFunctions !== "undefined") register(CustomFunctions, sharedPlatform);
