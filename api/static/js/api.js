// Calls to the kcrm API: the key on every request, progress while waiting, problems as errors.
import { t } from "./i18n.js";

const KEY = "kcrm.apiKey";

export const session = {
  get key() { return sessionStorage.getItem(KEY); },
  signIn(key) { sessionStorage.setItem(KEY, key); },
  signOut() { sessionStorage.removeItem(KEY); },
};

/** An RFC 9457 problem (or a network failure, status 0) from a call. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(`${problem.title}: ${problem.detail}`);
    this.status = status;
    this.problem = problem;
  }
  // 401 only: a 403 is a valid key without the role a page needs (an agent opening the analyst-only
  // knowledge-risk page): shown as a problem on that page, not a reason to sign the person out.
  get unauthorized() { return this.status === 401; }
}

let pending = 0;
const listeners = new Set();

/** Called with true while any request is in flight, false when all are done. */
export function onBusy(listener) { listeners.add(listener); }

function busy(delta) {
  pending += delta;
  for (const listener of listeners) listener(pending > 0);
}

let unauthorizedHandler = () => {};
/** What to do when the server rejects the key (401). */
export function onUnauthorized(handler) { unauthorizedHandler = handler; }

async function problemOf(response) {
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    if (body && typeof body === "object" && "title" in body) {
      return { title: body.title, detail: body.detail || "", errors: body.errors, status: response.status };
    }
    if (body && body.detail) return { title: response.statusText, detail: String(body.detail), status: response.status };
  } catch { /* not JSON */ }
  return { title: response.statusText || `HTTP ${response.status}`, detail: text.slice(0, 300), status: response.status };
}

/** GET (or POST with `body`) an API path; resolves to the parsed JSON, rejects with ApiError. */
export async function call(path, { params = {}, body, method } = {}) {
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : [value]) if (v != null && v !== "") url.searchParams.append(name, v);
  }
  const headers = { Accept: "application/json" };
  if (session.key) headers.Authorization = `Bearer ${session.key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  busy(+1);
  let response;
  try {
    response = await fetch(url, {
      method: method || (body !== undefined ? "POST" : "GET"), headers,
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (err) {
    throw new ApiError(0, { title: t("error.network"), detail: t("error.network.detail"), status: 0 });
  } finally {
    busy(-1);
  }
  if (!response.ok) {
    const error = new ApiError(response.status, await problemOf(response));
    if (error.unauthorized) unauthorizedHandler(error);
    throw error;
  }
  return response.json();
}
