// The ES module entry. The WebAssembly module travels inside a JS module of
// its own, as printable ASCII text that every bundler and minifier passes
// through unchanged (tools/build.mjs writes it), loaded on first use: no
// top-level await holds the page's modules back.
import { useCore, useUI } from './widget.js';
import { start } from './core.js';

/** A character's place in the alphabet (printable ASCII without '"' and '\\'); a byte's, when it stands for itself. */
const place = (c) => c - 32 - (c > 34) - (c > 92);

/**
 * The module's bytes from its text: each character is its place in the
 * alphabet; places 91 and 92 take the next character too. `singles` (hex,
 * bit b: byte b) names the bytes with one character: a printable one
 * stands for itself, the others fill the free places in byte order, and
 * the two-character codes follow, in byte order (tools/build.mjs).
 */
function bytes([singles, length, text]) {
  const ranked = [];
  const others = [];
  const doubles = [];
  for (let b = 0; b < 256; b++) {
    if (!((parseInt(singles[b >> 2], 16) >> (b & 3)) & 1)) doubles.push(b);
    else if (b > 31 && b < 125 && b !== 34 && b !== 92) ranked[place(b)] = b;
    else others.push(b);
  }
  for (let p = 0; p < 91; p++) ranked[p] ??= others.shift();
  ranked.push(...doubles);
  const out = new Uint8Array(length);
  for (let i = 0, n = 0; n < length; i++) {
    const first = place(text.charCodeAt(i));
    out[n++] = ranked[first < 91 ? first : 91 + (first - 91) * 93 + place(text.charCodeAt(++i))];
  }
  return out;
}

useCore(() => import('./vizochok-wasm.mjs').then((m) => start(bytes(m.default))));
useUI(() => import('./vizochok-ui.mjs'));

export { VIZOCHOKWidget, DEFAULT_SERVER_URL, browserTransport } from './widget.js';
