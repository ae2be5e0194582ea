// live: the newest tracked events, first those stored before the page
// opened (the newest events of the most active users of the last two
// days), then each one as the eventTracked subscription delivers it.
import { gql, isoDaysAgo } from '../api.js';
import { el, fmt, Panel, table } from '../panel.js';
import { live } from '../ws.js';

const keep = 50;
const eventFields = 'id userId type timestamp geo { country city lon lat }';

export const recentEventsQuery = `query RecentEvents($from: Time!) {
  userActivity(from: $from, limit: 40) { user { events(first: 2) { edges { node { ${eventFields} } } } } }
}`;

// recentEvents is the newest stored events, newest first.
export async function recentEvents() {
  const data = await gql(recentEventsQuery, { from: isoDaysAgo(2) });
  const events = data.userActivity.flatMap((a) => (a.user ? a.user.events.edges.map((e) => e.node) : []));
  events.sort((a, b) => (a.timestamp < b.timestamp ? 1 : -1));
  return events;
}

export function startLive() {
  const p = new Panel('live');
  const pause = document.getElementById('live-pause');
  let events = [];
  let held = [];
  let paused = false;
  let arrived = 0;
  const rows = el('tbody');
  const counter = el('p', { class: 'note', 'aria-live': 'polite' });

  const row = (e) => el('tr', { 'data-event-id': e.id },
    el('td', {}, el('span', { class: `tag t-${e.type}`, text: e.type })),
    el('td', { text: e.userId }),
    el('td', { text: e.geo ? [e.geo.city, e.geo.country].filter(Boolean).join(', ') || '–' : '–' }),
    el('td', { text: fmt.time(e.timestamp) }));
  const draw = () => {
    rows.replaceChildren(...events.map(row));
    counter.textContent = paused
      ? `Paused: ${held.length} new event(s) held back.`
      : `${arrived} event(s) arrived since the page opened; showing the newest ${events.length}.`;
  };
  const add = (e) => {
    arrived++;
    document.dispatchEvent(new CustomEvent('meridian:event', { detail: e }));
    if (paused) held.unshift(e);
    else events.unshift(e);
    events = events.slice(0, keep);
    draw();
  };
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.setAttribute('aria-pressed', String(paused));
    pause.textContent = paused ? 'Resume' : 'Pause';
    if (!paused) {
      events = held.concat(events).slice(0, keep);
      held = [];
    }
    draw();
  });

  p.run(async () => {
    events = (await recentEvents()).slice(0, keep);
    const t = table(['Type', 'User', 'Place', 'Time'], []);
    t.querySelector('tbody').replaceWith(rows);
    p.body.replaceChildren(counter, t);
    draw();
    live.subscribe(`subscription Live { eventTracked { ${eventFields} } }`, {}, {
      started: () => p.ready(events.length ? '' : 'No events yet: waiting for the first one.'),
      next: (d) => {
        add(d.eventTracked);
        if (p.el.dataset.state !== 'ready') p.ready();
      },
      error: (err) => p.error(err),
    });
  });
}
