// A panel is a <section data-panel="NAME">: data-state is loading, ready
// (drawn with data) or error (with a readable message in .status), so that
// tests and people can tell.

export class Panel {
  constructor(name) {
    this.name = name;
    this.el = document.querySelector(`section[data-panel="${name}"]`);
    this.status = this.el.querySelector('.status');
    this.body = this.el.querySelector('.body');
  }

  loading(text = 'Loading…') {
    this.el.dataset.state = 'loading';
    this.status.textContent = text;
  }

  ready(text = '') {
    this.el.dataset.state = 'ready';
    this.status.textContent = text;
  }

  error(err) {
    this.el.dataset.state = 'error';
    this.status.textContent = describe(err);
    if (err && err.needsKey) askForKey(this.name);
  }

  // run draws the panel with draw(), turning a failure into the error state.
  async run(draw) {
    try {
      await draw();
    } catch (err) {
      this.error(err);
    }
  }
}

// describe says what went wrong in words a person can act on.
export function describe(err) {
  const msg = (err && err.message) || String(err);
  if (!err || !err.code) return `Could not load: ${msg}`;
  if (err.status === 401 || err.code === 'UNAUTHENTICATED') {
    return `The server refused the credentials (${msg}). Enter a valid API key above, or forget the key to read as the anonymous role.`;
  }
  if (err.code === 'FORBIDDEN') return `Your role may not read this (${msg}). Enter an API key with that role above.`;
  return `Could not load (${err.code}): ${msg}`;
}

// askForKey points at the key form: a panel needs a key the page lacks.
export function askForKey(panelName) {
  const form = document.getElementById('key-form');
  form.dataset.wanted = 'true';
  const hint = document.getElementById('key-hint');
  hint.textContent = `The ${panelName} panel needs an API key with a stronger role. Kept in this browser tab only (sessionStorage).`;
}

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

export function table(headers, rows, attrs = {}) {
  const t = el('table', attrs);
  t.append(el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col', text: h })))));
  const tb = el('tbody');
  for (const r of rows) tb.append(r instanceof HTMLElement ? r : el('tr', {}, ...r.map((c) => (c instanceof HTMLElement ? c : el('td', { text: c })))));
  t.append(tb);
  return el('div', { class: 'table-wrap' }, t);
}

export const fmt = {
  int: (n) => Math.round(n).toLocaleString('en-US'),
  money: (n) => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }),
  pct: (x) => `${(x * 100).toFixed(1)}%`,
  time: (iso) => new Date(iso).toISOString().replace('T', ' ').slice(0, 19) + ' UTC',
  date: (iso) => new Date(iso).toISOString().slice(0, 10),
};
