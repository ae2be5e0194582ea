// health: the models' status for any analyst; the cache's hit ratio per
// tier and the bus's queue depths and dead letters for an ADMIN key.
import { gql } from '../api.js';
import { el, fmt, Panel, table } from '../panel.js';

const refreshMs = 15000;
const statusQuery = 'query Health { viewer { role } modelStatus { fittedAt converged trainingUsers scoredUsers logLikelihood error } }';
const adminQuery = 'query HealthAdmin { cacheStats { localHits localMisses redisHits redisMisses redisUp redisErrors redisLatencyP99Ms sets evictions invalidations } busQueues { queue ready deadLetters } }';

function ratio(hits, misses) {
  return hits + misses === 0 ? 0 : hits / (hits + misses);
}

function meter(value) {
  return el('td', {}, el('meter', { min: '0', max: '1', value: value.toFixed(3), 'aria-label': fmt.pct(value) }), ` ${fmt.pct(value)}`);
}

export function startHealth() {
  const p = new Panel('health');
  const refresh = document.getElementById('health-refresh');
  const load = () => p.run(async () => {
    const data = await gql(statusQuery);
    const m = data.modelStatus;
    const model = el('div', { class: 'card', 'data-part': 'model' },
      el('h3', { text: 'Analytics models' }),
      table(['Figure', 'Value'], [
        ['Fitted', m.fittedAt ? fmt.time(m.fittedAt) : 'not yet'],
        ['Converged', m.converged ? 'yes' : 'no'],
        ['Training users', fmt.int(m.trainingUsers)],
        ['Scored users', fmt.int(m.scoredUsers)],
        ['Log-likelihood', m.logLikelihood === null ? '–' : m.logLikelihood.toFixed(1)],
      ]),
      m.error ? el('p', { class: 'warn', text: `Last fit failed: ${m.error}` }) : null);
    const parts = [model];
    if (data.viewer.role === 'ADMIN') {
      const a = await gql(adminQuery);
      const c = a.cacheStats;
      parts.push(el('div', { class: 'card', 'data-part': 'cache' },
        el('h3', { text: 'Cache hit ratio' }),
        table(['Tier', 'Hits', 'Misses', 'Hit ratio'], [
          [el('td', { text: 'in-process' }), el('td', { text: fmt.int(c.localHits) }), el('td', { text: fmt.int(c.localMisses) }), meter(ratio(c.localHits, c.localMisses))],
          [el('td', { text: `Redis (${c.redisUp ? 'up' : 'down or off'})` }), el('td', { text: fmt.int(c.redisHits) }), el('td', { text: fmt.int(c.redisMisses) }), meter(ratio(c.redisHits, c.redisMisses))],
        ].map((cells) => el('tr', {}, ...cells))),
        el('p', { class: 'note', text: `${fmt.int(c.sets)} sets, ${fmt.int(c.evictions)} evictions, ${fmt.int(c.invalidations)} invalidations, ${fmt.int(c.redisErrors)} Redis errors, Redis p99 ${c.redisLatencyP99Ms.toFixed(2)} ms.` })));
      parts.push(el('div', { class: 'card', 'data-part': 'bus' },
        el('h3', { text: 'Bus queues' }),
        table(['Queue', 'Ready', 'Dead letters'], a.busQueues.map((q) => el('tr', { class: q.deadLetters > 0 ? 'bad' : '' },
          el('td', { text: q.queue }), el('td', { class: 'num', text: fmt.int(q.ready) }), el('td', { class: 'num', text: fmt.int(q.deadLetters) }))))));
    } else {
      parts.push(el('p', { class: 'note', 'data-part': 'admin-locked', text: `Cache hit ratios, queue depths and dead letters need an ADMIN key (you read as ${data.viewer.role || 'nobody'}): enter one above.` }));
    }
    p.body.replaceChildren(...parts);
    p.ready(`Updated ${new Date().toISOString().slice(11, 19)} UTC; refreshes every ${refreshMs / 1000} s.`);
  });
  refresh.addEventListener('click', load);
  setInterval(load, refreshMs);
  load();
}
