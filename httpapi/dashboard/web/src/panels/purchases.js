// purchases: purchaseAnalytics by day, category or country as charts, with
// the eventDistribution of the same range.
import { gql, isoDaysAgo } from '../api.js';
import { barChart, destroy, palette, timeChart } from '../charts.js';
import { el, fmt, Panel } from '../panel.js';

const query = `query Purchases($from: Time, $by: PurchaseGroupBy!) {
  purchaseAnalytics(from: $from, groupBy: $by) { key start revenue orders uniqueBuyers avgOrderValue }
  eventDistribution(from: $from) { type count }
}`;

export function startPurchases() {
  const p = new Panel('purchases');
  const bySel = document.getElementById('purchases-by');
  const rangeSel = document.getElementById('purchases-range');
  let charts = [];
  const load = () => p.run(async () => {
    p.loading();
    const days = Number(rangeSel.value);
    const data = await gql(query, { from: days ? isoDaysAgo(days) : null, by: bySel.value });
    charts.forEach(destroy);
    charts = [];
    const groups = data.purchaseAnalytics;
    const revenue = groups.reduce((s, g) => s + g.revenue, 0);
    const orders = groups.reduce((s, g) => s + g.orders, 0);
    const main = el('div', { class: 'chart' });
    const orderChart = el('div', { class: 'chart' });
    const dist = el('div', { class: 'chart' });
    p.body.replaceChildren(
      el('p', { class: 'note', text: `${fmt.money(revenue)} revenue from ${fmt.int(orders)} orders in ${rangeSel.selectedOptions[0].text}.` }),
      el('h3', { text: `Revenue by ${bySel.selectedOptions[0].text}` }), main,
      el('h3', { text: `Orders by ${bySel.selectedOptions[0].text}` }), orderChart,
      el('h3', { text: 'Events by type (same range)' }), dist,
    );
    if (bySel.value === 'DAY') {
      const xs = groups.map((g) => Date.parse(g.start || g.key) / 1000);
      charts.push(timeChart(main, ['revenue'], xs, [groups.map((g) => g.revenue)], { bars: true }));
      charts.push(timeChart(orderChart, ['orders', 'unique buyers'], xs, [groups.map((g) => g.orders), groups.map((g) => g.uniqueBuyers)]));
    } else {
      const top = [...groups].sort((a, b) => b.revenue - a.revenue).slice(0, 15);
      const labels = top.map((g) => g.key || '(none)');
      charts.push(barChart(main, labels, top.map((g) => g.revenue), 'revenue', palette[0]));
      charts.push(barChart(orderChart, labels, top.map((g) => g.orders), 'orders', palette[3]));
    }
    charts.push(barChart(dist, data.eventDistribution.map((d) => d.type), data.eventDistribution.map((d) => d.count), 'events', palette[4]));
    p.ready(groups.length ? '' : 'No purchases in this range: choose a longer one.');
  });
  bySel.addEventListener('change', load);
  rangeSel.addEventListener('change', load);
  load();
}
