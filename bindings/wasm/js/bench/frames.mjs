// Benchmark (not a test): the per-frame cost of the widget in Chromium — a
// frame's text in, the store's callback objects out — against JSON.parse of
// the same frame strings, side by side in one page.
//
//   cargo xtask wasm && node bindings/wasm/js/bench/frames.mjs [replies]
//
// The widget gets a scripted transport (its public `transport` option), so a
// frame goes the whole way from the socket's message to the callbacks with
// no network in between. The mix is what one reply really streams: 8 deltas,
// a response with 6 cards and a summary, and a cart_changed with 5 items.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const N = Number(process.argv[2] ?? 5000);
const ROUNDS = 7;
const TYPES = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

const PAGE = `<!doctype html><meta charset=utf-8><script type=module>
import { VIZOCHOKWidget } from './vizochok.mjs';
const product = (i) => ({ sku: 'DAI-00' + i, name: 'Галичина молоко 2,5% 870 г', price: 44.9, unit: 'pcs', quantity_step: 1,
  brand: 'Галичина', image_url: '/images/DAI-00' + i + '.svg', promo_price: i % 2 ? 37.9 : null });
const item = (i) => ({ sku: 'DAI-00' + i, name: 'Галичина молоко 2,5% 870 г', price: 44.9, promo_price: null, brand: 'Галичина', quantity: i });
const chunks = ['Ось ', 'що я ', 'знайшов ', 'серед ', 'молока: ', '**Галичина**, ', 'Простоквашино ', 'та інші.'];
const kinds = {
  delta: (seq, i) => ({ type: 'delta', seq, message_id: 'r' + i, reply_to: 'm' + i, text: chunks[seq % 8] }),
  response: (seq, i) => ({ type: 'response', seq, message_id: 'r' + i, reply_to: 'm' + i, text: chunks.join(''),
    products: [1, 2, 3, 4, 5, 6].map(product), summary: { selected_items: [1, 2].map(item), total: 134.7, item_count: 2 },
    suggestions: ['Покажи дешевші', 'Додай перший'] }),
  cart_changed: (seq) => ({ type: 'cart_changed', seq, action: 'item_selected', sku: 'DAI-005', name: 'Молоко', quantity: 5,
    price: 44.9, items: [1, 2, 3, 4, 5].map(item), total: 673.5 }),
};
let events;
let now = 0;
const widget = new VIZOCHOKWidget({
  apiKey: 'pk_demo', storeId: 'demo-store', serverUrl: 'ws://127.0.0.1:9/v1/ws', persistSession: 'none', ui: false,
  onCartChanged: () => { calls++; }, onMessage: () => { calls++; }, onSessionComplete: () => { calls++; },
  transport: { now: () => now, open: (socket, url, e) => { events = e; }, send() {}, close() {}, setTimer() {} },
});
let calls = 0;
await widget.ready;
events.opened();
events.text(JSON.stringify({ type: 'auth_ok', session_id: 's1', restored: false, replay: false }));
let seq = 0;
window.run = (n) => {
  const frames = { delta: [], response: [], cart_changed: [] };
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < 8; d++) frames.delta.push(JSON.stringify(kinds.delta(++seq, i)));
    frames.response.push(JSON.stringify(kinds.response(++seq, i)));
    frames.cart_changed.push(JSON.stringify(kinds.cart_changed(++seq)));
  }
  const results = {};
  let sink = 0;
  for (const [kind, list] of Object.entries(frames)) {
    const t0 = performance.now();
    for (const f of list) sink += JSON.parse(f).type.length;
    const t1 = performance.now();
    const before = calls;
    for (const f of list) events.text(f);
    const t2 = performance.now();
    results[kind] = { frames: list.length, bytes: list[0].length, parseMs: t1 - t0, widgetMs: t2 - t1, callbacks: calls - before };
  }
  results.sink = sink;
  return results;
};
window.ready = true;
</script>`;

const server = createServer(async (req, res) => {
  try {
    if (req.url === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    const body = await readFile(join(DIST, req.url.slice(1)));
    res.writeHead(200, { 'content-type': TYPES[extname(req.url)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error('page error:', e));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => window.ready);
  await page.evaluate((n) => window.run(n), Math.min(N, 500)); // warm-up
  const rounds = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await page.evaluate((n) => window.run(n), N));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const kinds = ['delta', 'response', 'cart_changed'];
  console.log(`Chromium ${browser.version()}, ${N} replies (8 deltas, a response, a cart_changed each), median of ${ROUNDS} rounds`);
  console.log(`${'frame'.padEnd(14)}${'bytes'.padStart(7)}${'JSON.parse µs'.padStart(15)}${'widget µs'.padStart(11)}${'ratio'.padStart(8)}`);
  for (const kind of kinds) {
    const r = rounds[0][kind];
    const parse = median(rounds.map((x) => x[kind].parseMs)) * 1000 / r.frames;
    const widget = median(rounds.map((x) => x[kind].widgetMs)) * 1000 / r.frames;
    console.log(`${kind.padEnd(14)}${String(r.bytes).padStart(7)}${parse.toFixed(2).padStart(15)}${widget.toFixed(2).padStart(11)}${(widget / parse).toFixed(2).padStart(8)}`);
  }
  const mix = rounds.map((x) => kinds.reduce((s, k) => s + x[k].widgetMs, 0) / kinds.reduce((s, k) => s + x[k].parseMs, 0));
  console.log(`${'the mix'.padEnd(14)}${''.padStart(33)}${median(mix).toFixed(2).padStart(8)}   (min ${Math.min(...mix).toFixed(2)}, max ${Math.max(...mix).toFixed(2)})`);
} finally {
  await browser.close();
  server.close();
}
