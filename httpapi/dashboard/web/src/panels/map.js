// map: users per country (shading) and per city (bubbles), and the recent
// and live events as dots, on Natural Earth's shapes from world-atlas
// (bundled: nothing is fetched at run time), drawn with d3-geo.
import { geoNaturalEarth1, geoPath } from 'd3-geo';
import { interpolateYlGnBu } from 'd3-scale-chromatic';
import { feature, mesh } from 'topojson-client';
import world from 'world-atlas/countries-110m.json';

import { gql } from '../api.js';
import { numericByAlpha2 } from '../iso.js';
import { el, fmt, Panel } from '../panel.js';
import { recentEvents } from './live.js';

const svgNS = 'http://www.w3.org/2000/svg';
const W = 960;
const H = 500;
const maxDots = 300;

function svg(tag, attrs = {}, title) {
  const e = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (title) {
    const t = document.createElementNS(svgNS, 'title');
    t.textContent = title;
    e.append(t);
  }
  return e;
}

const query = `query MapUsers { usersByCountry(limit: 250) { users country { code name } } usersByCity(limit: 80) { users city { name latitude longitude country { code } } } }`;

export function startMap() {
  const p = new Panel('map');
  p.run(async () => {
    const [data, events] = await Promise.all([gql(query), recentEvents()]);
    const countries = feature(world, world.objects.countries).features;
    const projection = geoNaturalEarth1().fitSize([W, H], { type: 'Sphere' });
    const path = geoPath(projection);
    const byId = new Map();
    const byName = new Map();
    for (const c of data.usersByCountry) {
      const id = numericByAlpha2.get(c.country.code);
      if (id) byId.set(id, c);
      byName.set(c.country.name.toLowerCase(), c);
    }
    const max = Math.max(1, ...data.usersByCountry.map((c) => c.users));
    const shade = (n) => interpolateYlGnBu(0.15 + 0.85 * (Math.log1p(n) / Math.log1p(max)));

    const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'World map of users by country and city, with recent events' });
    root.append(svg('path', { d: path({ type: 'Sphere' }), class: 'sphere' }));
    const land = svg('g');
    let matched = 0;
    for (const f of countries) {
      const c = byId.get(f.id) || byName.get(String(f.properties.name).toLowerCase());
      if (c) matched++;
      const attrs = { d: path(f), class: 'country' };
      if (c) attrs.fill = shade(c.users);
      land.append(svg('path', attrs, c ? `${c.country.name}: ${fmt.int(c.users)} users` : f.properties.name));
    }
    root.append(land);
    root.append(svg('path', { d: path(mesh(world, world.objects.countries, (a, b) => a !== b)), class: 'borders' }));

    const maxCity = Math.max(1, ...data.usersByCity.map((c) => c.users));
    const cities = svg('g', { class: 'cities' });
    for (const c of data.usersByCity) {
      const xy = projection([c.city.longitude, c.city.latitude]);
      if (!xy) continue;
      const r = 2 + 14 * Math.sqrt(c.users / maxCity);
      cities.append(svg('circle', { cx: xy[0].toFixed(1), cy: xy[1].toFixed(1), r: r.toFixed(1), class: 'city' }, `${c.city.name}, ${c.city.country.code}: ${fmt.int(c.users)} users`));
    }
    root.append(cities);
    const dots = svg('g', { class: 'events' });
    const dot = (e, isLive) => {
      if (!e.geo) return;
      const xy = projection([e.geo.lon, e.geo.lat]);
      if (!xy) return;
      dots.append(svg('circle', { cx: xy[0].toFixed(1), cy: xy[1].toFixed(1), r: isLive ? 4 : 2.5, class: isLive ? 'event live' : 'event' }, `${e.type} by user ${e.userId}${e.geo.city ? ` in ${e.geo.city}` : ''}, ${fmt.time(e.timestamp)}`));
      while (dots.childNodes.length > maxDots) dots.firstChild.remove();
    };
    events.forEach((e) => dot(e, false));
    root.append(dots);
    document.addEventListener('meridian:event', (ev) => dot(ev.detail, true));

    const legend = el('p', { class: 'note' },
      `${data.usersByCountry.length} countries (${matched} on the map), the ${data.usersByCity.length} largest cities as bubbles, ${events.length} recent events as dots; new events appear as they are tracked.`);
    p.body.replaceChildren(el('div', { class: 'map' }, root), legend);
    p.ready();
  });
}
