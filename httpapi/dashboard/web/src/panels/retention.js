// retention: the retention query as a cohort × interval heatmap of the
// share retained, coloured with d3-scale-chromatic. The query takes the
// start (from); the end of the date range drops the cohorts that start
// after it.
import { interpolateBlues } from 'd3-scale-chromatic';

import { gql } from '../api.js';
import { el, fmt, Panel, table } from '../panel.js';

const periodDays = { DAY: 1, WEEK: 7, MONTH: 30 };
const periodWord = { DAY: 'Day', WEEK: 'Week', MONTH: 'Month' };

const query = `query Retention($period: RetentionPeriod!, $intervals: Int!, $type: RetentionType!, $from: Time!) {
  retention(period: $period, intervals: $intervals, type: $type, from: $from) { cohortStart cohortSize values }
}`;

function dateInput(id) {
  return document.getElementById(id);
}

function defaultRange(period, intervals) {
  const to = new Date();
  const from = new Date(to.getTime() - periodDays[period] * intervals * 86400e3);
  return [from.toISOString().slice(0, 10), to.toISOString().slice(0, 10)];
}

export function startRetention() {
  const p = new Panel('retention');
  const form = document.getElementById('retention-form');
  const period = document.getElementById('retention-period');
  const intervals = document.getElementById('retention-intervals');
  const type = document.getElementById('retention-type');
  const from = dateInput('retention-from');
  const to = dateInput('retention-to');
  [from.value, to.value] = defaultRange(period.value, Number(intervals.value));
  period.addEventListener('change', () => {
    [from.value, to.value] = defaultRange(period.value, Number(intervals.value));
  });

  const load = () => p.run(async () => {
    p.loading();
    const n = Number(intervals.value);
    const data = await gql(query, { period: period.value, intervals: n, type: type.value, from: `${from.value}T00:00:00Z` });
    const end = to.value ? Date.parse(`${to.value}T23:59:59Z`) : Infinity;
    const rows = data.retention.filter((r) => Date.parse(r.cohortStart) <= end);
    if (rows.length === 0) {
      p.body.replaceChildren(el('p', { class: 'note', text: 'No cohort starts in this range: widen the dates.' }));
      p.ready('No cohorts in the range.');
      return;
    }
    const width = Math.max(...rows.map((r) => r.values.length));
    const headers = ['Cohort', 'Users', ...Array.from({ length: width }, (_, k) => `${periodWord[period.value]} ${k}`)];
    const trs = rows.map((r) => {
      const cells = [el('th', { scope: 'row', text: fmt.date(r.cohortStart) }), el('td', { class: 'num', text: fmt.int(r.cohortSize) })];
      for (let k = 0; k < width; k++) {
        if (k >= r.values.length) {
          cells.push(el('td', { class: 'heat empty' }));
          continue;
        }
        const share = r.cohortSize ? r.values[k] / r.cohortSize : 0;
        const td = el('td', { class: 'heat', title: `${r.values[k]} of ${r.cohortSize} users`, text: fmt.pct(share) });
        td.style.backgroundColor = interpolateBlues(0.1 + 0.85 * share);
        td.style.color = share > 0.5 ? '#fff' : '#111';
        cells.push(td);
      }
      return el('tr', {}, ...cells);
    });
    p.body.replaceChildren(table(headers, trs, { class: 'heatmap' }));
    p.ready(`${rows.length} ${type.value === 'FIRST_TIME' ? 'first-time' : 'recurring'} cohort(s) from ${from.value}; each cell is the share of the cohort active that many periods later.`);
  });
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load();
  });
  load();
}
