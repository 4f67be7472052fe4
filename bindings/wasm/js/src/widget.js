// VIZOCHOKWidget: the seed's JavaScript API around the core's sans-IO
// Session (WebAssembly). This file does I/O only: the browser WebSocket, one
// setTimeout, performance.now(), crypto.getRandomValues() and the page
// lifecycle. Every protocol rule lives in the core.
import { Session, uiStrings as rawUiStrings } from './vizochok_wasm.js';

export { Session };

/** The hosted service's endpoint; set `serverUrl` for a sandbox. */
export const DEFAULT_SERVER_URL = 'wss://api.vizochok.com/v1/ws';

const CALLBACKS = [
  'onCartChanged', 'onProductClick', 'onSessionComplete', 'onError',
  'onConnect', 'onDisconnect', 'onMessage', 'onStateChange',
];
const EVENT_CALLBACK = {
  connect: 'onConnect',
  disconnect: 'onDisconnect',
  cart_changed: 'onCartChanged',
  product_click: 'onProductClick',
  session_complete: 'onSessionComplete',
  error: 'onError',
};
const PERSIST = ['local', 'session', 'none'];

const now = () => performance.now();

/** Every UI string of the core's catalog, `{ key: text }`. */
export const uiStrings = (language = 'en') => JSON.parse(rawUiStrings(String(language)));

const report = (what, error) => console.error(`VIZOCHOK: ${what} threw`, error);

function optionalString(config, key) {
  const value = config[key];
  if (value !== undefined && value !== null && typeof value !== 'string') {
    throw new TypeError(`config.${key} must be a string`);
  }
  return value ?? undefined;
}

function pickStorage(mode) {
  try {
    if (mode === 'local') return globalThis.localStorage ?? null;
    if (mode === 'session') return globalThis.sessionStorage ?? null;
  } catch {
    // Storage access can throw (privacy settings, sandboxed frames).
  }
  return null;
}

function randomSeed() {
  return globalThis.crypto.getRandomValues(new BigUint64Array(1))[0];
}

/** The http(s) origin of a ws(s) URL: relative image URLs from the server resolve against it. */
function httpBase(url) {
  return url.replace(/^ws/i, 'http');
}

export class VIZOCHOKWidget {
  #callbacks = {};
  #session;
  #serverUrl;
  #socket = null;
  #socketId = -1;
  #timer = null;
  #deadline = null;
  #mounted = false;
  #hidden = false;
  #ui = null;
  #uiLoading = null;
  /** What happened while the UI module was loading, handed to it once it is up. */
  #uiBacklog = [];
  #storage = null;
  #storageKey = '';
  #savedId;
  #running = false;
  #again = false;
  #destroyed = false;
  #final = null;

