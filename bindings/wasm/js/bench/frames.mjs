// Benchmark (not a test): the per-frame cost of the widget in Chromium — a
// frame's text in, the store's callback objects out — against JSON.parse of
// the same frame strings, side by side in one page.
//
//   cargo xtask wasm && node bindings/wasm/js/bench/frames.mjs [replies] [rounds]
//
// The widget gets a scripted transport (its public `transport` option), so a
// frame goes the whole way from the socket's message to the callbacks with
// no network in between. The mix is what one reply really streams: 8 deltas,
// a response with 6 cards and a summary, and a cart_changed with 5 items.
//
// Times are the page's main-thread CPU time (DevTools' ThreadTime), not the
// wall clock: the machine is shared, and CPU time does not count the time
// other processes hold the core. Each round times, per kind of frame, one
// batch of fresh frames with JSON.parse and then the same strings through the
// widget; the cost of an empty call is taken off both. Ratios are the median
// over rounds, with the best and worst round. `DIST=dir` measures another
// build of the package.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const DIST = process.env.DIST ?? fileURLToPath(new URL('../../dist/', import.meta.url));
const N = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 9);
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
const PER_REPLY = { delta: 8, response: 1, cart_changed: 1 };
let events;
let calls = 0;
const widget = new VIZOCHOKWidget({
  apiKey: 'pk_demo', storeId: 'demo-store', serverUrl: 'ws://127.0.0.1:9/v1/ws', persistSession: 'none', ui: false,
  onCartChanged: () => { calls++; }, onMessage: () => { calls++; }, onSessionComplete: () => { calls++; },
  transport: { now: () => 0, open: (socket, url, e) => { events = e; }, send() {}, close() {}, setTimer() {} },
});
await widget.ready;
events.opened();
events.text(JSON.stringify({ type: 'auth_ok', session_id: 's1', restored: false, replay: false }));
let seq = 0;
let reply = 0;
let list = [];
/** Fresh frames of one kind (rising seq, so the widget applies every one). */
window.prepare = (kind, replies) => {
  list = [];
  for (let r = 0; r < replies; r++) for (let k = 0; k < PER_REPLY[kind]; k++) list.push(JSON.stringify(kinds[kind](++seq, reply + r)));
  reply += replies;
  return { frames: list.length, bytes: list[0].length };
};
window.parse = () => {
  let sink = 0;
  for (const f of list) sink += JSON.parse(f).type.length;
  return sink;
};
window.feed = () => {
  const before = calls;
  for (const f of list) events.text(f);
  return calls - before;
};
window.nothing = () => 0;
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
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable', { timeDomain: 'threadTicks' });
  const cpu = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'ThreadTime').value;
  /** Main-thread CPU time of one call into the page, in ms. */
  const timed = async (name) => {
    const before = await cpu();
    const result = await page.evaluate((f) => window[f](), name);
    return { ms: ((await cpu()) - before) * 1000, result };
  };
  const kinds = ['delta', 'response', 'cart_changed'];
  const rounds = [];
  for (let i = 0; i <= ROUNDS; i++) {
    const round = {};
    for (const kind of kinds) {
      const { frames, bytes } = await page.evaluate(([k, n]) => window.prepare(k, n), [kind, N]);
      const empty = Math.min((await timed('nothing')).ms, (await timed('nothing')).ms);
      const parse = (await timed('parse')).ms - empty;
      const feed = await timed('feed');
      // Every frame reaches the app (a response also as onSessionComplete), none is dropped as stale.
      if (feed.result < frames) throw new Error(`${kind}: ${feed.result} callbacks for ${frames} frames`);
      round[kind] = { frames, bytes, parseMs: parse, widgetMs: feed.ms - empty };
    }
    if (i > 0) rounds.push(round); // the first round warms up
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const ratio = (round, ks) => ks.reduce((s, k) => s + round[k].widgetMs, 0) / ks.reduce((s, k) => s + round[k].parseMs, 0);
  const row = (name, bytes, parse, widget, ratios) => console.log(`${name.padEnd(14)}${bytes.padStart(7)}${parse.padStart(15)}${widget.padStart(11)}${median(ratios).toFixed(2).padStart(8)}${`${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`.padStart(13)}`);
  console.log(`Chromium ${browser.version()}, ${N} replies (8 deltas, a response, a cart_changed each) a round, ${ROUNDS} rounds, main-thread CPU time`);
  console.log(`${'frame'.padEnd(14)}${'bytes'.padStart(7)}${'JSON.parse µs'.padStart(15)}${'widget µs'.padStart(11)}${'ratio'.padStart(8)}${'range'.padStart(13)}`);
  for (const kind of kinds) {
    const r = rounds[0][kind];
    const us = (field) => (median(rounds.map((x) => x[kind][field])) * 1000 / r.frames).toFixed(2);
    row(kind, String(r.bytes), us('parseMs'), us('widgetMs'), rounds.map((x) => ratio(x, [kind])));
  }
  row('the mix', '', '', '', rounds.map((x) => ratio(x, kinds)));
} finally {
  await browser.close();
  server.close();
}
