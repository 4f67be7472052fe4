// The classic-script entry (`<script src=".../vizochok.min.js">`): defines
// window.VIZOCHOKWidget and loads the WebAssembly module and the UI from the
// script's own directory. `data-server-url` on the tag sets the server for
// widgets that do not name one.
import { useCore, useServerUrl, useUI, VIZOCHOKWidget } from './widget.js';
import { start } from './core.js';

const tag = document.currentScript;
const base = tag?.src ?? location.href;
if (tag?.dataset.serverUrl) useServerUrl(tag.dataset.serverUrl);

useCore(() => start(fetch(new URL('vizochok_bg.wasm', base)).then((response) => {
  if (!response.ok) throw new Error(`VIZOCHOK: ${response.url} answered ${response.status}`);
  return response.arrayBuffer();
})));
useUI(() => import(new URL('vizochok-ui.mjs', base).href));

window.VIZOCHOKWidget = VIZOCHOKWidget;
