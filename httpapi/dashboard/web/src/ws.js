// A graphql-transport-ws client for the server's WebSocket at /query: one
// socket for every live panel, authenticated in connection_init with the
// same key as the HTTP requests, reconnecting after a drop.
import { APIError, apiKey } from './api.js';

const reconnectMs = 2000;

export class LiveSocket {
  constructor() {
    this.ws = null;
    this.acked = false;
    this.nextID = 1;
    this.subs = new Map(); // id → {query, variables, handlers}
  }

  url() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/query`;
  }

  connect() {
    if (this.ws) return;
    const ws = new WebSocket(this.url(), 'graphql-transport-ws');
    this.ws = ws;
    this.acked = false;
    ws.addEventListener('open', () => {
      const key = apiKey();
      ws.send(JSON.stringify({ type: 'connection_init', payload: key ? { Authorization: `Bearer ${key}` } : {} }));
    });
    ws.addEventListener('message', (m) => this.receive(m.data));
    ws.addEventListener('close', (ev) => {
      this.ws = null;
      this.acked = false;
      const refused = ev.code === 4401 || ev.code === 4403;
      const err = new APIError(`the live connection closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`, refused ? 'UNAUTHENTICATED' : 'CLOSED', refused ? 401 : 0);
      for (const s of this.subs.values()) s.handlers.error(err);
      if (!refused && this.subs.size > 0) setTimeout(() => this.connect(), reconnectMs);
    });
  }

  receive(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    const sub = msg.id ? this.subs.get(msg.id) : null;
    switch (msg.type) {
      case 'connection_ack':
        this.acked = true;
        for (const [id, s] of this.subs) this.start(id, s);
        break;
      case 'ping':
        this.ws.send(JSON.stringify({ type: 'pong' }));
        break;
      case 'next':
        if (!sub) break;
        if (msg.payload.errors && msg.payload.errors.length > 0) {
          const e = msg.payload.errors[0];
          sub.handlers.error(new APIError(e.message, (e.extensions && e.extensions.code) || 'ERROR'));
        } else {
          sub.handlers.next(msg.payload.data);
        }
        break;
      case 'error':
        if (!sub) break;
        this.subs.delete(msg.id);
        sub.handlers.error(new APIError(msg.payload[0].message, (msg.payload[0].extensions && msg.payload[0].extensions.code) || 'ERROR'));
        break;
      case 'complete':
        if (!sub) break;
        this.subs.delete(msg.id);
        sub.handlers.error(new APIError('the server ended the subscription', 'COMPLETE'));
        break;
      default:
    }
  }

  start(id, s) {
    this.ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query: s.query, variables: s.variables } }));
    if (s.handlers.started) s.handlers.started();
  }

  // subscribe runs query until the returned function is called; handlers
  // are next(data), error(APIError) and optionally started().
  subscribe(query, variables, handlers) {
    const id = String(this.nextID++);
    const s = { query, variables, handlers };
    this.subs.set(id, s);
    this.connect();
    if (this.acked) this.start(id, s);
    return () => {
      if (!this.subs.delete(id)) return;
      if (this.acked) this.ws.send(JSON.stringify({ id, type: 'complete' }));
    };
  }
}

export const live = new LiveSocket();
