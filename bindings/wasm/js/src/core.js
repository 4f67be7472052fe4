// The core's WebAssembly module, started once per page from its bytes.
import { initSync, Core, markdown, uiStrings } from 'vizochok-glue';

/** Compiles and starts the module; what widget.js needs of it. */
export async function start(bytes) {
  initSync({ module: await WebAssembly.compile(await bytes) });
  return { Core, markdown, uiStrings };
}
