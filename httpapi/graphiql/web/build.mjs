// Bundles GraphiQL into ../dist (committed, embedded by package graphiql
// with go:embed). The output must be byte-for-byte reproducible from the
// same sources and the pinned package-lock.json: `make check-graphiql`
// rebuilds it and fails when the committed copy differs, so nothing here may
// depend on the time, the machine or the path.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');

// monaco-editor's modules import their own CSS files. graphiql/style.css
// already carries all of it (and the codicon font, inline), and esbuild
// would write the CSS of the lazily loaded monaco chunks to files that no
// page links: those imports are dropped.
const noMonacoCSS = {
  name: 'no-monaco-css',
  setup(build) {
    build.onResolve({ filter: /\.css$/ }, (args) =>
      args.importer.includes('/node_modules/monaco-editor/') ? { path: args.path, namespace: 'no-monaco-css' } : undefined);
    build.onLoad({ filter: /.*/, namespace: 'no-monaco-css' }, () => ({ contents: '', loader: 'empty' }));
  },
};

const common = {
  absWorkingDir: here,
  bundle: true,
  target: ['es2022'],
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  charset: 'utf8',
  outdir: dist,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
};

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
// The page: React, GraphiQL and monaco, with the chunks GraphiQL imports
// lazily (monaco, prettier) split off so the first paint needs less.
await esbuild.build({
  ...common,
  entryPoints: { app: 'src/main.js' },
  format: 'esm',
  splitting: true,
  chunkNames: 'chunk-[hash]',
  plugins: [noMonacoCSS],
});
// Monaco's workers, one classic script each (a module worker would need
// nothing more, but classic ones start in every browser GraphiQL supports).
await esbuild.build({
  ...common,
  entryPoints: {
    'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
    'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
    'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
  },
  format: 'iife',
});
await copyFile(join(here, 'index.html'), join(dist, 'index.html'));
