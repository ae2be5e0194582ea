// Runs graphql-http's GraphQL-over-HTTP server audit (the one
// graphql-http.com runs) against a running Meridian /query endpoint, prints
// every result and the totals, and exits non-zero unless every audit is ok.
//
//   node audit.mjs http://127.0.0.1:8080/query
//
// AUDIT_API_KEY is sent as X-API-Key on every request: a production server
// has no anonymous access, and the audit's requests must reach GraphQL
// rather than stop at a 401. The audit's queries use __type, so the server
// must allow introspection (MERIDIAN_INTROSPECTION=true in production).
import { auditServer } from 'graphql-http';

const url = process.argv[2] || process.env.AUDIT_URL;
if (!url) {
  console.error('usage: node audit.mjs URL (or AUDIT_URL)');
  process.exit(2);
}
const key = process.env.AUDIT_API_KEY;
const fetchFn = key
  ? (input, init = {}) => {
      const headers = new Headers(init.headers);
      headers.set('X-API-Key', key);
      return fetch(input, { ...init, headers });
    }
  : fetch;

const results = await auditServer({ url, fetchFn });
const totals = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const r of results) {
  totals[r.status] = (totals[r.status] ?? 0) + 1;
  let line = `${r.status.padEnd(5)} ${r.id} ${r.name}`;
  if (r.status !== 'ok') {
    line += `\n      ${r.reason}`;
    if (r.response) {
      // The audit hands back the failing response: show what came back.
      const body = await r.response.text().catch(() => '');
      line += `\n      got ${r.response.status} ${r.response.headers.get('content-type') ?? '(no Content-Type)'} ${body.slice(0, 300)}`;
    }
  }
  console.log(line);
}
console.log(`\n${totals.ok} ok, ${totals.notice} notices, ${totals.warn} warnings, ${totals.error} errors (${results.length} audits)`);
process.exit(totals.ok === results.length ? 0 : 1);
