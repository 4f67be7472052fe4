// Replays every shared scenario file (scenarios/*.json, docs/scenarios.md)
// through the package's public sans-IO `Session`, exactly as the Rust
// reference runner does, and compares the normalized outputs.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Session } from '../../dist/node.js';

const API_KEY = 'pk_scenario';
const STORE_ID = 'scenario-store';
const URL_ = 'ws://127.0.0.1:8787/v1/ws';
const MAX_TIMEOUTS_PER_ADVANCE = 10_000;
const DIR = new URL('../../../../scenarios/', import.meta.url);

const mapStrings = (value, f) => {
  if (typeof value === 'string') return f(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
  }
  return value;
};

/** `expected` matches `actual`: "*" matches anything; numbers compare as numbers; no extra fields. */
export function matches(expected, actual) {
  if (expected === '*') return true;
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.length === actual.length && expected.every((x, i) => matches(x, actual[i]));
  }
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const keys = Object.keys(expected);
    return keys.length === Object.keys(actual).length && keys.every((k) => k in actual && matches(expected[k], actual[k]));
  }
  return expected === actual;
}

class Runner {
  constructor(config = {}) {
    this.session = new Session(
      API_KEY, STORE_ID, URL_, BigInt(config.seed ?? 1), config.language ?? 'en',
      config.user_id ?? null, config.session_id ?? null, config.last_seq ?? 0,
    );
    this.now = 0;
    this.socket = 0;
    this.names = new Map();
    this.ids = new Map();
  }

  step(step) {
    const out = [];
    const s = this.session;
    if ('recv' in step) {
      const frame = mapStrings(step.recv, (v) => (v.startsWith('$') ? this.names.get(v.slice(1)) : undefined));
      s.text(this.now, this.socket, JSON.stringify(frame));
    } else if ('recv_text' in step) {
      s.text(this.now, this.socket, step.recv_text);
    } else if ('advance' in step) {
      const target = this.now + step.advance;
      let fired = 0;
      for (let t = s.pollTimeout(); t !== undefined && t <= target; t = s.pollTimeout()) {
        this.now = Math.max(this.now, t);
        s.timeout(this.now);
        this.drain(out);
        if (++fired > MAX_TIMEOUTS_PER_ADVANCE) throw new Error(`pollTimeout stuck at ${t}`);
      }
      this.now = target;
    } else if (typeof step.do === 'string') {
      this.act(step, out);
    } else {
      throw new Error(`unknown step ${JSON.stringify(step)}`);
    }
    this.drain(out);
    return out;
  }

  act(step, out) {
    const s = this.session;
    const now = this.now;
    const inputs = {
      connect: () => s.connect(now),
      socket_opened: () => s.socketOpened(now, this.socket),
      binary: () => s.binary(now, this.socket, step.len),
      socket_closed: () => s.socketClosed(now, this.socket, step.code ?? undefined, ''),
      socket_error: () => s.socketError(now, this.socket, 'refused'),
      network_online: () => s.networkOnline(now),
      close: () => s.close(now),
      destroy: () => s.destroy(now),
    };
    if (step.do in inputs) return inputs[step.do]();
    const actions = {
      send_message: () => s.sendMessage(now, step.text),
      select_product: () => s.selectProduct(now, JSON.stringify(step.product), step.quantity),
      update_quantity: () => s.updateQuantity(now, step.sku, step.quantity),
      remove_item: () => s.removeItem(now, step.sku),
      clear_cart: () => s.clearCart(now),
      reset: () => s.reset(now),
    };
    const action = actions[step.do];
    if (!action) throw new Error(`unknown action ${step.do}`);
    let id;
    try {
      id = action();
    } catch (error) {
      if (error instanceof RangeError) out.push({ invalid: true });
      else if (/destroyed/.test(error.message)) out.push({ destroyed: true });
      else throw error;
      return;
    }
    if (id === undefined && step.do !== 'reset') {
      // Refused with a code: the core emitted that error as an output.
      const pending = JSON.parse(s.drain());
      const error = pending.find((o) => o.on === 'error');
      out.push({ rejected: error?.data.code });
      this.push(out, pending);
    } else if (id && step.as) {
      this.names.set(step.as, id);
      this.ids.set(id, `$${step.as}`);
    }
  }

  drain(out) {
    this.push(out, JSON.parse(this.session.drain()));
  }

  push(out, outputs) {
    for (const o of outputs) {
      let v;
      if ('open' in o) {
        this.socket = o.open;
        v = { open: true };
      } else if ('send' in o) v = { send: JSON.parse(o.send) };
      else if ('close' in o) v = { close: o.code };
      else if (o.on === 'error') {
        v = { on: 'error', data: { code: o.data.code } };
        if (o.data.reply_to !== undefined) v.data.reply_to = o.data.reply_to;
      } else v = o;
      out.push(mapStrings(v, (str) => this.ids.get(str)));
    }
  }
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

test('the scenario directory has files', () => {
  assert.ok(files.length > 0, `no scenario files in ${DIR.pathname}`);
});

for (const file of files) {
  test(`scenario ${file}`, () => {
    const scenario = JSON.parse(readFileSync(new URL(file, DIR), 'utf8'));
    const runner = new Runner(scenario.config ?? {});
    try {
      scenario.steps.forEach((step, i) => {
        const actual = runner.step(step);
        if (!matches(step.expect, actual)) {
          assert.fail(`${scenario.name}\n  step ${i}: ${JSON.stringify(step)}\n  expected: ${JSON.stringify(step.expect)}\n  actual:   ${JSON.stringify(actual)}`);
        }
      });
    } finally {
      runner.session.free();
    }
  });
}

test('the matcher is strict where it must be', () => {
  assert.ok(matches([{ a: 2 }], [{ a: 2.0 }]));
  assert.ok(matches({ a: '*' }, { a: { deep: [1] } }));
  assert.ok(!matches([{ a: 1 }], [{ a: 1 }, { b: 2 }]), 'extra outputs fail');
  assert.ok(!matches({ a: 1 }, { a: 1, b: null }), 'extra fields fail');
  assert.ok(!matches({ a: null }, {}), 'null is not absent');
  assert.ok(!matches('x', '*'));
});
