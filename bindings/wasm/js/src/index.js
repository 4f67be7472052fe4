// The ES module entry. The WebAssembly module travels inside a JS module of
// its own, as printable ASCII text that every bundler and minifier passes
// through unchanged (tools/build.mjs writes it), loaded on first use: no
// top-level await holds the page's modules back.
import { useCore, useUI } from './widget.js';
import { start } from './core.js';

/**
 * The module's bytes from its text: each character is its place in the
 * alphabet (printable ASCII without '"' and '\\'); places 91 and 92 take
 * the next character too. A place indexes `order`, the bytes by place
 * (hex; tools/build.mjs chooses it).
 */
function bytes([order, length, text]) {
  const ranked = Uint8Array.from(order.match(/../g), (hex) => parseInt(hex, 16));
  const place = (i) => {
    const c = text.charCodeAt(i);
    return c - 32 - (c > 34) - (c > 92);
  };
  const out = new Uint8Array(length);
  for (let i = 0, n = 0; n < length; i++) {
    const first = place(i);
    out[n++] = ranked[first < 91 ? first : 91 + (first - 91) * 93 + place(++i)];
  }
  return out;
}

useCore(() => import('./vizochok-wasm.mjs').then((m) => start(bytes(m.default))));
useUI(() => import('./vizochok-ui.mjs'));

export { VIZOCHOKWidget, DEFAULT_SERVER_URL, browserTransport } from './widget.js';
