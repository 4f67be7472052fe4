// Builds the npm package into dist/ (run by `cargo xtask wasm`):
//   node build.mjs <optimized .wasm> <UI strings .json> <dist dir>
// - vizochok.mjs        the ES module entry (widget, the module's boundary; minified, with a source map)
// - vizochok-wasm.mjs   the WebAssembly module as printable ASCII text (see `printable`), imported on first use
// - vizochok-ui.mjs     the default UI with its strings (the core's catalog), imported when it is first shown
// - vizochok.min.js     the classic script: window.VIZOCHOKWidget; loads vizochok_bg.wasm beside it
// - index.d.ts, types.d.ts, package.json, README.md
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';
import { fileURLToPath } from 'node:url';

const [wasm, strings, dist] = process.argv.slice(2);
if (!dist) {
  console.error('usage: node build.mjs <optimized .wasm> <UI strings .json> <dist dir>');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, '../src');
const pkg = JSON.parse(readFileSync(join(here, '../package.template.json'), 'utf8'));
mkdirSync(dist, { recursive: true });

const bytes = readFileSync(wasm);
copyFileSync(wasm, join(dist, 'vizochok_bg.wasm'));
writeFileSync(join(dist, 'vizochok-wasm.mjs'), printable(bytes));

/**
 * The module as a JS module of one string of printable ASCII without `"`
 * and `\\` (93 characters): 91 bytes are one character each, the others
 * two (one of two escape characters, then any). Plain ASCII passes through
 * every bundler and minifier unchanged, and brotli compresses this within a
 * few percent of the bytes themselves (hex text costs three times as much
 * over them). index.js decodes it.
 *
 * Which bytes get one character: the most frequent ones, and among them a
 * printable byte stands for itself, so the module's strings stay text that
 * brotli's dictionary knows. How far down the frequency list a printable
 * byte may still claim a single character is tried over a range, keeping
 * the smallest brotli (a few hundred bytes apart; the build is the same
 * for the same module). The other single-character bytes take the free
 * places, and the two-character bytes the codes after them, both in byte
 * order: so the file names only which bytes have one character (64 hex
 * digits), not a table of all 256 (about 0.15 KB less brotli).
 */
function printable(bytes) {
  const alphabet = [];
  for (let c = 32; c < 127; c++) if (c !== 34 && c !== 92) alphabet.push(String.fromCharCode(c));
  const singles = alphabet.length - 2;
  const count = new Array(256).fill(0);
  for (const b of bytes) count[b]++;
  const byFrequency = [...count.keys()].sort((x, y) => count[y] - count[x] || x - y);
  const place = (b) => b - 32 - (b > 34) - (b > 92);
  const itself = (b) => b >= 32 && place(b) < singles && b !== 34 && b !== 92;
  /** The bytes with one character: the printable ones among the first `reach` by frequency, then the most frequent others. */
  const singlesFor = (reach) => {
    const one = byFrequency.slice(0, reach).filter(itself);
    for (const b of byFrequency) if (one.length < singles && !one.includes(b)) one.push(b);
    return new Set(one.slice(0, singles));
  };
  /** The bytes by place, as index.js rebuilds them from the set. */
  const orderOf = (one) => {
    const order = [];
    for (const b of one) if (itself(b)) order[place(b)] = b;
    let at = 0;
    for (let b = 0; b < 256; b++) {
      if (!one.has(b) || itself(b)) continue;
      while (order[at] !== undefined) at++;
      order[at] = b;
    }
    for (let b = 0; b < 256; b++) if (!one.has(b)) order.push(b);
    return order;
  };
  const moduleText = (one) => {
    const code = [];
    orderOf(one).forEach((byte, rank) => {
      const k = rank - singles;
      code[byte] = k < 0 ? alphabet[rank] : alphabet[singles + Math.floor(k / alphabet.length)] + alphabet[k % alphabet.length];
    });
    let text = '';
    for (const b of bytes) text += code[b];
    let mask = '';
    for (let b = 0; b < 256; b += 4) mask += [0, 1, 2, 3].reduce((m, i) => m | (one.has(b + i) << i), 0).toString(16);
    return `export default ${JSON.stringify([mask, bytes.length, text])};\n`;
  };
  let best;
  for (let reach = singles; reach <= 181; reach += 5) {
    const text = moduleText(singlesFor(reach));
    const size = brotliCompressSync(text, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
    if (!best || size < best.size) best = { text, size };
  }
  return best.text;
}

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
// The UI chunk: ui.js and the catalog's strings by language (widget.js hands them to createUI).
const catalog = JSON.stringify(JSON.parse(readFileSync(strings, 'utf8')));
const ui = { contents: `export * from './ui.js';\nexport const strings = ${catalog};\n`, resolveDir: src, sourcefile: 'vizochok-ui.js' };
await build({ ...common, stdin: ui, format: 'esm', outfile: join(dist, 'vizochok-ui.mjs') });
await build({ ...common, entryPoints: [join(src, 'script.js')], format: 'iife', outfile: join(dist, 'vizochok.min.js') });

copyFileSync(join(src, 'index.d.ts'), join(dist, 'index.d.ts'));
copyFileSync(join(src, 'generated/types.d.ts'), join(dist, 'types.d.ts'));
copyFileSync(join(here, '../README.md'), join(dist, 'README.md'));
writeFileSync(join(dist, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
console.log(`built ${dist}`);
