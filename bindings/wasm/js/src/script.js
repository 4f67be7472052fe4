// The classic-script entry (`<script src=".../vizochok.min.js">`): defines
// window.VIZOCHOKWidget and loads the WebAssembly module and the UI from the
// script's own directory.
import { useCore, useUI, VIZOCHOKWidget } from './widget.js';
import { start } from './core.js';

const base = document.currentScript?.src ?? location.href;

useCore(() => start(fetch(new URL('vizochok_bg.wasm', base)).then((response) => {
  if (!response.ok) throw new Error(`VIZOCHOK: ${response.url} answered ${response.status}`);
  return response.arrayBuffer();
})));
useUI(() => import(new URL('vizochok-ui.mjs', base).href));

window.VIZOCHOKWidget = VIZOCHOKWidget;
