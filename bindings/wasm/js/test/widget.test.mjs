// The widget's logic that needs no browser: config checks, action results
// and errors, callback isolation, destroy, UI strings, the image-URL filter.
// (The Chromium suite in ../e2e runs the widget against the real sandbox.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_SERVER_URL, Session, VIZOCHOKWidget, uiStrings } from '../../dist/node.js';
import { safeImageUrl } from '../../dist/ui.js';

const CANARY = 'pk_canary_5ecret_do_not_log';
const base = { apiKey: 'pk_demo', storeId: 'demo-store', serverUrl: 'ws://127.0.0.1:9/v1/ws', persistSession: 'none' };

/** Captures console.error while `fn` runs. */
function capture(fn) {
  const lines = [];
  const original = console.error;
  console.error = (...args) => lines.push(args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : String(a))).join(' '));
  try {
    fn();
  } finally {
    console.error = original;
  }
  return lines;
}

test('the constructor takes the seed config and refuses what cannot work, with TypeErrors', () => {
  const w = new VIZOCHOKWidget(base);
  assert.equal(w.state, 'idle');
  assert.equal(w.sessionId, null);
  assert.deepEqual(w.cart, { items: [], total: 0 });
  assert.equal(w.language, 'en');
  w.destroy();
  assert.throws(() => new VIZOCHOKWidget(), TypeError);
  assert.throws(() => new VIZOCHOKWidget({ storeId: 's' }), TypeError);
  assert.throws(() => new VIZOCHOKWidget({ ...base, persistSession: 'cookie' }), TypeError);
  assert.throws(() => new VIZOCHOKWidget({ ...base, onError: 'nope' }), TypeError);
  assert.throws(() => new VIZOCHOKWidget({ ...base, serverUrl: 'ws://shop.example/v1/ws' }), /wss:\/\//);
  assert.throws(() => new VIZOCHOKWidget({ ...base, apiKey: ' ' }), TypeError);
  assert.match(DEFAULT_SERVER_URL, /^wss:\/\//);
});

test('an accepted action returns its id; a refused one fires onError once and returns null', () => {
  const errors = [];
  const w = new VIZOCHOKWidget({ ...base, language: 'uk', onError: (e) => errors.push(e) });
  const id = w.sendMessage('молоко');
  assert.match(id, /^[0-9a-f]{12}-0$/);
  assert.equal(w.sendMessage('x'.repeat(2001)), null);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 'message_too_large');
  assert.equal(errors[0].message, 'Повідомлення задовге.');
  for (let i = 1; i < 32; i++) assert.ok(w.clearCart());
  assert.equal(w.removeItem('DAI-001'), null, 'the 33rd waiting action');
  assert.equal(errors.length, 2);
  assert.equal(errors[1].code, 'queue_full');
  w.destroy();
});

test('misuse throws: TypeError for a wrong type, RangeError for a value the core refuses', () => {
  const w = new VIZOCHOKWidget(base);
  assert.throws(() => w.sendMessage(42), TypeError);
  assert.throws(() => w.sendMessage('   '), RangeError);
  assert.throws(() => w.updateQuantity('DAI-001', -1), RangeError);
  assert.throws(() => w.updateQuantity('DAI-001', '2'), TypeError);
  assert.throws(() => w.selectProduct(null), TypeError);
  assert.throws(() => w.selectProduct({ sku: 'X' }), TypeError, 'not a ProductItem');
  const milk = { sku: 'DAI-007', name: 'Milk', price: 38, unit: 'l', quantity_step: 0.5, brand: null, image_url: null, promo_price: null };
  assert.throws(() => w.selectProduct(milk, 0.7), RangeError, 'not a multiple of quantity_step');
  assert.throws(() => w.setLanguage(1), TypeError);
  w.destroy();
});

test('selectProduct fires onProductClick with the chosen quantity and returns the action id', () => {
  const clicks = [];
  const w = new VIZOCHOKWidget({ ...base, onProductClick: (p) => clicks.push(p) });
  const milk = { sku: 'DAI-007', name: 'Milk', price: 38, unit: 'l', quantity_step: 0.5, brand: null, image_url: null, promo_price: null };
  assert.ok(w.selectProduct(milk, 1.5));
  assert.ok(w.selectProduct(milk));
  assert.deepEqual(clicks.map((p) => [p.sku, p.quantity]), [['DAI-007', 1.5], ['DAI-007', 0.5]]);
  w.destroy();
});

test('a throwing callback is reported to the console and the other callbacks still run', () => {
  const seen = [];
  const w = new VIZOCHOKWidget({
    ...base,
    onError: () => { throw new Error('store bug in onError'); },
    onStateChange: (s) => seen.push(s),
  });
  const lines = capture(() => {
    assert.equal(w.sendMessage('y'.repeat(3000)), null);
    w.mount();
  });
  assert.ok(lines.some((l) => l.includes('onError callback threw') && l.includes('store bug in onError')), lines.join('\n'));
  // mount() went on after the throwing callback: connecting, then (no WebSocket in node) a failed socket.
  assert.equal(seen[0], 'connecting');
  assert.ok(seen.includes('reconnecting'), seen.join());
  w.destroy();
  assert.equal(w.state, 'destroyed');
});

test('a callback that calls back into the widget keeps the order of outputs', () => {
  const order = [];
  const w = new VIZOCHOKWidget({
    ...base,
    onStateChange: (s) => {
      order.push(`state:${s}`);
      if (s === 'connecting') order.push(`sent:${w.sendMessage('from a callback') !== null}`);
    },
  });
  w.mount();
  assert.deepEqual(order.slice(0, 2), ['state:connecting', 'sent:true']);
  w.destroy();
});

test('destroy fires nothing twice, keeps the last state readable and makes later calls throw', () => {
  const w = new VIZOCHOKWidget(base);
  w.destroy();
  w.destroy();
  assert.equal(w.state, 'destroyed');
  assert.deepEqual(w.cart, { items: [], total: 0 });
  assert.throws(() => w.sendMessage('hi'), /destroyed/);
  assert.throws(() => w.mount(), /destroyed/);
});

test('the api key appears in no error, log line or widget field', () => {
  const errors = [];
  const thrown = [];
  const lines = capture(() => {
    for (const bad of [{ serverUrl: 'ws://evil.example/' }, { serverUrl: `wss://${CANARY}@evil.example/` }, { storeId: '' }]) {
      try {
        new VIZOCHOKWidget({ ...base, apiKey: CANARY, ...bad });
      } catch (e) {
        thrown.push(`${e.name}: ${e.message} ${e.stack}`);
      }
    }
    const w = new VIZOCHOKWidget({ ...base, apiKey: CANARY, onError: (e) => { errors.push(e); throw new Error('boom'); } });
    w.sendMessage('z'.repeat(5000));
    w.mount();
    thrown.push(JSON.stringify(w), String(w), JSON.stringify(Object.getOwnPropertyNames(w)));
    w.destroy();
  });
  assert.equal(thrown.length, 6);
  assert.ok(errors.length >= 2);
  const everything = [...thrown, ...lines, JSON.stringify(errors)].join('\n');
  assert.ok(!everything.includes(CANARY), everything);
});

test('UI strings come from the core in English and Ukrainian', () => {
  const en = uiStrings('en');
  const uk = uiStrings('uk');
  assert.equal(en.send, 'Send');
  assert.equal(uk.send, 'Надіслати');
  assert.deepEqual(Object.keys(en), Object.keys(uk));
  assert.ok(Object.keys(en).length >= 20);
  assert.deepEqual(uiStrings('de'), en, 'other languages fall back to English');
});

test('setLanguage switches the texts of later errors', () => {
  const errors = [];
  const w = new VIZOCHOKWidget({ ...base, onError: (e) => errors.push(e.message) });
  w.sendMessage('q'.repeat(2001));
  w.setLanguage('uk');
  assert.equal(w.language, 'uk');
  w.sendMessage('q'.repeat(2001));
  assert.deepEqual(errors, ['The message is too long.', 'Повідомлення задовге.']);
  w.destroy();
});

test('only https:, http: and data:image/ image URLs are shown', () => {
  const server = 'http://127.0.0.1:8787/v1/ws';
  assert.equal(safeImageUrl('/images/DAI-001.svg', server), 'http://127.0.0.1:8787/images/DAI-001.svg');
  assert.equal(safeImageUrl('https://cdn.example/a.png', server), 'https://cdn.example/a.png');
  assert.equal(safeImageUrl('data:image/png;base64,AAAA', server), 'data:image/png;base64,AAAA');
  for (const bad of ['javascript:alert(1)', ' JavaScript:alert(1)', '\tjavascript:alert(1)', 'data:text/html,<script>', 'vbscript:x', 'file:///etc/passwd', null, 42]) {
    assert.equal(safeImageUrl(bad, server), null, String(bad));
  }
});

test('the exported Session is the sans-IO core', () => {
  const s = new Session('pk_demo', 'demo-store', 'ws://127.0.0.1:8787/v1/ws', 7n, 'en', null, null, 0);
  s.connect(0);
  const outputs = JSON.parse(s.drain());
  assert.deepEqual(outputs, [{ state: 'connecting' }, { open: 1, url: 'ws://127.0.0.1:8787/v1/ws' }]);
  assert.equal(s.pollTimeout(), 10_000, 'the socket-open deadline');
  s.free();
});
