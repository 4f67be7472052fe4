// The widget's API in node, through the packed package and a scripted
// transport: config checks, calls before the core is ready, action results
// and errors, destroy, secrets, and the UI's URL filter. (The scenario suite
// covers the protocol; the Chromium suite in ../e2e runs the real thing.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';

/** The memory of each module instance the package starts, for the test that weighs it. */
const memories = [];
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async (...args) => {
  const started = await instantiate(...args);
  memories.push((started.instance ?? started).exports.memory);
  return started;
};

const PACKAGE = process.env.VIZOCHOK_PACKAGE ?? 'vizochok';
const { DEFAULT_SERVER_URL, VIZOCHOKWidget } = await import(PACKAGE);
const { safeImageUrl } = await import(new URL('vizochok-ui.mjs', import.meta.resolve(PACKAGE)).href);

const CANARY = 'pk_canary_5ecret_do_not_log';
const TOKEN = 'tok_canary_also_secret';

/** A transport that records what the widget asks and lets a test play the server. */
function scripted() {
  const t = { sent: [], closed: [], events: null, opens: 0, now: () => 0 };
  t.open = (_socket, _url, events) => { t.events = events; t.opens += 1; };
  t.send = (_socket, text) => t.sent.push(JSON.parse(text));
  t.close = (_socket, code) => t.closed.push(code);
  t.setTimer = () => {};
  return t;
}

const base = (transport = scripted()) => ({
  apiKey: 'pk_demo', storeId: 'demo-store', serverUrl: 'ws://127.0.0.1:9/v1/ws', persistSession: 'none', ui: false, transport,
});

async function connected(config = {}) {
  const transport = scripted();
  const w = new VIZOCHOKWidget({ ...base(transport), ...config });
  await w.ready;
  transport.events.opened();
  transport.events.text(JSON.stringify({ type: 'auth_ok', session_id: 's1', restored: false, replay: false }));
  return { w, transport };
}

/** Captures console.error while `fn` runs. */
async function capture(fn) {
  const lines = [];
  const original = console.error;
  console.error = (...args) => lines.push(args.map((a) => (a instanceof Error ? `${a.name}: ${a.message} ${a.stack}` : String(a))).join(' '));
  try {
    await fn();
  } finally {
    console.error = original;
  }
  return lines;
}

