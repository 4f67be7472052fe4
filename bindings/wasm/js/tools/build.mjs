// Builds the npm package into dist/ (run by `cargo xtask wasm`):
//   node build.mjs <optimized .wasm> <dist dir>
// - vizochok.mjs        the ES module entry (widget, the module's boundary; minified, with a source map)
// - vizochok-wasm.mjs   the WebAssembly module as hex text, imported on first use
// - vizochok-ui.mjs     the default UI, imported when it is first shown
// - vizochok.min.js     the classic script: window.VIZOCHOKWidget; loads vizochok_bg.wasm beside it
// - index.d.ts, types.d.ts, package.json, README.md
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [wasm, dist] = process.argv.slice(2);
if (!dist) {
  console.error('usage: node build.mjs <optimized .wasm> <dist dir>');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, '../src');
const pkg = JSON.parse(readFileSync(join(here, '../package.template.json'), 'utf8'));
mkdirSync(dist, { recursive: true });

const bytes = readFileSync(wasm);
copyFileSync(wasm, join(dist, 'vizochok_bg.wasm'));
writeFileSync(join(dist, 'vizochok-wasm.mjs'), `export default "${bytes.toString('hex')}";\n`);

const common = {
  bundle: true,
  minify: true,
  sourcemap: true,
  target: ['es2022'],
  legalComments: 'none',
  // Loaded at run time, beside the entry: every bundler resolves them as files of the package.
  external: ['./vizochok-wasm.mjs', './vizochok-ui.mjs'],
  logLevel: 'warning',
};
await build({ ...common, entryPoints: [join(src, 'index.js')], format: 'esm', outfile: join(dist, 'vizochok.mjs') });
await build({ ...common, entryPoints: [join(src, 'ui.js')], format: 'esm', outfile: join(dist, 'vizochok-ui.mjs') });
await build({ ...common, entryPoints: [join(src, 'script.js')], format: 'iife', outfile: join(dist, 'vizochok.min.js') });

copyFileSync(join(src, 'index.d.ts'), join(dist, 'index.d.ts'));
copyFileSync(join(src, 'generated/types.d.ts'), join(dist, 'types.d.ts'));
copyFileSync(join(here, '../README.md'), join(dist, 'README.md'));
writeFileSync(join(dist, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
console.log(`built ${dist}`);
