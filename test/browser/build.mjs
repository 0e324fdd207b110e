// Bundles the browser harness (harness/main.tsx with React, react-router and
// the real @grafana/* packages) into one script for browser_test.go to serve:
//   node test/browser/build.mjs <outdir>
// The plugin itself is NOT bundled here: the harness loads the built
// dist/module.js at run time, as Grafana does.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const out = process.argv[2];
if (!out) {
  console.error('usage: node test/browser/build.mjs <outdir>');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const started = Date.now();
await build({
  entryPoints: [join(here, 'harness', 'main.tsx')],
  outfile: join(out, 'harness.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  jsx: 'automatic',
  define: { 'process.env.NODE_ENV': '"production"', global: 'window' },
  loader: {
    '.svg': 'dataurl',
    '.woff': 'dataurl',
    '.woff2': 'dataurl',
    '.ttf': 'dataurl',
    '.png': 'dataurl',
    '.css': 'css',
  },
  logLevel: 'warning',
  minify: false,
  sourcemap: false,
});
console.log(`harness bundled in ${Date.now() - started} ms`);