test('the config is checked: wrong types throw at once, what the core refuses rejects ready', async () => {
  assert.throws(() => new VIZOCHOKWidget(), TypeError);
  assert.throws(() => new VIZOCHOKWidget({ storeId: 's' }), TypeError);
  assert.throws(() => new VIZOCHOKWidget({ ...base(), persistSession: 'cookie' }), TypeError);
  assert.throws(() => new VIZOCHOKWidget({ ...base(), onError: 'nope' }), TypeError);
  assert.throws(() => new VIZOCHOKWidget({ ...base(), starters: ['ok', 1] }), TypeError);
  assert.throws(() => new VIZOCHOKWidget({ ...base(), currency: 'грн' }), /ISO 4217/);
  new VIZOCHOKWidget({ ...base(), currency: 'EUR', autoConnect: false }).destroy();
  const lines = await capture(async () => {
    await assert.rejects(new VIZOCHOKWidget({ ...base(), serverUrl: 'ws://shop.example/v1/ws' }).ready, /wss:\/\//);
    await assert.rejects(new VIZOCHOKWidget({ ...base(), apiKey: ' ' }).ready, TypeError);
  });
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.ok(lines.every((l) => l.startsWith('VIZOCHOK: the widget could not start')), lines.join('\n'));
  assert.match(DEFAULT_SERVER_URL, /^wss:\/\//);
});

test('the widget connects as soon as it is created, unless told not to', async () => {
  const transport = scripted();
  const w = new VIZOCHOKWidget(base(transport));
  await w.ready;
  assert.equal(transport.opens, 1);
  assert.equal(w.state, 'connecting');
  const idle = new VIZOCHOKWidget({ ...base(), autoConnect: false });
  await idle.ready;
  assert.equal(idle.state, 'idle');
  w.destroy();
  idle.destroy();
});

test('calls made before the core is loaded are queued, not lost, and run in order', async () => {
  const transport = scripted();
  const messages = [];
  const w = new VIZOCHOKWidget({ ...base(transport), onMessage: (m) => messages.push(m) });
  assert.equal(w.sendMessage('first'), undefined, 'no id before the core is loaded');
  assert.equal(w.clearCart(), undefined);
  await w.ready;
  assert.equal(w.pendingActions.map((a) => a.kind).join(), 'message,clear_cart');
  transport.events.opened();
  transport.events.text(JSON.stringify({ type: 'auth_ok', session_id: 's1', restored: false, replay: false }));
  assert.deepEqual(transport.sent.map((f) => f.type), ['auth', 'message', 'clear_cart']);
  w.destroy();
});

test('a call the core refuses, made before it loaded, is logged and the widget starts with the calls after it', async () => {
  const transport = scripted();
  const w = new VIZOCHOKWidget(base(transport));
  assert.equal(w.sendMessage('   '), undefined);
  assert.equal(w.sendMessage('hello'), undefined);
  const lines = await capture(() => w.ready);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /before the widget was ready.*RangeError/);
  assert.equal(w.state, 'connecting');
  transport.events.opened();
  transport.events.text(JSON.stringify({ type: 'auth_ok', session_id: 's1', restored: false, replay: false }));
  assert.deepEqual(transport.sent.map((f) => f.text ?? f.type), ['auth', 'hello']);
  w.destroy();
});

test('destroy from a callback of a call made before load ends the start: no later call, no onReady', async () => {
  const fired = [];
  const w = new VIZOCHOKWidget({
    ...base(), autoConnect: false,
    onError: (e) => { fired.push(e.code); w.destroy(); }, onReady: () => fired.push('ready'),
  });
  assert.equal(w.sendMessage('x'.repeat(5000)), undefined);
  assert.equal(w.sendMessage('hello'), undefined);
  const lines = await capture(() => w.ready);
  assert.deepEqual(fired, ['message_too_large']);
  assert.deepEqual(lines, [], 'the call after it did not run');
  assert.equal(w.state, 'destroyed');
});

test('a destroyed widget the page keeps holds none of its callbacks or config, and still answers reads', async () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  /** A widget whose callbacks alone hold a component object, and a weak reference to that object. */
  const held = (make) => {
    const component = { state: 'what a store component keeps' };
    const callbacks = { onCartChanged: () => component.state, onStateChange: () => component.state, language: 'uk' };
    return { ref: new WeakRef(component), made: make(callbacks) };
  };
  const running = held((callbacks) => connected(callbacks));
  const { w } = await running.made;
  // Destroyed before its core loaded (StrictMode's first mount, say): no release will come from the core.
  const early = held((callbacks) => new VIZOCHOKWidget({ ...base(), ...callbacks }));
  early.made.destroy();
  w.destroy();
  // A WeakRef's target is kept until the current job ends: collect in the next one.
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc();
  assert.equal(running.ref.deref(), undefined, 'the callbacks were let go');
  assert.equal(early.ref.deref(), undefined, 'the callbacks of a widget destroyed before it loaded were let go');
  for (const widget of [w, early.made]) {
    assert.equal(widget.state, 'destroyed');
    assert.equal(widget.language, 'uk');
    assert.deepEqual(widget.cart.items, []);
  }
  await early.made.ready;
});

test('a destroyed widget the page keeps holds no frame: the last one may be a MiB, as text and parsed', async () => {
  const { w, transport } = await connected();
  const marker = `frame-${Math.random().toString(36).slice(2)}`;
  // In a function of its own: a frame still on this one's stack would be held by it, not by the widget.
  (() => {
    const m = w.sendMessage('milk');
    transport.events.text(JSON.stringify({ type: 'response', seq: 1, message_id: 'r1', reply_to: m, text: `${marker} ${'ї'.repeat(400_000)}` }));
  })();
  w.destroy();
  await new Promise((resolve) => setTimeout(resolve, 0));
  // A heap snapshot collects first, then names every string still reachable.
  const snapshot = await new Promise((resolve, reject) => {
    let text = '';
    v8.getHeapSnapshot().setEncoding('utf8').on('data', (chunk) => { text += chunk; }).on('end', () => resolve(text)).on('error', reject);
  });
  const held = JSON.parse(snapshot).strings.filter((s) => s.includes(marker) && s.length > marker.length);
  assert.deepEqual(held.map((s) => s.slice(0, 60)), []);
  assert.equal(w.state, 'destroyed');
});

