// metrics: liveMetrics as a rolling chart, one line per type or country.
// liveMetrics counts the events tracked since it started; so that the chart
// has a past when it opens, the by-type view is backfilled from
// eventDistribution over the same window at earlier moments (one query,
// one alias per moment).
import { gql } from '../api.js';
import { destroy, timeChart } from '../charts.js';
import { el, Panel } from '../panel.js';
import { live } from '../ws.js';

const points = 180;
const backfillSteps = 12;
const intervalSeconds = 2;

async function backfill(windowSeconds) {
  const now = Math.floor(Date.now() / 1000);
  const step = Math.max(intervalSeconds, Math.floor(windowSeconds / backfillSteps));
  const moments = [];
  for (let i = backfillSteps; i >= 1; i--) moments.push(now - i * step);
  const vars = {};
  const fields = moments.map((t, i) => {
    vars[`from${i}`] = new Date((t - windowSeconds) * 1000).toISOString();
    vars[`to${i}`] = new Date(t * 1000).toISOString();
    return `m${i}: eventDistribution(from: $from${i}, to: $to${i}) { type count }`;
  });
  const decl = moments.map((_, i) => `$from${i}: Time!, $to${i}: Time!`).join(', ');
  const data = await gql(`query MetricsBackfill(${decl}) { ${fields.join(' ')} }`, vars);
  return moments.map((t, i) => ({ at: t, groups: data[`m${i}`].map((g) => ({ key: g.type, count: g.count })) }));
}

export function startMetrics() {
  const p = new Panel('metrics');
  const bySel = document.getElementById('metrics-by');
  const winSel = document.getElementById('metrics-window');
  let stop = null;
  let chart = null;

  const open = async () => {
    if (stop) stop();
    destroy(chart);
    chart = null;
    p.loading();
    const by = bySel.value;
    const windowSeconds = Number(winSel.value);
    const xs = [];
    const byKey = new Map(); // key → counts aligned with xs
    const wrap = el('div', { class: 'chart' });
    const total = el('p', { class: 'note', 'aria-live': 'polite' });
    p.body.replaceChildren(total, wrap);

    const push = (at, groups) => {
      xs.push(at);
      for (const g of groups) if (!byKey.has(g.key)) byKey.set(g.key, new Array(xs.length - 1).fill(0));
      const counts = new Map(groups.map((g) => [g.key, g.count]));
      for (const [k, arr] of byKey) arr.push(counts.get(k) || 0);
      if (xs.length > points) {
        xs.shift();
        for (const arr of byKey.values()) arr.shift();
      }
    };
    let drawnKeys = '';
    const draw = () => {
      const keys = [...byKey.keys()];
      const label = (k) => (k === '' ? '(no country)' : k);
      if (keys.length === 0) keys.push('events');
      const ys = keys.map((k) => byKey.get(k) || xs.map(() => 0));
      if (chart && drawnKeys === keys.join()) {
        chart.setData([xs, ...ys]);
      } else {
        destroy(chart);
        wrap.replaceChildren();
        chart = timeChart(wrap, keys.map(label), xs, ys);
        drawnKeys = keys.join();
      }
    };

    try {
      if (by === 'TYPE') {
        for (const s of await backfill(windowSeconds)) push(s.at, s.groups);
        draw();
        p.ready();
        total.textContent = `Events per type in the last ${winSel.selectedOptions[0].text}; history from stored events, live from now.`;
      }
    } catch (err) {
      p.error(err);
      return;
    }
    stop = live.subscribe(
      'subscription Metrics($w: Int!, $by: LiveGroupBy!, $i: Int!) { liveMetrics(windowSeconds: $w, groupBy: $by, intervalSeconds: $i) { at windowSeconds total groups { key count } } }',
      { w: windowSeconds, by, i: intervalSeconds },
      {
        next: (d) => {
          const m = d.liveMetrics;
          push(Math.floor(Date.parse(m.at) / 1000), m.groups);
          draw();
          total.textContent = `${m.total} event(s) tracked in the last ${winSel.selectedOptions[0].text} (live, every ${intervalSeconds} s).`;
          if (p.el.dataset.state !== 'ready') p.ready();
        },
        error: (err) => p.error(err),
      },
    );
  };
  bySel.addEventListener('change', open);
  winSel.addEventListener('change', open);
  open();
}
