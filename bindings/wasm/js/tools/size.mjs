// Prints raw, gzip and brotli bytes of what a page downloads (run by `cargo xtask size`).
// Usage: node size.mjs <dist dir>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dist = process.argv[2];
if (!dist) {
  console.error('usage: node size.mjs <dist dir>');
  process.exit(2);
}

const sizes = (bytes) => ({
  raw: bytes.length,
  gzip: gzipSync(bytes, { level: 9 }).length,
  brotli: brotliCompressSync(bytes, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  }).length,
});
// Each group is what one way of installing makes a page download.
const GROUPS = [
  ['headless, ES module (import from "vizochok")', ['vizochok.mjs', 'vizochok-wasm.mjs'], 30 * 1024],
  ['headless, script tag (vizochok.min.js)', ['vizochok.min.js', 'vizochok_bg.wasm'], 30 * 1024],
  ['the default UI, on top', ['vizochok-ui.mjs'], 10 * 1024],
];

const row = (name, s) => `${name.padEnd(46)}${String(s.raw).padStart(9)}${String(s.gzip).padStart(9)}${String(s.brotli).padStart(9)}`;
console.log(`${'bytes'.padEnd(46)}${'raw'.padStart(9)}${'gzip'.padStart(9)}${'brotli'.padStart(9)}`);
let over = false;
for (const [group, files, goal] of GROUPS) {
  const total = { raw: 0, gzip: 0, brotli: 0 };
  for (const file of files) {
    const s = sizes(readFileSync(join(dist, file)));
    console.log(row(`  ${file}`, s));
    for (const k of Object.keys(total)) total[k] += s[k];
  }
  console.log(`${row(group, total)}   goal ≤ ${goal} brotli: ${total.brotli <= goal ? 'met' : 'NOT met'}`);
  over ||= total.brotli > goal;
}
if (over) console.log('\nA part is over its size goal (reported, not an error).');
