// Node entry (tests, server-side tools): the same package, with the
// WebAssembly module read from disk.
import { readFileSync } from 'node:fs';
import { initSync } from './vizochok_wasm.js';

initSync({ module: readFileSync(new URL('./vizochok_wasm_bg.wasm', import.meta.url)) });

export * from './widget.js';
