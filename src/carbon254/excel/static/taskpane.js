// The task pane: sign in (API key or OIDC access token) and browse an ISO's priced locations.
//
// Shares the runtime with the functions (see functions.js): signing in here is what every
// C254 function then sends. Location names clicked in the list go into the selected cell.

import { C254Error } from "./c254.js";
import { readCredential, saveCredential, sharedPlatform } from "./functions.js";

const $ = (id) => document.getElementById(id);

function status(id, text, isError = false) {
  const element = $(id);
  element.textContent = text;
  element.classList.toggle("error", isError);
}

function message(err) {
  return err instanceof C254Error ? err.message : `unexpected failure: ${err && err.message ? err.message : err}`;
}

function showSignedIn(signedIn) {
  $("signin-form").hidden = signedIn;
  $("signed-out").hidden = signedIn;
  $("signed-in").hidden = !signedIn;
}

// A search that matches nothing: a cheap request that still checks the credential.
const CHECK_SEARCH = "-carbon254-signin-check-";

async function signIn(event) {
  event.preventDefault();
  const value = $("credential").value.trim();
  if (!value) {
    status("signin-status", "Paste an API key or access token first.", true);
    return;
  }
  const previous = readCredential();
  saveCredential(value);
  status("signin-status", "Checking...");
  try {
    await sharedPlatform().getJson("/v1/locations", { search: CHECK_SEARCH, format: "json" });
  } catch (err) {
    saveCredential(previous);
    status("signin-status", `Not signed in: ${message(err)}`, true);
    return;
  }
  $("credential").value = "";
  showSignedIn(true);
  status("signin-status", "Recalculate (Ctrl+Alt+F9) to refresh C254 cells.");
}

function signOut() {
  saveCredential(null);
  showSignedIn(false);
  status("signin-status", "Signed out.");
}

async function putInSelectedCell(name) {
  try {
    await Excel.run(async (context) => {
      context.workbook.getSelectedRange().getCell(0, 0).values = [[name]];
      await context.sync();
    });
  } catch (err) {
    status("browse-status", `Could not write to the sheet: ${err.message || err}`, true);
  }
}

async function browse(event) {
  event.preventDefault();
  const rows = $("locations").tBodies[0];
  rows.replaceChildren();
  status("browse-status", "Searching...");
  let found;
  try {
    const search = $("search").value.trim();
    found = await sharedPlatform().getRows("/v1/locations", { iso: $("iso").value, search: search || null, format: "json" });
  } catch (err) {
    status("browse-status", message(err), true);
    return;
  }
  status("browse-status", `${found.length} location${found.length === 1 ? "" : "s"}`);
  for (const location of found) {
    const row = rows.insertRow();
    const name = row.insertCell();
    name.className = "name";
    name.textContent = location.location;
    name.title = "Put this name in the selected cell";
    name.addEventListener("click", () => putInSelectedCell(location.location));
    row.insertCell().textContent = location.location_type;
    row.insertCell().textContent = location.source;
  }
}

function start() {
  showSignedIn(Boolean(readCredential()));
  $("signin-form").addEventListener("submit", signIn);
  $("signout").addEventListener("click", signOut);
  $("browse-form").addEventListener("submit", browse);
}

if (typeof Office !== "undefined") Office.onReady(start);
else start();
