// Browser entry: loads the WebAssembly module once (top-level await), so
// `new VIZOCHOKWidget(...)` is synchronous, exactly as the seed shows it.
import init from './vizochok_wasm.js';

await init({ module_or_path: new URL('./vizochok_wasm_bg.wasm', import.meta.url) });

export * from './widget.js';
