// Monaco runs its language services in web workers. GraphiQL's own
// setup-workers modules load them from a CDN (esm.sh) or rely on a bundler's
// worker syntax; here each worker is an esbuild entry point of its own
// (build.mjs), written beside this bundle, and loaded from the same origin,
// so the page's Content-Security-Policy needs only worker-src 'self'.
// This module must run before monaco is first imported (GraphiQL imports it
// lazily once the editors mount), hence it is main.js's first import.
const worker = (name) => new Worker(new URL(`./${name}.worker.js`, import.meta.url), { name });

globalThis.MonacoEnvironment = {
  getWorker(_id, label) {
    switch (label) {
      case 'graphql':
        return worker('graphql');
      case 'json':
        return worker('json');
      default:
        return worker('editor');
    }
  },
};
