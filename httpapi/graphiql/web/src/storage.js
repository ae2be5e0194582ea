// GraphiQL's storage: localStorage under the "graphiql:" keys, as by
// default, except that the history plugin's lists (graphiql:queries,
// graphiql:favorites) are stored without their headers. The plugin saves
// each run's headers with its query whatever "persist headers" says, and
// the headers hold the API key (Authorization: Bearer mrd_…), which would
// then outlive the tab. The headers editor itself keeps them only when the
// user turns persistence on (shouldPersistHeaders, off by default).
const namespace = 'graphiql:';
const history = new Set([`${namespace}queries`, `${namespace}favorites`]);
const withoutHeaders = (value) => JSON.stringify(JSON.parse(value), (key, v) => (key === 'headers' ? undefined : v));
const ours = () => Object.keys(localStorage).filter((k) => k.startsWith(namespace));

export const storage = {
  getItem: (key) => localStorage.getItem(key),
  // A value that is not JSON throws here, and GraphiQL reports the failed
  // write: better than storing what might hold a key.
  setItem: (key, value) => localStorage.setItem(key, history.has(key) ? withoutHeaders(value) : value),
  removeItem: (key) => localStorage.removeItem(key),
  get length() {
    return ours().length;
  },
  clear() {
    for (const k of ours()) localStorage.removeItem(k);
  },
};