  /**
   * The seed's config plus `language`, `serverUrl`, `persistSession`,
   * `onMessage` and `onStateChange`. Throws a TypeError for a config that
   * cannot work (before any I/O).
   */
  constructor(config) {
    if (config === null || typeof config !== 'object') {
      throw new TypeError('VIZOCHOKWidget needs a config object');
    }
    if (typeof config.apiKey !== 'string') throw new TypeError('config.apiKey must be a string');
    if (typeof config.storeId !== 'string') throw new TypeError('config.storeId must be a string');
    const userId = optionalString(config, 'userId');
    const language = optionalString(config, 'language') ?? 'en';
    this.#serverUrl = optionalString(config, 'serverUrl') ?? DEFAULT_SERVER_URL;
    const persist = config.persistSession ?? 'local';
    if (!PERSIST.includes(persist)) {
      throw new TypeError(`config.persistSession must be one of ${PERSIST.join(', ')}`);
    }
    for (const name of CALLBACKS) {
      const fn = config[name];
      if (fn !== undefined && fn !== null && typeof fn !== 'function') {
        throw new TypeError(`config.${name} must be a function`);
      }
      if (fn) this.#callbacks[name] = fn;
    }

    this.#storage = pickStorage(persist);
    this.#storageKey = `vizochok.session:${config.storeId}:${userId ?? ''}`;
    this.#savedId = this.#load();
    // A new page has applied no frame of the stored session (last_seq 0):
    // its auth names no last_seq, so the server restores the session.
    this.#session = new Session(
      config.apiKey, config.storeId, this.#serverUrl, randomSeed(), language, userId, this.#savedId, 0,
    );
  }

  // ----- read-only state -------------------------------------------------

  /** `idle`, `connecting`, `authenticating`, `connected`, `reconnecting`, `stopped` or `destroyed`. */
  get state() {
    return this.#final ? 'destroyed' : this.#session.state;
  }

  /** The conversation's session id, once the server gave one. */
  get sessionId() {
    return this.#final ? this.#final.sessionId : (this.#session.sessionId ?? null);
  }

  /** The cart as the server last confirmed it: `{ items, total }`. */
  get cart() {
    return JSON.parse(this.#final ? this.#final.cart : this.#session.cart);
  }

  /** The language of texts (`en` or `uk`). */
  get language() {
    return this.#final ? this.#final.language : this.#session.language;
  }

  // ----- lifecycle ---------------------------------------------------------

  /**
   * Connects; with a container (an Element or a selector) also renders the
   * default chat UI into it. Resolves once the UI is shown.
   */
  mount(container) {
    this.#alive();
    let element = null;
    if (container !== undefined && container !== null) {
      element = typeof container === 'string' ? document.querySelector(container) : container;
      if (!element || typeof element.attachShadow !== 'function') {
        throw new TypeError(`mount: ${String(container)} is not an element`);
      }
    }
    if (!this.#mounted) {
      this.#mounted = true;
      this.#hidden = false;
      this.#listen(true);
      this.#input((s) => s.connect(now()));
    }
    if (!element) return Promise.resolve();
    const loading = import('./ui.js').then(({ createUI }) => {
      if (!this.#mounted || this.#uiLoading !== loading) return;
      const backlog = this.#uiBacklog;
      this.#dropUI();
      this.#ui = createUI(element, this.#uiHost());
      for (const message of backlog) this.#toUI(message);
    });
    this.#uiLoading = loading;
    this.#uiBacklog = [];
    return loading;
  }

  /** Closes the connection and removes the UI; the session is kept. */
  unmount() {
    this.#alive();
    this.#dropUI();
    if (!this.#mounted) return;
    this.#mounted = false;
    this.#listen(false);
    this.#input((s) => s.close(now()));
  }

  /** Closes the connection and releases everything; later calls throw. */
  destroy() {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#dropUI();
    this.#mounted = false;
    this.#listen(false);
    this.#input((s) => s.destroy(now()));
  }

  // ----- actions -----------------------------------------------------------

  /** Sends a chat message: its action id, or null when refused (onError fired). */
  sendMessage(text) {
    if (typeof text !== 'string') throw new TypeError('sendMessage: text must be a string');
    const id = this.#act((s) => s.sendMessage(now(), text));
    if (id) this.#toUI({ sent: id, text });
    return id;
  }

  /** "Add" on a product: fires onProductClick and sends select_item. */
  selectProduct(product, quantity) {
    if (product === null || typeof product !== 'object') {
      throw new TypeError('selectProduct: product must be a ProductItem');
    }
    if (quantity !== undefined && typeof quantity !== 'number') {
      throw new TypeError('selectProduct: quantity must be a number');
    }
    return this.#act((s) => s.selectProduct(now(), JSON.stringify(product), quantity));
  }

  /** Sets the quantity of a cart line. */
  updateQuantity(sku, quantity) {
    if (typeof sku !== 'string') throw new TypeError('updateQuantity: sku must be a string');
    if (typeof quantity !== 'number') throw new TypeError('updateQuantity: quantity must be a number');
    return this.#act((s) => s.updateQuantity(now(), sku, quantity));
  }

  /** Removes a cart line. */
  removeItem(sku) {
    if (typeof sku !== 'string') throw new TypeError('removeItem: sku must be a string');
    return this.#act((s) => s.removeItem(now(), sku));
  }

  /** Empties the cart. */
  clearCart() {
    return this.#act((s) => s.clearCart(now()));
  }

  /** Forgets the conversation; the next connection opens a new session. */
  reset() {
    this.#act((s) => s.reset(now()));
  }

  /** Switches the language of error texts and of the default UI. */
  setLanguage(language) {
    if (typeof language !== 'string') throw new TypeError('setLanguage: language must be a string');
    this.#alive();
    this.#session.setLanguage(language);
    this.#toUI({ language: this.#session.language });
  }

  // ----- the run loop --------------------------------------------------------

  #alive() {
    if (this.#destroyed) throw new Error('VIZOCHOKWidget was destroyed');
  }

  #act(call) {
    this.#alive();
    try {
      return call(this.#session) ?? null;
    } finally {
      this.#run();
    }
  }

  /** Hands one input to the core, then acts on every output. */
  #input(call) {
    if (this.#final) return;
    call(this.#session);
    this.#run();
  }

  /**
   * Drains the core and acts on each output, in order. A callback that calls
   * back into the widget only queues another drain, so outputs never overtake
   * each other.
   */
  #run() {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    try {
      do {
        this.#again = false;
        for (const output of JSON.parse(this.#session.drain())) this.#do(output);
      } while (this.#again);
    } finally {
      this.#running = false;
    }
    this.#persist();
    if (this.#destroyed) this.#release();
    else this.#arm();
  }

  #do(output) {
    if ('send' in output) {
      if (this.#socket && this.#socket.readyState === 1) this.#socket.send(output.send);
    } else if ('open' in output) {
      this.#open(output.open, output.url);
    } else if ('close' in output) {
      this.#close(output.close, output.code, output.reason);
    } else if ('state' in output) {
      this.#toUI(output);
      this.#call('onStateChange', output.state);
    } else if ('on' in output) {
      this.#toUI(output);
      this.#call(EVENT_CALLBACK[output.on], output.data);
    } else if ('ui' in output) {
      this.#toUI(output);
      const data = output.data;
      this.#call('onMessage', Array.isArray(data) ? { type: output.ui, entries: data } : { type: output.ui, ...data });
    }
  }

  /** A store callback; what it throws is reported and never breaks the widget. */
  #call(name, arg) {
    const fn = this.#callbacks[name];
    if (!fn) return;
    try {
      if (arg === undefined) fn();
      else fn(arg);
    } catch (error) {
      report(`the ${name} callback`, error);
    }
  }

  #toUI(message) {
    if (!this.#ui) {
      if (this.#uiLoading) this.#uiBacklog.push(message);
      return;
    }
    try {
      this.#ui.handle(message);
    } catch (error) {
      report('the chat UI', error);
    }
  }

  // ----- sockets, timer, page ---------------------------------------------------

  #open(id, url) {
    this.#drop();
    this.#socketId = id;
    let ws;
    try {
      ws = new WebSocket(url);
    } catch (error) {
      this.#input((s) => s.socketError(now(), id, String(error && error.message)));
      return;
    }
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => this.#input((s) => s.socketOpened(now(), id));
    ws.onmessage = (e) => this.#input((s) => {
      if (typeof e.data === 'string') s.text(now(), id, e.data);
      else s.binary(now(), id, e.data.byteLength ?? e.data.size ?? 0);
    });
    // 1005 and 1006 mean no close frame arrived.
    ws.onclose = (e) => this.#input((s) => s.socketClosed(now(), id, e.code === 1005 || e.code === 1006 ? undefined : e.code, e.reason));
    ws.onerror = () => this.#input((s) => s.socketError(now(), id, 'WebSocket error'));
    this.#socket = ws;
  }

  #close(id, code, reason) {
    if (id !== this.#socketId) return;
    const ws = this.#socket;
    this.#socket = null;
    if (!ws) return;
    // Browsers let a page send only 1000 and 3000-4999.
    const allowed = code === 1000 || (code >= 3000 && code <= 4999);
    try {
      ws.close(allowed ? code : 1000, String(reason).slice(0, 100));
    } catch {
      try { ws.close(); } catch { /* already closing */ }
    }
  }

  /** Forgets the current socket (its late events are stale to the core anyway). */
  #drop() {
    const ws = this.#socket;
    this.#socket = null;
    if (ws && ws.readyState < 2) {
      try { ws.close(1000); } catch { /* already closing */ }
    }
  }

  /** Arms the one timer for the core's next deadline. */
  #arm() {
    const deadline = this.#session.pollTimeout() ?? null;
    if (deadline === this.#deadline && this.#timer !== null) return;
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#deadline = deadline;
    if (deadline === null) return;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, deadline - now()));
  }

  #onTimer = () => {
    this.#timer = null;
    this.#check();
  };

  /** Fires the deadline when it has passed (a hidden tab's timers run late), else re-arms. */
  #check() {
    if (this.#final) return;
    const deadline = this.#session.pollTimeout();
    if (deadline !== undefined && deadline <= now()) this.#input((s) => s.timeout(now()));
    else this.#arm();
  }

  #onOnline = () => this.#input((s) => s.networkOnline(now()));

  #onPageHide = () => {
    if (!this.#mounted || this.#hidden) return;
    this.#hidden = true;
    this.#input((s) => s.close(now()));
  };

  #onPageShow = () => {
    if (!this.#mounted || !this.#hidden) return;
    this.#hidden = false;
    this.#input((s) => s.connect(now()));
  };

  #onVisibility = () => {
    if (document.visibilityState === 'visible') this.#check();
  };

  #listen(on) {
    if (typeof window === 'undefined' || typeof window.addEventListener !== 'function') return;
    const method = on ? 'addEventListener' : 'removeEventListener';
    window[method]('online', this.#onOnline);
    window[method]('pagehide', this.#onPageHide);
    window[method]('pageshow', this.#onPageShow);
    if (typeof document !== 'undefined') document[method]('visibilitychange', this.#onVisibility);
  }

  // ----- persistence ------------------------------------------------------------

  #load() {
    if (!this.#storage) return undefined;
    try {
      const saved = JSON.parse(this.#storage.getItem(this.#storageKey) ?? 'null');
      return typeof saved?.session_id === 'string' ? saved.session_id : undefined;
    } catch {
      return undefined;
    }
  }

  #persist() {
    if (!this.#storage || this.#final) return;
    const id = this.#session.sessionId ?? undefined;
    if (id === this.#savedId) return;
    this.#savedId = id;
    try {
      if (id) this.#storage.setItem(this.#storageKey, JSON.stringify({ session_id: id }));
      else this.#storage.removeItem(this.#storageKey);
    } catch {
      // A full or blocked storage only costs the resume after a reload.
    }
  }

  #release() {
    if (this.#final) return;
    clearTimeout(this.#timer);
    this.#timer = null;
    this.#drop();
    const s = this.#session;
    this.#final = { sessionId: s.sessionId ?? null, cart: s.cart, language: s.language };
    s.free();
  }

  // ----- the default UI ------------------------------------------------------------

  #dropUI() {
    this.#uiLoading = null;
    this.#uiBacklog = [];
    const ui = this.#ui;
    this.#ui = null;
    if (ui) {
      try { ui.destroy(); } catch (error) { report('the chat UI', error); }
    }
  }

  #uiHost() {
    return {
      widget: this,
      strings: uiStrings,
      imageBase: httpBase(this.#serverUrl),
    };
  }
}
