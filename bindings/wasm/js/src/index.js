// The ES module entry. The WebAssembly module travels inside a JS module of
// its own (as hex text: plain ASCII that every bundler and minifier passes
// through unchanged, and that brotli and gzip compress almost as well as
// the raw bytes), loaded on first use: no top-level await holds the page's
// modules back.
import { useCore, useUI } from './widget.js';
import { start } from './core.js';

/** The bytes of a hex text. */
function bytes(hex) {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

useCore(() => import('./vizochok-wasm.mjs').then((m) => start(bytes(m.default))));
useUI(() => import('./vizochok-ui.mjs'));

export { VIZOCHOKWidget, DEFAULT_SERVER_URL, browserTransport } from './widget.js';
