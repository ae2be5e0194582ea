// Bundles the dashboard into ../dist (committed, embedded by package
// dashboard with go:embed). The output must be byte-for-byte reproducible
// from the same sources and the pinned package-lock.json: `make
// check-dashboard` rebuilds it and fails when the committed copy differs,
// so nothing here may depend on the time, the machine or the path.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'dist');

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await esbuild.build({
  absWorkingDir: here,
  entryPoints: { app: 'src/main.js' },
  bundle: true,
  format: 'esm',
  target: ['es2020'],
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  charset: 'utf8',
  outdir: dist,
  loader: { '.json': 'json' },
  logLevel: 'warning',
});
await copyFile(join(here, 'index.html'), join(dist, 'index.html'));