test('an empty reply (stopped before its first word) counts nothing unread; mount() shows the chat and counts 0', async () => {
  const counts = [];
  const { w, transport } = await connected({ onUnreadChange: (n) => counts.push(n) });
  const reply = (seq, id, text, more) => transport.events.text(JSON.stringify({ type: 'response', seq, message_id: `r${seq}`, reply_to: id, text, products: [], ...more }));
  reply(1, w.sendMessage('milk'), '', { cancelled: true });
  assert.equal(w.unreadCount, 0, 'nothing to read');
  reply(2, w.sendMessage('bread'), 'Here is bread');
  assert.equal(w.unreadCount, 1);
  // Headless in node: no document, so no UI loads, but the chat would be on screen.
  await w.mount({ attachShadow() {} });
  assert.equal(w.unreadCount, 0);
  assert.deepEqual(counts, [1, 0]);
  w.destroy();
});

test('destroy from inside a callback closes the socket and reports the disconnect', async () => {
  const transport = scripted();
  const seen = [];
  const w = new VIZOCHOKWidget({
    ...base(transport),
    onSessionComplete: () => { seen.push('complete'); w.destroy(); },
    onDisconnect: () => seen.push('disconnect'),
    onStateChange: (state) => seen.push(state),
  });
  await w.ready;
  transport.events.opened();
  const summary = { selected_items: [], total: 0, item_count: 0 };
  transport.events.text(JSON.stringify({ type: 'auth_ok', session_id: 's1', restored: true, replay: false, summary }));
  assert.deepEqual(transport.closed, [1000]);
  assert.equal(w.state, 'destroyed');
  assert.deepEqual(seen.slice(seen.indexOf('complete')), ['complete', 'disconnect', 'destroyed']);
});

test('an accepted action returns its id; a refused one fires onError once and returns null', async () => {
  const errors = [];
  const { w } = await connected({ language: 'uk', onError: (e) => errors.push(e) });
  assert.match(w.sendMessage('молоко'), /^[0-9a-f]{12}-0$/);
  assert.equal(w.sendMessage('x'.repeat(2001)), null);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 'message_too_large');
  assert.equal(errors[0].message, 'Повідомлення задовге.');
  for (let i = 1; i < 32; i++) assert.ok(w.clearCart());
  assert.equal(w.removeItem('DAI-001'), null, 'the 33rd waiting action');
  assert.deepEqual(errors.map((e) => e.code), ['message_too_large', 'queue_full']);
  w.destroy();
});

test('misuse throws: TypeError for a wrong type, RangeError for a value the core refuses', async () => {
  const { w } = await connected();
  assert.throws(() => w.sendMessage(42), TypeError);
  assert.throws(() => w.sendMessage('   '), RangeError);
  assert.throws(() => w.updateQuantity('DAI-001', -1), RangeError);
  assert.throws(() => w.updateQuantity('DAI-001', '2'), TypeError);
  assert.throws(() => w.selectProduct(null), TypeError);
  assert.throws(() => w.selectProduct({ sku: 'X' }), TypeError, 'not a ProductItem');
  const milk = { sku: 'DAI-007', name: 'Milk', price: 38, unit: 'l', quantity_step: 0.5, brand: null, image_url: null, promo_price: null };
  assert.throws(() => w.selectProduct(milk, 0.7), RangeError, 'not a multiple of quantity_step');
  assert.throws(() => w.feedback('r1', 'meh'), TypeError);
  assert.throws(() => w.setContext(null), TypeError);
  assert.throws(() => w.setLanguage(1), TypeError);
  assert.equal(w.stop(), null, 'nothing streams');
  w.destroy();
});

