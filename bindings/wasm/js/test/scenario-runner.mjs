// The shared scenario suite (scenarios/*.json, docs/scenarios.md) through the
// public VIZOCHOKWidget, with a scripted transport, a fake clock and storage,
// and the app's callbacks recording. Used by node and, bundled, by Chromium.

const API_KEY = 'pk_scenario';
const STORE_ID = 'scenario-store';
const SERVER = 'ws://127.0.0.1:8787/v1/ws';
const MAX_FIRES_PER_ADVANCE = 10_000;
const CALLBACKS = { onConnect: 'connect', onDisconnect: 'disconnect', onCartChanged: 'cart_changed',
  onProductClick: 'product_click', onSessionComplete: 'session_complete', onError: 'error' };

const mapStrings = (value, f) => {
  if (typeof value === 'string') return f(value) ?? value;
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]));
  return value;
};

/** `expected` matches `actual`: "*" matches anything; numbers compare as numbers; no extra fields. */
export function matches(expected, actual) {
  if (expected === '*') return true;
  if (Array.isArray(expected)) return Array.isArray(actual) && expected.length === actual.length && expected.every((x, i) => matches(x, actual[i]));
  if (expected && typeof expected === 'object') {
    if (!actual || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const keys = Object.keys(expected);
    return keys.length === Object.keys(actual).length && keys.every((k) => k in actual && matches(expected[k], actual[k]));
  }
  return expected === actual;
}

/** An onMessage object in the normalized form. */
function message(m, blocks) {
  switch (m.type) {
    case 'typing': return { ui: 'typing', data: m.reply_to === undefined ? {} : { reply_to: m.reply_to } };
    case 'history': return { ui: 'history', data: m.entries };
    case 'ack': return { ui: 'ack', data: { id: m.id } };
    case 'user_message': return { ui: 'user_message', data: { id: m.id, text: m.text } };
    case 'delta': return { ui: 'delta', data: { message_id: m.message_id, reply_to: m.reply_to, text: m.text } };
    case 'response': {
      const data = { message_id: m.message_id, reply_to: m.reply_to, text: m.text, products: m.products };
      if (m.cancelled) data.cancelled = true;
      if (m.suggestions.length) data.suggestions = m.suggestions;
      if (blocks) data.blocks = m.blocks;
      return { ui: 'response', data };
    }
    default: return { ui: m.type, data: m };
  }
}

/** One scenario against a fresh widget. */
class Rig {
  constructor(VIZOCHOKWidget, scenario, env) {
    const config = scenario.config ?? {};
    this.observe = new Set(scenario.observe ?? []);
    this.out = [];
    this.now = 0;
    this.armed = null;
    this.fire = null;
    this.socket = null;
    this.names = new Map();
    this.ids = new Map();
    this.rules = { throws: new Set(), calls: new Map() };
    this.rejections = [];
    env.seed(config.seed ?? 1);
    env.storage.reset(config.session_id, (id) => this.observe.has('save') && this.out.push({ save: id ?? null }), config.user_id);
    env.onReport(() => this.out.push({ log: 'error' }));
    const callbacks = {};
    for (const [name, on] of Object.entries(CALLBACKS)) {
      callbacks[name] = (data) => this.callback(on, on === 'error'
        ? { on, data: data.reply_to === undefined ? { code: data.code } : { code: data.code, reply_to: data.reply_to } }
        : data === undefined ? { on } : { on, data });
    }
    callbacks.onStateChange = (state) => this.callback('state', { state });
    callbacks.onMessage = (m) => this.callback('message', message(m, this.observe.has('blocks')));
    this.widget = new VIZOCHOKWidget({
      apiKey: API_KEY, storeId: STORE_ID, serverUrl: SERVER, userId: config.user_id, userToken: config.user_token,
      language: config.language, persistSession: 'local', ui: false, autoConnect: false, transport: this.transport(), ...callbacks,
    });
  }

  transport() {
    return {
      now: () => this.now,
      open: (socket, _url, events) => { this.socket = events; this.out.push({ open: true }); },
      send: (_socket, text) => this.out.push({ send: JSON.parse(text) }),
      close: (_socket, code) => this.out.push({ close: code }),
      setTimer: (deadline, fire) => {
        this.armed = deadline;
        this.fire = fire;
        if (this.observe.has('timer')) this.out.push({ timer: deadline });
      },
    };
  }

  callback(name, value) {
    this.out.push(value);
    if (this.rules.throws.has(name)) throw new Error("the app's callback threw");
    const then = this.rules.calls.get(name);
    if (then) {
      this.rules.calls.delete(name);
      this.call(then, this.out.length);
    }
  }

  substitute(value) {
    return mapStrings(value, (v) => (v.startsWith('$') ? this.names.get(v.slice(1)) : undefined));
  }

  /** A widget call or action; its outcome goes in at `at`. */
  call(step, at) {
    const w = this.widget;
    const s = this.substitute(step);
    const actions = {
      send_message: () => w.sendMessage(s.text),
      select_product: () => w.selectProduct(s.product, s.quantity),
      update_quantity: () => w.updateQuantity(s.sku, s.quantity),
      remove_item: () => w.removeItem(s.sku),
      clear_cart: () => w.clearCart(),
      set_context: () => w.setContext(s.context),
      stop: () => w.stop(),
      feedback: () => w.feedback(s.message_id, s.rating, s.comment),
      reset: () => { w.reset(); return undefined; },
    };
    const calls = { connect: () => w.connect(), disconnect: () => w.disconnect(), destroy: () => w.destroy(), network_online: () => w.networkOnline() };
    if (calls[step.do]) return calls[step.do]();
    if (!actions[step.do]) throw new Error(`unknown step ${JSON.stringify(step)}`);
    let result;
    try {
      result = actions[step.do]();
    } catch (error) {
      const outcome = /destroyed/.test(error.message) ? { destroyed: true } : { invalid: true };
      this.out.splice(at, 0, outcome);
      return;
    }
    if (typeof result === 'string' && step.as) {
      this.names.set(step.as, result);
      this.ids.set(result, `$${step.as}`);
    } else if (result === null && step.do === 'stop') {
      this.out.splice(at, 0, { stopped: null });
    } else if (result === null) {
      // The code is the onError that follows, which may come after the callback in hand.
      const outcome = { rejected: undefined };
      this.out.splice(at, 0, outcome);
      this.rejections.push(outcome);
    }
  }

  step(step) {
    const at = this.out.length;
    if ('recv' in step) this.socket.text(JSON.stringify(this.substitute(step.recv)));
    else if ('recv_text' in step) this.socket.text(step.recv_text);
    else if ('advance' in step) this.advance(step.advance);
    else if ('read' in step) this.out.push({ read: this.read(step.read) });
    else if ('app' in step) {
      if (step.app === 'throws') this.rules.throws.add(step.on);
      else this.rules.calls.set(step.on, step.then);
    } else if (step.do === 'socket_opened') this.socket.opened();
    else if (step.do === 'binary') this.socket.binary(step.len);
    else if (step.do === 'socket_closed') this.socket.ended(step.code ?? null, '');
    else if (step.do === 'socket_error') this.socket.ended(null, 'refused');
    else if (step.do === 'timer_fires') this.fire();
    else this.call(step, at);
    for (const outcome of this.rejections.splice(0)) {
      outcome.rejected = this.out.slice(this.out.indexOf(outcome)).find((o) => o.on === 'error')?.data.code;
    }
    return this.out.slice(at).map((v) => mapStrings(v, (s) => this.ids.get(s)));
  }

  advance(ms) {
    const target = this.now + ms;
    for (let fired = 0; this.armed !== null && this.armed <= target; fired += 1) {
      if (fired > MAX_FIRES_PER_ADVANCE) throw new Error('the timer is stuck');
      this.now = Math.max(this.now, this.armed);
      this.armed = null;
      this.fire();
    }
    this.now = target;
  }

  read(what) {
    const w = this.widget;
    return { pending_actions: () => w.pendingActions, state: () => w.state, session_id: () => w.sessionId, cart: () => w.cart }[what]();
  }
}

/**
 * Replays every scenario; resolves to { files, steps, failures }. `env` gives
 * the seed (`seed(n)`), a fake storage (`storage.reset(savedId, onSave)`) and
 * the console.error hook (`onReport(fn)`).
 */
export async function replayAll(VIZOCHOKWidget, scenarios, env) {
  let steps = 0;
  const failures = [];
  for (const [file, scenario] of scenarios) {
    const rig = new Rig(VIZOCHOKWidget, scenario, env);
    await rig.widget.ready;
    try {
      for (const [i, step] of scenario.steps.entries()) {
        const actual = rig.step(step);
        if (!matches(step.expect, actual)) {
          throw new Error(`${scenario.name}\n  step ${i}: ${JSON.stringify(step)}\n  expected: ${JSON.stringify(step.expect)}\n  actual:   ${JSON.stringify(actual)}`);
        }
        steps += 1;
      }
    } catch (error) {
      failures.push(`${file}: ${error.message}`);
    } finally {
      rig.widget.destroy();
    }
  }
  return { files: scenarios.length, steps, failures };
}

/**
 * The page around the widget, faked in node and in a browser alike: a
 * storage (the widget keeps the session id there), a fixed seed, and
 * console.error (the host's reports).
 */
export function environment() {
  let onSave = () => {};
  const items = new Map();
  const storage = {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => { items.set(key, value); onSave(JSON.parse(value).session_id); },
    removeItem: (key) => { items.delete(key); onSave(null); },
  };
  Object.defineProperty(globalThis, 'localStorage', { value: storage, configurable: true });
  let seed = 1;
  const random = globalThis.crypto.getRandomValues.bind(globalThis.crypto);
  globalThis.crypto.getRandomValues = (array) => {
    if (!(array instanceof Uint32Array && array.length === 2)) return random(array);
    array[0] = Math.floor(seed / 2 ** 32);
    array[1] = seed % 2 ** 32;
    return array;
  };
  let report = () => {};
  console.error = (first) => { if (String(first).startsWith('VIZOCHOK: ')) report(); };
  return {
    seed: (n) => { seed = n; },
    storage: {
      reset(saved, save, userId) {
        items.clear();
        if (saved) items.set(`vizochok.session:scenario-store:${userId ?? ''}`, JSON.stringify({ session_id: saved }));
        onSave = save;
      },
    },
    onReport: (fn) => { report = fn; },
  };
}
