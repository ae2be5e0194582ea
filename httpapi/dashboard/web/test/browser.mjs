// The dashboard in a real browser: Debian's Chromium driven by
// playwright-core against a running Meridian (started by the Go test
// TestDashboardInBrowser). Prints "ok …" / "FAIL …" lines and exits 1 on any
// failure. Environment: BASE_URL, ADMIN_KEY (an ADMIN API key), SHOT_DIR
// (where the panel screenshots go), CHROMIUM (default /usr/bin/chromium).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

const base = process.env.BASE_URL;
const adminKey = process.env.ADMIN_KEY;
const shots = process.env.SHOT_DIR;
const panels = ['live', 'metrics', 'retention', 'map', 'segments', 'purchases', 'health'];
const controls = ['key-input', 'live-pause', 'metrics-by', 'metrics-window', 'retention-period', 'retention-intervals', 'retention-type', 'retention-from', 'retention-to', 'purchases-by', 'purchases-range', 'health-refresh'];
let failures = 0;
const ok = (m) => console.log(`ok   ${m}`);
const fail = (m) => {
  failures++;
  console.log(`FAIL ${m}`);
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

async function states(page) {
  return page.$$eval('section[data-panel]', (ss) => ss.map((s) => ({ name: s.dataset.panel, state: s.dataset.state, status: s.querySelector('.status').textContent })));
}

async function waitStates(page, want, what, timeout = 30000) {
  try {
    await page.waitForFunction((w) => [...document.querySelectorAll('section[data-panel]')].every((s) => s.dataset.state === w), want, { timeout });
    ok(`${what}: every panel is ${want}`);
    return true;
  } catch {
    for (const s of await states(page)) if (s.state !== want) fail(`${what}: panel ${s.name} is ${s.state}, want ${want}: ${s.status}`);
    return false;
  }
}

async function noOverflow(page, width) {
  await page.setViewportSize({ width, height: 900 });
  await page.waitForTimeout(600);
  const { scroll, inner, wide } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
    wide: [...document.querySelectorAll('section[data-panel]')].filter((s) => s.getBoundingClientRect().right > window.innerWidth + 1).map((s) => s.dataset.panel),
  }));
  if (scroll > inner || wide.length > 0) fail(`${width} px: page is ${scroll} px wide (panels past the edge: ${wide.join(', ') || 'none'})`);
  else ok(`${width} px: no horizontal overflow (scrollWidth ${scroll})`);
}

