// Meridian's dashboard: every panel is a client of the public GraphQL API
// (POST /query, and graphql-transport-ws on the same path for the live
// panels). The API key, when one is needed, lives in sessionStorage only.
import 'uplot/dist/uPlot.min.css';
import './style.css';

import { apiKey, gql, setAPIKey } from './api.js';
import { describe } from './panel.js';
import { startHealth } from './panels/health.js';
import { startLive } from './panels/live.js';
import { startMap } from './panels/map.js';
import { startMetrics } from './panels/metrics.js';
import { startPurchases } from './panels/purchases.js';
import { startRetention } from './panels/retention.js';
import { startSegments } from './panels/segments.js';

function keyForm() {
  const form = document.getElementById('key-form');
  const input = document.getElementById('key-input');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    setAPIKey(input.value.trim());
    location.reload();
  });
  document.getElementById('key-forget').addEventListener('click', () => {
    setAPIKey('');
    location.reload();
  });
}

async function who() {
  const out = document.getElementById('who');
  try {
    const { viewer } = await gql('query Who { viewer { subject role method readOnly } }');
    out.textContent = viewer.role
      ? `Reading as ${viewer.role} (${viewer.method === 'anonymous' ? 'anonymous' : viewer.subject})${viewer.readOnly ? ', read-only' : ''}.`
      : 'Anonymous access is off: enter an API key.';
    if (!viewer.role) document.getElementById('key-form').dataset.wanted = 'true';
  } catch (err) {
    out.textContent = describe(err);
  }
  if (apiKey()) document.getElementById('key-input').placeholder = 'a key is set for this tab';
}

keyForm();
who();
startLive();
startMetrics();
startRetention();
startMap();
startSegments();
startPurchases();
startHealth();
