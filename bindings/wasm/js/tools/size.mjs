// Prints raw, gzip and brotli bytes of the package's parts (run by `cargo xtask size`).
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
const GOALS = { headless: 30 * 1024, ui: 10 * 1024 };
const parts = {
  headless: ['vizochok_wasm_bg.wasm', 'vizochok_wasm.js', 'widget.js', 'index.js'],
  ui: ['ui.js'],
};

const row = (name, s) => `${name.padEnd(26)}${String(s.raw).padStart(9)}${String(s.gzip).padStart(9)}${String(s.brotli).padStart(9)}`;
console.log(`${'bytes'.padEnd(26)}${'raw'.padStart(9)}${'gzip'.padStart(9)}${'brotli'.padStart(9)}`);
let over = false;
for (const [group, files] of Object.entries(parts)) {
  const total = { raw: 0, gzip: 0, brotli: 0 };
  for (const file of files) {
    const s = sizes(readFileSync(join(dist, file)));
    console.log(row(`  ${file}`, s));
    for (const k of Object.keys(total)) total[k] += s[k];
  }
  const goal = GOALS[group];
  console.log(row(`${group} (sum of files)`, total) + `   goal ≤ ${goal} brotli: ${total.brotli <= goal ? 'met' : 'NOT met'}`);
  over ||= total.brotli > goal;
}
if (over) console.log('\nA part is over its size goal (reported, not an error).');