test('setContext, stop and feedback send their frames', async () => {
  const { w, transport } = await connected();
  w.setContext({ page: { url: 'https://shop.example/p/1', title: 'Milk' }, sku: 'DAI-001', currency: 'UAH', extra: 1 });
  const m = w.sendMessage('add this');
  transport.events.text(JSON.stringify({ type: 'delta', seq: 1, message_id: 'r1', reply_to: m, text: 'Adding' }));
  const cancel = w.stop();
  w.feedback('r0', 'down', 'slow');
  assert.deepEqual(transport.sent.slice(1), [
    { type: 'context', id: transport.sent[1].id, page: { url: 'https://shop.example/p/1', title: 'Milk' }, sku: 'DAI-001', currency: 'UAH' },
    { type: 'message', id: m, text: 'add this' },
    { type: 'cancel', id: cancel, reply_to: m },
    { type: 'feedback', id: transport.sent[4].id, message_id: 'r0', rating: 'down', comment: 'slow' },
  ]);
  w.destroy();
});

test('a reply reaches onMessage with exactly the contract fields and its Markdown blocks', async () => {
  const messages = [];
  const { w, transport } = await connected({ onMessage: (msg) => messages.push(msg) });
  const m = w.sendMessage('milk');
  transport.events.text(JSON.stringify({ type: 'response', seq: 1, message_id: 'r1', reply_to: m, text: 'Here is **milk**',
    products: [{ sku: 'a', name: 'A', price: 1, unit: 'pcs', quantity_step: 1, x: 1 }], future_field: true }));
  const reply = messages.find((x) => x.type === 'response');
  assert.deepEqual(Object.keys(reply).sort(), ['blocks', 'cancelled', 'message_id', 'products', 'reply_to', 'suggestions', 'text', 'type']);
  assert.deepEqual(reply.products[0], { sku: 'a', name: 'A', price: 1, unit: 'pcs', quantity_step: 1, brand: null, image_url: null, promo_price: null });
  assert.deepEqual(reply.blocks[0].spans.map((s) => [s.text, s.bold]), [['Here is ', false], ['milk', true]]);
  w.destroy();
});

test('text of every script reaches the core and the app unchanged, a lone surrogate as U+FFFD', async () => {
  const messages = [];
  const { w, transport } = await connected({ onMessage: (msg) => messages.push(msg) });
  const texts = ['plain', 'Галичина молоко 2,5%', '€ ✓ 中文', 'emoji 😀 and 𝄞', 'x\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}'];
  // Feedback comments: sent at once, one frame each (messages wait for each other).
  for (const text of texts) w.feedback('r0', 'up', text);
  w.feedback('r0', 'up', 'lone \ud800 high, lone \udc00 low, 😀 then \ud83d');
  assert.deepEqual(transport.sent.slice(1).map((f) => f.comment),
    [...texts, 'lone \ufffd high, lone \ufffd low, 😀 then \ufffd']);
  for (const [seq, text] of texts.entries()) {
    transport.events.text(JSON.stringify({ type: 'delta', seq: seq + 1, message_id: 'r1', reply_to: 'm1', text }));
  }
  assert.deepEqual(messages.filter((m) => m.type === 'delta').map((m) => m.text), texts);
  w.destroy();
});

test('a frame far past the 1 MiB limit is reported and dropped without growing the module memory', async () => {
  const errors = [];
  const { w, transport } = await connected({ onError: (e) => errors.push(e) });
  const memory = memories.at(-1);
  const before = memory.buffer.byteLength;
  const huge = `{"type":"ping","pad":"${'ї'.repeat(3 << 20)}"}`;
  transport.events.text(huge);
  assert.deepEqual(errors.map((e) => [e.code, e.detail]), [['ws_error', `frame of ${24 + (6 << 20)} bytes exceeds the 1048576-byte limit`]]);
  // WebAssembly memory never shrinks: a copy would have kept 9 MiB or more for the page's life.
  assert.equal(memory.buffer.byteLength, before);
  assert.deepEqual([w.state, transport.closed, transport.opens], ['connected', [], 1], 'the connection goes on');
  w.destroy();
});

test('destroy is safe twice, closes the socket, keeps the last state readable and refuses actions', async () => {
  const { w, transport } = await connected();
  const id = w.sendMessage('hi');
  w.destroy();
  w.destroy();
  assert.deepEqual(transport.closed, [1000]);
  assert.equal(w.state, 'destroyed');
  assert.equal(w.sessionId, 's1');
  assert.deepEqual(w.pendingActions, [{ id, kind: 'message', sent: true }]);
  assert.throws(() => w.sendMessage('late'), /destroyed/);
  w.connect();
  assert.equal(w.state, 'destroyed');
});

