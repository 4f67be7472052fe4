// Benchmark (not a test): the per-frame cost of the widget in Chromium —
// a frame string in, the store's callback objects out — against JSON.parse
// of the same frame strings in the same page.
//
//   cargo xtask wasm && node bindings/wasm/js/bench/frames.mjs [frames per kind]
//
// The page gets a stand-in WebSocket class so that frames are handed to the
// widget's real onmessage path without network noise.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const N = Number(process.argv[2] ?? 20000);
const ROUNDS = 5;
const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

const PAGE = `<!doctype html><meta charset=utf-8><script type=module>
class FakeSocket { constructor(url) { FakeSocket.last = this; this.readyState = 0; } send() {} close() { this.readyState = 3; } }
globalThis.WebSocket = FakeSocket;
const { VIZOCHOKWidget, Session } = await import('./index.js');
window.run = (n) => {
  const product = (i) => ({ sku: 'DAI-' + i, name: 'Halychyna milk 2.5% 870 g', price: 44.9, unit: 'pcs', quantity_step: 1,
    brand: 'Галичина', image_url: '/images/DAI-' + i + '.svg', promo_price: i % 2 ? 37.9 : null });
  const item = (i) => ({ sku: 'DAI-' + i, name: 'Halychyna milk 2.5% 870 g', price: 44.9, promo_price: null, brand: 'Галичина', quantity: i });
  const kinds = {
    delta: (seq) => ({ type: 'delta', seq, message_id: 'r1', reply_to: 'm1', text: 'Here are some kinds of milk I found for you: ' }),
    response_6_cards: (seq) => ({ type: 'response', seq, message_id: 'r1', reply_to: 'm1', text: 'Found 6 products.', products: [1, 2, 3, 4, 5, 6].map(product) }),
    cart_changed_5_items: (seq) => ({ type: 'cart_changed', seq, action: 'item_selected', sku: 'DAI-5', name: 'Milk', quantity: 5, price: 44.9, items: [1, 2, 3, 4, 5].map(item), total: 673.5 }),
    ack_unknown_id: () => ({ type: 'ack', id: 'abc-1' }),
  };
  let calls = 0;
  const count = () => { calls++; };
  const widget = new VIZOCHOKWidget({ apiKey: 'pk_demo', storeId: 'demo-store', serverUrl: 'ws://127.0.0.1:9/v1/ws', persistSession: 'none',
    onCartChanged: count, onMessage: count, onSessionComplete: count, onError: count });
  widget.mount();
  const ws = FakeSocket.last;
  ws.readyState = 1;
  ws.onopen();
  ws.onmessage({ data: JSON.stringify({ type: 'auth_ok', session_id: 's1', restored: false, replay: false }) });
  // The bare core next to it: frame in, drained JSON text out (no JSON.parse, no callbacks).
  const core = new Session('pk_demo', 'demo-store', 'ws://127.0.0.1:9/v1/ws', 1n, 'en', null, null, 0);
  core.connect(0); core.socketOpened(0, 1); core.text(0, 1, JSON.stringify({ type: 'auth_ok', session_id: 's1', restored: false, replay: false })); core.drain();
  let seq = 0;
  let coreSeq = 0;
  const results = {};
  for (const [kind, make] of Object.entries(kinds)) {
    const frames = Array.from({ length: n }, () => JSON.stringify(make(++seq)));
    let sink = 0;
    const t0 = performance.now();
    for (const f of frames) sink += JSON.parse(f).type.length;
    const t1 = performance.now();
    const before = calls;
    for (const f of frames) ws.onmessage({ data: f });
    const t2 = performance.now();
    const coreFrames = Array.from({ length: n }, () => JSON.stringify(make(++coreSeq)));
    const t3 = performance.now();
    for (const f of coreFrames) { core.text(1, 1, f); sink += core.drain().length; }
    const t4 = performance.now();
    results[kind] = { bytes: frames[0].length, jsonParseUs: (t1 - t0) * 1000 / n, widgetUs: (t2 - t1) * 1000 / n, coreUs: (t4 - t3) * 1000 / n, callbacks: calls - before, sink };
  }
  widget.destroy();
  core.free();
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
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => window.ready);
  await page.evaluate((n) => window.run(Math.min(n, 2000)), N); // warm-up
  const rounds = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await page.evaluate((n) => window.run(n), N));
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const results = Object.fromEntries(Object.keys(rounds[0]).map((kind) => [kind, {
    ...rounds[0][kind],
    jsonParseUs: median(rounds.map((r) => r[kind].jsonParseUs)),
    widgetUs: median(rounds.map((r) => r[kind].widgetUs)),
    coreUs: median(rounds.map((r) => r[kind].coreUs)),
  }]));
  console.log(`Chromium ${browser.version()}, ${N} frames per kind, median of ${ROUNDS} rounds (µs per frame)`);
  console.log(`${'frame'.padEnd(24)}${'bytes'.padStart(7)}${'JSON.parse'.padStart(12)}${'core'.padStart(8)}${'widget'.padStart(10)}${'ratio'.padStart(8)}${'callbacks'.padStart(11)}`);
  for (const [kind, r] of Object.entries(results)) {
    console.log(`${kind.padEnd(24)}${String(r.bytes).padStart(7)}${r.jsonParseUs.toFixed(2).padStart(12)}${r.coreUs.toFixed(2).padStart(8)}${r.widgetUs.toFixed(2).padStart(10)}${(r.widgetUs / r.jsonParseUs).toFixed(1).padStart(8)}${String(r.callbacks).padStart(11)}`);
  }
} finally {
  await browser.close();
  server.close();
}
