// The ES module entry. The WebAssembly module travels inside a JS module of
// its own (deflated, base64), loaded on first use: any bundler takes it as
// it takes any JS, and no top-level await holds the page's modules back.
import { useCore, useUI } from './widget.js';
import { start } from './core.js';

/** The bytes of a deflated, base64-encoded module. */
async function inflate(base64) {
  const packed = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const stream = new Blob([packed]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Response(stream).arrayBuffer();
}

useCore(() => import('./vizochok-wasm.mjs').then((m) => start(inflate(m.default))));
useUI(() => import('./vizochok-ui.mjs'));

export { VIZOCHOKWidget, DEFAULT_SERVER_URL, browserTransport } from './widget.js';