test('destroy before the core is loaded leaves nothing running', async () => {
  const transport = scripted();
  const w = new VIZOCHOKWidget(base(transport));
  w.destroy();
  await w.ready;
  assert.equal(transport.opens, 0);
  assert.equal(w.state, 'destroyed');
});

test('the api key and the user token appear in no error, log line or widget field', async () => {
  const errors = [];
  const thrown = [];
  const lines = await capture(async () => {
    for (const bad of [{ serverUrl: 'ws://evil.example/' }, { serverUrl: `wss://evil.example/?k=${CANARY}` }, { storeId: '' }]) {
      await new VIZOCHOKWidget({ ...base(), apiKey: CANARY, userToken: TOKEN, ...bad }).ready.catch((e) => thrown.push(`${e.name}: ${e.message} ${e.stack}`));
    }
    const { w, transport } = await connected({ apiKey: CANARY, userId: 'u1', userToken: TOKEN, onError: (e) => { errors.push(e); throw new Error(`boom ${e.detail}`); } });
    w.sendMessage('z'.repeat(5000));
    transport.events.text(`{"type":"error","seq":1,"code":"internal_error","message":"${CANARY} ${TOKEN}"}`);
    transport.events.text(`{"broken": "${CANARY}`);
    thrown.push(JSON.stringify(w), String(w), JSON.stringify(Object.getOwnPropertyNames(w)), JSON.stringify(w.pendingActions));
    w.destroy();
  });
  assert.equal(thrown.length, 7);
  assert.ok(errors.length >= 3);
  const everything = [...thrown, ...lines, JSON.stringify(errors)].join('\n');
  assert.ok(!everything.includes(CANARY) && !everything.includes(TOKEN), everything);
});

test('only https:, http: relative to the server and data:image/ image URLs are shown', () => {
  const server = 'http://127.0.0.1:8787/v1/ws';
  assert.equal(safeImageUrl('/images/DAI-001.svg', server), 'http://127.0.0.1:8787/images/DAI-001.svg');
  // Another host over plain http breaks under the documented CSP (img-src https:) and on an https page.
  assert.equal(safeImageUrl('http://cdn.example/a.png', server), null);
  assert.equal(safeImageUrl(' HTTP://cdn.example/a.png', server), null);
  assert.equal(safeImageUrl('https://cdn.example/a.png', server), 'https://cdn.example/a.png');
  assert.equal(safeImageUrl('data:image/png;base64,AAAA', server), 'data:image/png;base64,AAAA');
  for (const bad of ['javascript:alert(1)', ' JavaScript:alert(1)', '\tjavascript:alert(1)', 'data:text/html,<script>', 'vbscript:x', 'file:///etc/passwd', null, 42]) {
    assert.equal(safeImageUrl(bad, server), null, String(bad));
  }
});

test('a transport that hands in frames from inside send gives each event its own frame', async () => {
  // Browser sockets deliver later; a test double may answer at once, so a
  // frame arrives while the events of the one before are still in hand.
  const item = (quantity) => ({ sku: 'milk-1', name: 'Milk', price: 2, promo_price: null, brand: null, quantity });
  const change = (seq, quantity) => ({ type: 'cart_changed', seq, action: 'quantity_updated', sku: 'milk-1', name: 'Milk',
    quantity, price: 2, items: [item(quantity)], total: 2 * quantity });
  const seen = [];
  const { w, transport } = await connected({ onCartChanged: (cart) => seen.push(cart.quantity) });
  transport.send = (_socket, text) => {
    const frame = JSON.parse(text);
    if (frame.type !== 'update_quantity') return;
    transport.events.text(JSON.stringify({ type: 'ack', id: frame.id }));
    transport.events.text(JSON.stringify(change(1, 2)));
    transport.events.text(JSON.stringify(change(2, 3)));
  };
  w.updateQuantity('milk-1', 2);
  assert.deepEqual(seen, [2, 3]);
  assert.deepEqual(w.cart.items.map((i) => i.quantity), [3]);
});
