// GraphiQL in a real browser with no network beyond loopback: Debian's
// Chromium driven by playwright-core against a running Meridian (started by
// the Go test TestGraphiQLInBrowser). Every request to a host other than
// 127.0.0.1 or localhost is aborted and counted, and the browser's resolver
// knows no other name, as on an air-gapped machine. Prints "ok …" / "FAIL …"
// lines and exits 1 on any failure. Environment: BASE_URL, ADMIN_KEY (an
// ADMIN API key), SHOT_DIR (where the screenshot goes), CHROMIUM (default
// /usr/bin/chromium).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

const base = process.env.BASE_URL;
const adminKey = process.env.ADMIN_KEY;
const shots = process.env.SHOT_DIR;
let failures = 0;
const t0 = Date.now();
const ok = (m) => console.log(`ok   ${m} (${Date.now() - t0} ms)`);
const fail = (m) => {
  failures++;
  console.log(`FAIL ${m} (${Date.now() - t0} ms)`);
};
const check = (cond, good, bad) => (cond ? ok(good) : fail(bad));
const loopback = (url) => {
  const { protocol, hostname } = new URL(url);
  if (protocol === 'data:' || protocol === 'blob:') return true;
  return ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
};

async function gql(query, variables, key) {
  const res = await fetch(`${base}/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(`${query.slice(0, 40)}…: ${JSON.stringify(body.errors)}`);
  return body.data;
}

// The text of one of GraphiQL's monaco models (operation.graphql,
// request-headers.json, response.json, …), through the monaco instance
// GraphiQL itself exposes as globalThis.__MONACO. Each helper is a function
// of its own, not a string: the page's CSP refuses eval, which a string
// predicate of waitForFunction needs.
const readModel = (page, name) =>
  page.evaluate((n) => globalThis.__MONACO?.editor.getModels().find((m) => m.uri.path.endsWith(n))?.getValue() ?? '', name);
const setModel = (page, name, text) =>
  page.evaluate(([n, t]) => globalThis.__MONACO.editor.getModels().find((m) => m.uri.path.endsWith(n)).setValue(t), [name, text]);
const waitModel = (page, name, re, timeout) =>
  page.waitForFunction(([n, src]) => new RegExp(src).test(globalThis.__MONACO?.editor.getModels().find((m) => m.uri.path.endsWith(n))?.getValue() ?? ''),
    [name, re.source], { timeout });
// setQuery sets the operation and returns once GraphiQL has parsed it: the
// operation's kind decides the transport (a subscription goes over the
// WebSocket), and GraphiQL reads it from the editor only after a debounce,
// before it stores the tab (graphiql:tabState) after another.
const setQuery = async (page, query) => {
  await setModel(page, 'operation.graphql', query);
  await page.waitForFunction((q) => (localStorage.getItem('graphiql:tabState') ?? '').includes(q), query, { timeout: 10000 });
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // No name but the loopback ones resolves, whatever the page or Chromium
  // itself asks for; the route below also aborts and counts such requests.
  args: ['--no-sandbox', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1'],
});
try {
  await mkdir(shots, { recursive: true });
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const outside = [];
  const requests = [];
  await ctx.route('**/*', (route) => {
    const url = route.request().url();
    if (loopback(url)) return route.continue();
    outside.push(url);
    return route.abort('blockedbyclient');
  });
  const page = await ctx.newPage();
  const errors = [];
  const sockets = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
  let received = 0;
  page.on('requestfinished', async (r) => {
    received += (await r.sizes().catch(() => ({ responseBodySize: 0 }))).responseBodySize;
  });
  page.on('request', (r) => {
    requests.push(r.url());
    if (!loopback(r.url())) outside.push(r.url());
  });
  page.on('websocket', (ws) => {
    sockets.push(ws.url());
    if (!loopback(ws.url())) outside.push(ws.url());
  });
  // Chromium reports each CSP violation here (and in the console).
  await page.addInitScript(() => {
    globalThis.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => globalThis.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });

  const res = await page.goto(`${base}/`);
  check(res.status() === 200 && /script-src 'self'/.test(res.headers()['content-security-policy'] || ''),
    `GET /: 200 under CSP "${res.headers()['content-security-policy']}"`, `GET /: ${res.status()}, CSP ${res.headers()['content-security-policy']}`);

  // The editors are monaco's; the schema arrives by introspection. The
  // timeouts are generous: a CI machine of 2 cores runs other packages'
  // tests meanwhile, and the page parses some 6 MB of script.
  await page.locator('.graphiql-query-editor .monaco-editor').waitFor({ timeout: 60000 });
  await waitModel(page, 'operation.graphql', /./, 20000);
  ok('the query editor is up');
  const workers = () => page.workers().map((w) => new URL(w.url()).pathname).sort();

  // A query, set in the editor and run with the toolbar's button.
  const query = '{ countries(first: 3) { edges { node { code name } } } }';
  await setQuery(page, query);
  await page.click('.graphiql-execute-button');
  try {
    await waitModel(page, 'response.json', /"countries"/, 30000);
    const body = JSON.parse(await readModel(page, 'response.json'));
    const nodes = body.data?.countries?.edges?.map((e) => e.node) ?? [];
    check(nodes.length === 3 && nodes.every((n) => n.code && n.name),
      `query: the result pane shows ${nodes.map((n) => n.code).join(', ')}`, `query: result ${JSON.stringify(body).slice(0, 200)}`);
    const shown = await page.locator('.graphiql-response').innerText();
    check(nodes.length > 0 && shown.includes(nodes[0].name), 'query: the data is rendered in the result pane', `query: the result pane shows ${shown.slice(0, 200)}`);
  } catch (e) {
    fail(`query: no result within 30 s: ${(await readModel(page, 'response.json')).slice(0, 200)} ${e.message}`);
  }

  // Completion and validation run in the graphql worker: a field that
  // does not exist is marked.
  await setQuery(page, '{ nosuchfield }');
  await page.waitForFunction(() => globalThis.__MONACO.editor.getModelMarkers({}).some((m) => /nosuchfield/.test(m.message)), null, { timeout: 20000 })
    .then(() => ok('validation: the graphql worker marks an unknown field'), () => fail('validation: no marker for an unknown field'));
  const running = workers();
  check(['/graphiql/editor.worker.js', '/graphiql/graphql.worker.js'].every((w) => running.includes(w)),
    `workers from the same origin: ${running.join(', ')}`, `workers: ${running.join(', ') || 'none'}`);

  // The explorer plugin opens and lists the schema's query fields.
  await page.click('button[aria-label="Show GraphiQL Explorer"]');
  await page.locator('.graphiql-explorer-root').waitFor({ timeout: 15000 })
    .then(() => ok('explorer: the panel opens'), () => fail('explorer: the panel did not open'));
  const explorer = await page.locator('.graphiql-explorer-root').innerText().catch(() => '');
  check(/countries/.test(explorer) && /users/.test(explorer), 'explorer: it lists countries and users', `explorer shows: ${explorer.slice(0, 200)}`);
  await page.screenshot({ path: join(shots, 'graphiql.png') });

  // A subscription over graphql-transport-ws, authenticated by the key in
  // the headers editor (sent as connection_init's payload): one tracked
  // event arrives in the result pane.
  await setModel(page, 'request-headers.json', JSON.stringify({ Authorization: `Bearer ${adminKey}` }));
  await setQuery(page, 'subscription Live { eventTracked { id type } }');
  await setModel(page, 'response.json', '');
  await page.click('.graphiql-execute-button');
  const users = await gql('{ users(first: 1) { edges { node { id } } } }', {}, adminKey);
  const userId = users.users.edges[0].node.id;
  let tracked;
  const deadline = Date.now() + 20000;
  // The socket and its subscribe message go out asynchronously: track until
  // the pane shows an event (one, normally).
  while (Date.now() < deadline) {
    tracked = (await gql('mutation T($in: TrackEventInput!) { trackEvent(input: $in) { id } }', { in: { userId, type: 'click' } }, adminKey)).trackEvent.id;
    if (await waitModel(page, 'response.json', new RegExp(`"id": "${tracked}"`), 1500).then(() => true, () => false)) break;
    tracked = null;
  }
  check(tracked && sockets.some((u) => new URL(u).pathname === '/query'),
    `subscription: event ${tracked} arrived over ${sockets.join(', ')}`, `subscription: nothing arrived (sockets: ${sockets.join(', ') || 'none'}): ${(await readModel(page, 'response.json')).slice(0, 200)}`);
  await page.click('.graphiql-execute-button'); // stop it

  // GraphiQL keeps headers only when asked to (shouldPersistHeaders, off):
  // the key must not outlive the tab in localStorage, once the tabs'
  // debounced store has run.
  await page.waitForTimeout(700);
  const stored = await page.evaluate((k) => Object.entries(localStorage).filter(([, v]) => v.includes(k)).map(([name]) => name), adminKey);
  check(stored.length === 0, 'storage: the API key is not kept in localStorage', `storage: the API key is in localStorage under ${stored.join(', ')}`);

  const violations = await page.evaluate(() => globalThis.__violations);
  check(violations.length === 0, 'CSP: no violation', `CSP violations: ${violations.join('; ')}`);
  check(outside.length === 0, `network: ${requests.length} requests (${(received / 1048576).toFixed(1)} MiB received), all to loopback; 0 outside`, `network: ${outside.length} request(s) outside loopback: ${[...new Set(outside)].slice(0, 10).join(', ')}`);
  if (errors.length) for (const e of errors) fail(`console error: ${e}`);
  else ok('no console errors');
  await ctx.close();
} catch (err) {
  fail(`script: ${err.stack || err}`);
} finally {
  await browser.close();
}
console.log(failures === 0 ? 'browser checks passed' : `${failures} browser check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