function watchConsole(page, errors) {
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  await mkdir(shots, { recursive: true });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const errors = [];
  watchConsole(page, errors);
  await page.goto(`${base}/dashboard`);
  await waitStates(page, 'ready', 'anonymous analyst');

  // An event tracked after the page opened shows in live within 2 s.
  const users = await gql('{ users(first: 1) { edges { node { id } } } }', {}, adminKey);
  const userId = users.users.edges[0].node.id;
  const track = (city) => gql('mutation T($in: TrackEventInput!) { trackEvent(input: $in) { id } }',
    { in: { userId, type: 'click', geo: { country: 'FR', city, lon: 2.35, lat: 48.86 } } }, adminKey);
  const t0 = Date.now();
  const tracked = await track('Browsertown');
  try {
    await page.locator(`section[data-panel="live"] tr[data-event-id="${tracked.trackEvent.id}"]`).waitFor({ timeout: Math.max(0, 2000 - (Date.now() - t0)) });
    ok(`live: the tracked event appeared after ${Date.now() - t0} ms`);
  } catch {
    fail(`live: event ${tracked.trackEvent.id} did not appear within 2 s`);
  }

  // Pause holds new events back; Resume shows them.
  await page.click('#live-pause');
  const held = await track('Pausetown');
  await page.waitForFunction(() => /held back/.test(document.querySelector('section[data-panel="live"] .note').textContent) && /1 new/.test(document.querySelector('section[data-panel="live"] .note').textContent), null, { timeout: 3000 })
    .then(() => ok('live: paused, the new event is held back'), () => fail('live: pause did not hold the new event back'));
  if (await page.locator(`tr[data-event-id="${held.trackEvent.id}"]`).count() !== 0) fail('live: a held event is shown while paused');
  await page.click('#live-pause');
  await page.locator(`tr[data-event-id="${held.trackEvent.id}"]`).waitFor({ timeout: 2000 })
    .then(() => ok('live: resumed, the held event is shown'), () => fail('live: the held event did not appear on resume'));

  // Every control is reachable with Tab.
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  const reached = new Set();
  for (let i = 0; i < 120 && reached.size < controls.length; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => document.activeElement && document.activeElement.id);
    if (controls.includes(id)) reached.add(id);
  }
  const missed = controls.filter((c) => !reached.has(c));
  if (missed.length) fail(`keyboard: Tab never reached ${missed.join(', ')}`);
  else ok(`keyboard: Tab reaches all ${controls.length} controls`);

  // A control changes the query: retention by month, recurring.
  await page.selectOption('#retention-period', 'MONTH');
  await page.selectOption('#retention-type', 'RECURRING');
  await page.click('#retention-form button[type="submit"]');
  await page.waitForFunction(() => /recurring cohort/.test(document.querySelector('section[data-panel="retention"] .status').textContent), null, { timeout: 10000 })
    .then(() => ok('retention: monthly recurring cohorts drawn'), () => fail('retention: the controls did not redraw the grid'));

  await noOverflow(page, 390);
  await page.screenshot({ path: join(shots, 'phone.png'), fullPage: true });
  await noOverflow(page, 1280);

  // An ADMIN key, typed into the form, unlocks the cache and bus figures.
  await page.focus('#key-input');
  await page.keyboard.type(adminKey);
  await page.keyboard.press('Enter');
  await page.waitForLoadState('load');
  await waitStates(page, 'ready', 'admin key');
  const parts = await page.$$eval('section[data-panel="health"] [data-part]', (es) => es.map((e) => e.dataset.part));
  if (parts.includes('cache') && parts.includes('bus')) ok(`health: with the admin key it shows ${parts.join(', ')}`);
  else fail(`health: with the admin key it shows ${parts.join(', ')}, want cache and bus`);
  const stored = await page.evaluate(() => ({ session: sessionStorage.getItem('meridian.apiKey'), local: localStorage.length }));
  if (stored.session !== adminKey || stored.local !== 0) fail(`key storage: sessionStorage ${stored.session ? 'has a key' : 'empty'}, localStorage ${stored.local} item(s)`);
  else ok('key storage: sessionStorage only');
  await page.waitForTimeout(300);
  for (const name of panels) await page.locator(`section[data-panel="${name}"]`).screenshot({ path: join(shots, `${name}.png`) });
  await page.screenshot({ path: join(shots, 'dashboard.png'), fullPage: true });
  ok(`screenshots in ${shots}`);
  if (errors.length) for (const e of errors) fail(`console error: ${e}`);
  else ok('no console errors');
  await ctx.close();

  // A revoked key: the panels' queries fail and say so.
  const created = await gql('mutation { createApiKey(name: "dashboard-revoked", role: ANALYST) { key apiKey { id } } }', {}, adminKey);
  const ctx2 = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await ctx2.addInitScript((k) => sessionStorage.setItem('meridian.apiKey', k), created.createApiKey.key);
  const page2 = await ctx2.newPage();
  const errors2 = [];
  watchConsole(page2, errors2);
  await page2.goto(`${base}/dashboard/`);
  await waitStates(page2, 'ready', 'analyst key');
  await gql('mutation R($id: String!) { revokeApiKey(id: $id) }', { id: created.createApiKey.apiKey.id }, adminKey);
  await page2.click('#health-refresh');
  await page2.waitForFunction(() => document.querySelector('section[data-panel="health"]').dataset.state === 'error', null, { timeout: 5000 })
    .then(() => ok('health: after the key was revoked, refresh shows error'), () => fail('health: still not error after the key was revoked'));
  await page2.reload();
  if (await waitStates(page2, 'error', 'revoked key')) {
    const msg = await page2.textContent('section[data-panel="segments"] .status');
    if (/refused the credentials/.test(msg)) ok(`error message: "${msg.slice(0, 90)}…"`);
    else fail(`error message does not say what to do: ${msg}`);
    if (await page2.getAttribute('#key-form', 'data-wanted') === 'true') ok('the key form asks for another key');
    else fail('the key form does not ask for a key');
  }
  await page2.locator('section[data-panel="health"]').screenshot({ path: join(shots, 'error.png') });
  // The browser itself logs each refused request; anything else fails.
  const unexpected = errors2.filter((e) => !/status of 401/.test(e));
  if (unexpected.length) for (const e of unexpected) fail(`console error (revoked key): ${e}`);
  else ok(`revoked key: only the browser's own ${errors2.length} "401" network lines in the console`);
  await ctx2.close();
} catch (err) {
  fail(`script: ${err.stack || err}`);
} finally {
  await browser.close();
}
console.log(failures === 0 ? 'browser checks passed' : `${failures} browser check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
