// The dashboard's only way to the server: Meridian's public GraphQL API,
// POST /query over HTTP, with the API key (if any) from sessionStorage.

const keyName = 'meridian.apiKey';

export function apiKey() {
  return sessionStorage.getItem(keyName) || '';
}

export function setAPIKey(key) {
  if (key) sessionStorage.setItem(keyName, key);
  else sessionStorage.removeItem(keyName);
}

// APIError is a failed request with the server's words and code
// (extensions.code, or HTTP_<status> / NETWORK when there was none).
export class APIError extends Error {
  constructor(message, code, status = 0) {
    super(message);
    this.code = code;
    this.status = status;
  }

  // needsKey tells whether another key could make the request succeed.
  get needsKey() {
    return this.code === 'UNAUTHENTICATED' || this.code === 'FORBIDDEN' || this.status === 401;
  }
}

export async function gql(query, variables = {}) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json, application/json' };
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let res;
  try {
    res = await fetch('/query', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch (err) {
    throw new APIError(`cannot reach the server: ${err.message}`, 'NETWORK');
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new APIError(`the server answered ${res.status} ${res.statusText} without a GraphQL response`, `HTTP_${res.status}`, res.status);
  }
  if (body.errors && body.errors.length > 0) {
    const e = body.errors[0];
    throw new APIError(e.message, (e.extensions && e.extensions.code) || `HTTP_${res.status}`, res.status);
  }
  if (!res.ok || !body.data) {
    throw new APIError(`the server answered ${res.status} ${res.statusText}`, `HTTP_${res.status}`, res.status);
  }
  return body.data;
}

// isoDaysAgo is the RFC 3339 time days before now, at the start of that
// UTC day (so that repeated queries share the server's cache entries).
export function isoDaysAgo(days) {
  const d = new Date();
  d.setUTCHours(0, 0, 0, 0);
  d.setUTCDate(d.getUTCDate() - days);
  return d.toISOString();
}
