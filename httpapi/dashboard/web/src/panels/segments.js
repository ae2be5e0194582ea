// segments: segmentReport (users, share, average LTV, insight) and the
// distributions of churn probability and lifetime value over a sample of
// users' engine scores.
import { gql } from '../api.js';
import { barChart, palette } from '../charts.js';
import { el, fmt, Panel, table } from '../panel.js';

const sample = 1000;
const query = `query Segments($n: Int!) {
  segmentReport { segment users share avgLtv insight }
  users(first: $n) { totalCount edges { node { profile { churnProbability ltv } } } }
}`;

// histogram counts values into bins of equal width over [lo, hi].
export function histogram(values, bins, lo, hi) {
  const counts = new Array(bins).fill(0);
  const w = (hi - lo) / bins || 1;
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / w)))]++;
  const labels = counts.map((_, i) => `${(lo + i * w).toFixed(hi - lo <= 1 ? 1 : 0)}–${(lo + (i + 1) * w).toFixed(hi - lo <= 1 ? 1 : 0)}`);
  return { labels, counts };
}

export function startSegments() {
  const p = new Panel('segments');
  p.run(async () => {
    const data = await gql(query, { n: sample });
    const rows = data.segmentReport.map((s) => [el('td', {}, el('span', { class: `tag s-${s.segment}`, text: s.segment })), fmt.int(s.users), fmt.pct(s.share), fmt.money(s.avgLtv)]);
    const insights = el('ul', { class: 'insights' }, ...data.segmentReport.map((s) => el('li', {}, el('strong', { text: `${s.segment}: ` }), s.insight)));
    const profiles = data.users.edges.map((e) => e.node.profile);
    const churn = histogram(profiles.map((x) => x.churnProbability), 10, 0, 1);
    const ltvs = profiles.map((x) => x.ltv).sort((a, b) => a - b);
    // The top 2% would stretch the axis: they go into the last bin.
    const ltvHi = Math.max(1, ltvs[Math.floor(ltvs.length * 0.98)] || 1);
    const ltv = histogram(ltvs, 10, 0, Math.ceil(ltvHi));
    const churnChart = el('div', { class: 'chart' });
    const ltvChart = el('div', { class: 'chart' });
    p.body.replaceChildren(
      table(['Segment', 'Users', 'Share', 'Avg LTV'], rows),
      insights,
      el('h3', { text: `Churn probability (${fmt.int(profiles.length)} of ${fmt.int(data.users.totalCount)} users)` }), churnChart,
      el('h3', { text: 'Lifetime value (last bin: the rest)' }), ltvChart,
    );
    barChart(churnChart, churn.labels, churn.counts, 'users', palette[1]);
    barChart(ltvChart, ltv.labels, ltv.counts, 'users', palette[2]);
    p.ready();
  });
}
