// VIZOCHOKWidget: the callback contract's JavaScript API, a host of the
// core's Rust driver (WebAssembly). This file does the browser's I/O only —
// a WebSocket, one timer, performance.now(), crypto.getRandomValues(),
// storage and the page lifecycle — and the page's API. Every protocol rule,
// and the run loop itself, is in Rust.
import { EVENTS, MAX_INBOUND_BYTES } from './generated/kinds.js';
import * as pick from './generated/pick.js';

/** The hosted service's endpoint; set `serverUrl` for a sandbox. */
export const DEFAULT_SERVER_URL = 'wss://api.vizochok.com/v1/ws';

const CALLBACKS = ['onCartChanged', 'onProductClick', 'onSessionComplete', 'onError', 'onConnect',
  'onDisconnect', 'onMessage', 'onStateChange', 'onOpen', 'onClose', 'onUnreadChange', 'onReady'];
const EVENT_CALLBACK = {
  connect: 'onConnect', disconnect: 'onDisconnect', cart_changed: 'onCartChanged',
  product_click: 'onProductClick', session_complete: 'onSessionComplete', error: 'onError', state: 'onStateChange',
};
const PERSIST = ['local', 'session', 'none'];
const IN = { connect: 0, opened: 1, text: 2, binary: 3, ended: 4, timeout: 5, online: 6, disconnect: 7, destroy: 8, oversized: 9 };
const ACT = { send: 0, select: 1, update: 2, remove: 3, clear: 4, context: 5, stop: 6, feedback: 7, reset: 8 };
const READ = { state: 0, sessionId: 1, cart: 2, pending: 3, language: 4 };

/**
 * A frame-derived event's payload from the parsed frame (the core says
 * which events are, having checked the frame's every field): exactly the
 * contract's fields, unknown ones dropped.
 */
const FROM_FRAME = {
  cart_changed: pick.CartChangedEvent,
  session_complete: (f) => pick.SessionSummary(f.summary),
  typing: (f) => (f.reply_to == null ? { type: 'typing' } : { type: 'typing', reply_to: f.reply_to }),
  delta: (f) => ({ type: 'delta', message_id: f.message_id, reply_to: f.reply_to, text: f.text }),
  user_message: (f) => ({ type: 'user_message', id: f.id, text: f.text }),
  response: (f, markdown) => {
    const reply = pick.Reply(f);
    reply.type = 'response';
    let blocks;
    Object.defineProperty(reply, 'blocks', { enumerable: true, get: () => (blocks ??= markdown(reply.text)) });
    return reply;
  },
  history: (f) => ({ type: 'history', entries: f.history.map(pick.HistoryEntry) }),
};
/** Events that go to onMessage (the others have a callback of their own). */
const MESSAGES = new Set(['typing', 'delta', 'response', 'user_message', 'history', 'ack']);

let loadCore = () => Promise.reject(new Error('VIZOCHOK: no WebAssembly loader'));
let loadUIModule = loadCore;
/** How the entry point loads the core (once per page) and the UI module. */
export function useCore(load) {
  let loaded;
  loadCore = () => (loaded ??= load());
}
export function useUI(load) {
  loadUIModule = load;
}
let defaultServerUrl = DEFAULT_SERVER_URL;
/** The server for widgets without `serverUrl` (the script tag's `data-server-url`). */
export function useServerUrl(url) {
  defaultServerUrl = url;
}

const optionalString = (config, key) => {
  const value = config[key];
  if (value != null && typeof value !== 'string') throw new TypeError(`config.${key} must be a string`);
  return value ?? undefined;
};

function pickStorage(mode) {
  try {
    if (mode === 'local') return globalThis.localStorage ?? null;
    if (mode === 'session') return globalThis.sessionStorage ?? null;
  } catch {
    // Storage access can throw (privacy settings, sandboxed frames).
  }
  return null;
}

/** Sockets, a clock and one timer, from the browser. */
export function browserTransport() {
  const sockets = new Map();
  let timer;
  return {
    now: () => performance.now(),
    open(socket, url, events) {
      let ws;
      try {
        ws = new WebSocket(url);
      } catch (error) {
        return events.ended(null, String(error?.message ?? error));
      }
      ws.binaryType = 'arraybuffer';
      ws.onopen = () => events.opened();
      ws.onmessage = (e) => (typeof e.data === 'string' ? events.text(e.data) : events.binary(e.data.byteLength));
      ws.onclose = (e) => { sockets.delete(socket); events.ended(e.code, e.reason); };
      sockets.set(socket, ws);
    },
    send(socket, text) {
      sockets.get(socket)?.send(text);
    },
    close(socket, code, reason) {
      const ws = sockets.get(socket);
      sockets.delete(socket);
      if (!ws) return;
      ws.onopen = ws.onmessage = ws.onclose = null;
      ws.close(code, reason);
    },
    setTimer(deadline, fire) {
      clearTimeout(timer);
      if (deadline != null) timer = setTimeout(fire, Math.max(0, deadline - performance.now()));
    },
  };
}

export class VIZOCHOKWidget {
  #config;
  #callbacks = {};
  #transport;
  #storage;
  #storageKey;
  #core = null;
  #wasm = null;
  /** Calls made before the core loaded, in order. */
  #early = [];
  #wanted = false;
  #hidden = false;
  #destroyed = false;
  /** The last text frame handed in, and its number (an i32, as the core's u32 arrives). */
  #text = '';
  #frames = 0;
  /**
   * Frames before it whose events may still come, by number: a transport
   * may hand in a frame from inside `send`, a call of the core. Kept until
   * the outermost call returns, when every event has been delivered.
   */
  #older = new Map();
  #depth = 0;
  /** The number of the frame parsed last, and its parse. */
  #parsedN = 0;
  #parsed = null;
  #ui = null;
  #uiLoading = null;
  /** Events for the UI while it loads. */
  #backlog = null;
  #open = false;
  /** Where the UI is (or loads): an element of the page, `null` floating, `undefined` nowhere. */
  #where;
  #unread = 0;
  /** Resolves once the core is loaded (calls made before are queued, not lost). */
  ready;

  /**
   * The callback contract's config, plus `userToken`, `language`,
   * `serverUrl`, `persistSession`, `ui`, `launcher`, `starters`, `currency`,
   * `autoConnect`, `transport`, `onMessage`, `onStateChange`, `onOpen`,
   * `onClose`, `onUnreadChange` and `onReady`. Throws a TypeError for a
   * config that cannot work (before any I/O). Connects at once, and shows
   * the launcher, unless told not to.
   */
  constructor(config) {
    if (config === null || typeof config !== 'object') throw new TypeError('VIZOCHOKWidget needs a config object');
    if (typeof config.apiKey !== 'string') throw new TypeError('config.apiKey must be a string');
    if (typeof config.storeId !== 'string') throw new TypeError('config.storeId must be a string');
    for (const key of ['userId', 'userToken', 'language', 'serverUrl', 'currency']) optionalString(config, key);
    // Checked now: the UI's first price would throw it in the middle of a reply.
    try {
      if (config.currency != null) new Intl.NumberFormat('en', { style: 'currency', currency: config.currency });
    } catch {
      throw new TypeError(`config.currency must be an ISO 4217 code, such as 'UAH'`);
    }
    const persist = config.persistSession ?? 'local';
    if (!PERSIST.includes(persist)) throw new TypeError(`config.persistSession must be one of ${PERSIST.join(', ')}`);
    if (config.starters != null && !(Array.isArray(config.starters) && config.starters.every((s) => typeof s === 'string'))) {
      throw new TypeError('config.starters must be an array of strings');
    }
    for (const name of CALLBACKS) {
      const fn = config[name];
      if (fn != null && typeof fn !== 'function') throw new TypeError(`config.${name} must be a function`);
      if (fn) this.#callbacks[name] = fn;
    }
    this.#config = config;
    this.#transport = config.transport ?? browserTransport();
    this.#storage = pickStorage(persist);
    this.#storageKey = `vizochok.session:${config.storeId}:${config.userId ?? ''}`;
    this.ready = loadCore().then((wasm) => this.#start(wasm));
    this.ready.catch((error) => console.error('VIZOCHOK: the widget could not start', error));
    if (config.autoConnect !== false) this.connect();
    this.#loadUI(null);
  }

  #start(wasm) {
    if (this.#destroyed) return;
    const c = this.#config;
    const seed = globalThis.crypto.getRandomValues(new Uint32Array(2));
    this.#wasm = wasm;
    // Throws the core's TypeError for a config it refuses (a bad URL, say).
    this.#core = new wasm.Core(c.apiKey, c.storeId, c.serverUrl ?? defaultServerUrl, c.userId, c.userToken,
      this.#load(), c.language ?? 'en', seed[0], seed[1], this.#host());
    // A call the core refuses throws; deferred, it can only be logged.
    for (const call of this.#early.splice(0)) {
      try {
        call();
      } catch (error) {
        console.error('VIZOCHOK: a call made before the widget was ready was refused', error);
      }
      if (this.#destroyed) return; // by a callback of one of them
    }
    this.#listen(true);
    this.#call('onReady');
  }

  /** The core's side of the page: what the Rust driver calls. */
  #host() {
    const events = (socket) => ({
      opened: () => this.#input(IN.opened, socket),
      // A frame surely over the core's limit (no UTF-8 text has fewer bytes
      // than UTF-16 units) is not copied in: the module's memory never shrinks.
      text: (text) => (text.length > MAX_INBOUND_BYTES
        ? this.#input(IN.oversized, socket, new Blob([text]).size)
        : this.#input(IN.text, socket, 0, text)),
      binary: (len) => this.#input(IN.binary, socket, len),
      ended: (code, reason) => this.#input(IN.ended, socket, code ?? -1, reason ?? ''),
    });
    const t = this.#transport;
    return {
      open: (socket, url) => t.open(socket, url, events(socket)),
      send: (socket, text) => t.send(socket, text),
      close: (socket, code, reason) => t.close(socket, code, reason),
      timer: (deadline) => t.setTimer(deadline < 0 ? null : deadline, () => this.#input(IN.timeout)),
      save: (id) => this.#save(id),
      event: (kind, json) => this.#deliver(EVENTS[kind], json ? JSON.parse(json) : undefined),
      frame: (kind, n) => {
        const name = EVENTS[kind];
        if (this.#parsedN !== n) {
          this.#parsed = JSON.parse(n === this.#frames ? this.#text : this.#older.get(n));
          this.#parsedN = n;
        }
        this.#deliver(name, FROM_FRAME[name](this.#parsed, this.#markdown));
      },
      report: (message, error) => console.error(`VIZOCHOK: ${message}`, error),
      released: () => this.#letGo(),
    };
  }

  #markdown = (text) => JSON.parse(this.#wasm.markdown(text));

  #input(kind, socket = 0, code = 0, text = '') {
    if (!this.#core) return;
    if (kind === IN.text) {
      if (this.#depth) this.#older.set(this.#frames, this.#text);
      this.#text = text;
      this.#frames = (this.#frames + 1) | 0;
    }
    this.#enter(() => this.#core.input(kind, this.#transport.now(), socket, code, text));
  }

  /** Calls the core; when the outermost call returns, every frame's events are delivered. */
  #enter(call) {
    this.#depth++;
    try {
      return call();
    } finally {
      if (--this.#depth === 0 && this.#older.size) this.#older.clear();
    }
  }

  /**
   * An action on the core: its result now, or, before the core is loaded,
   * `undefined` (it runs in order once loaded; `then` gets its result).
   */
  #act(kind, a = '', b = '', c = '', n = NaN, then = () => {}) {
    if (this.#destroyed) throw new Error('VIZOCHOKWidget was destroyed');
    const run = () => {
      const result = this.#enter(() => this.#core.act(kind, this.#transport.now(), a, b, c, n)) ?? null;
      then(result);
      return result;
    };
    if (this.#core) return run();
    this.#early.push(run);
    return undefined;
  }

  #read(what, fallback) {
    return this.#core ? JSON.parse(this.#core.read(what)) : fallback;
  }

  /** To the UI, or to the one still loading. */
  #toUI(name, data) {
    // The store's callbacks run even if the built-in UI fails on an event.
    if (this.#ui) {
      try {
        this.#ui.handle(name, data);
      } catch (error) {
        console.error('VIZOCHOK: the chat UI failed on an event', error);
      }
    } else this.#backlog?.push([name, data]);
  }

  #deliver(name, data) {
    this.#toUI(name, data);
    // A chat mounted in the page is on screen: its replies are read. An
    // empty reply (stopped before its first word) shows nothing to read.
    if (name === 'response' && !this.#open && !this.#where && (data.text || data.products.length)) this.#setUnread(this.#unread + 1);
    if (MESSAGES.has(name)) this.#call('onMessage', data, true);
    else this.#call(EVENT_CALLBACK[name], data, true);
  }

  /** A store callback; `rethrow` lets the core report what it throws. */
  #call(name, arg, rethrow) {
    const fn = this.#callbacks[name];
    if (!fn) return;
    try {
      if (arg === undefined) fn();
      else fn(arg);
    } catch (error) {
      if (rethrow) throw error;
      console.error(`VIZOCHOK: the ${name} callback threw`, error);
    }
  }

  // ----- read-only state --------------------------------------------------------

  /** `idle`, `connecting`, `authenticating`, `connected`, `reconnecting`, `stopped` or `destroyed`. */
  get state() { return this.#read(READ.state, this.#destroyed ? 'destroyed' : 'idle'); }
  /** The conversation's session id, once the server gave one. */
  get sessionId() { return this.#read(READ.sessionId, this.#load() ?? null); }
  /** The cart as the server last confirmed it: `{ items, total }`. */
  get cart() { return this.#read(READ.cart, { items: [], total: 0 }); }
  /** Actions accepted and not ended yet: `{ id, kind, sent }`. */
  get pendingActions() { return this.#read(READ.pending, []); }
  /** The language of texts (`en` or `uk`). */
  get language() { return this.#read(READ.language, this.#config.language === 'uk' ? 'uk' : 'en'); }
  /** Whether the chat panel is open. */
  get isOpen() { return this.#open; }
  /** Replies that arrived while the panel was closed. */
  get unreadCount() { return this.#unread; }

  // ----- lifecycle ----------------------------------------------------------------

  /** Starts (or resumes) connecting. */
  connect() {
    this.#wanted = true;
    this.#hidden = false;
    this.#later(() => this.#input(IN.connect));
  }

  /** Closes the connection and keeps the conversation; `connect()` resumes it. */
  disconnect() {
    this.#wanted = false;
    this.#later(() => this.#input(IN.disconnect));
  }

  /** Connects and shows the chat UI inside `container` (an element or a selector). */
  mount(container) {
    const element = typeof container === 'string' ? document.querySelector(container) : container;
    if (!element || typeof element.attachShadow !== 'function') throw new TypeError(`mount: ${String(container)} is not an element`);
    this.connect();
    this.#setUnread(0);
    return this.#loadUI(element);
  }

  /** The network is back: skip the backoff wait (the page's `online` event does this by itself). */
  networkOnline() {
    this.#later(() => this.#input(IN.online));
  }

  /**
   * Takes the UI off the page (the panel closes) and closes the connection;
   * the conversation is kept, on screen too: `mount()` or `open()` shows the
   * same UI again.
   */
  unmount() {
    this.#where = undefined;
    this.#ui?.place();
    this.close();
    this.disconnect();
  }

  /** Releases everything: socket, timer, listeners, UI. Safe to call twice. */
  destroy() {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#ui?.place();
    this.#ui = this.#backlog = null;
    this.#listen(false);
    this.#early.length = 0;
    // Without a core (destroyed before it loaded) no release will come.
    if (this.#core) this.#input(IN.destroy);
    else this.#letGo();
  }

  /**
   * Nothing is called back now: a destroyed widget the page keeps must not
   * keep the page's callbacks (and what they hold), nor its config.
   */
  #letGo() {
    this.#callbacks = {};
    this.#config = { language: this.#config.language };
    // The last frame may be a MiB of text, twice (as text and parsed).
    this.#text = '';
    this.#parsed = null;
    this.#older.clear();
  }

  /** A lifecycle call: now, or once the core is loaded; nothing after destroy. */
  #later(call) {
    if (this.#destroyed) return;
    if (this.#core) call();
    else this.#early.push(call);
  }

  // ----- actions -----------------------------------------------------------------

  /** Sends a chat message: its action id, or null when refused (onError fired). */
  sendMessage(text) {
    if (typeof text !== 'string') throw new TypeError('sendMessage: text must be a string');
    return this.#act(ACT.send, text, '', '', NaN, (id) => id && this.#toUI('sent', { id, text }));
  }

  /** "Add" on a product: fires onProductClick and sends select_item. */
  selectProduct(product, quantity) {
    if (product === null || typeof product !== 'object') throw new TypeError('selectProduct: product must be a ProductItem');
    if (quantity != null && typeof quantity !== 'number') throw new TypeError('selectProduct: quantity must be a number');
    return this.#act(ACT.select, JSON.stringify(product), '', '', quantity ?? NaN);
  }

  /** Sets the quantity of a cart line. */
  updateQuantity(sku, quantity) {
    if (typeof sku !== 'string' || typeof quantity !== 'number') throw new TypeError('updateQuantity(sku: string, quantity: number)');
    return this.#act(ACT.update, sku, '', '', quantity);
  }

  /** Removes a cart line. */
  removeItem(sku) {
    if (typeof sku !== 'string') throw new TypeError('removeItem: sku must be a string');
    return this.#act(ACT.remove, sku);
  }

  /** Empties the cart. */
  clearCart() { return this.#act(ACT.clear); }

  /** Forgets the conversation; the next connection opens a new session. */
  reset() { this.#act(ACT.reset); }

  /** What the shopper is looking at: `{ page: { url, title }, sku, category, query, locale, currency }`. */
  setContext(context) {
    if (context === null || typeof context !== 'object') throw new TypeError('setContext: context must be an object');
    return this.#act(ACT.context, JSON.stringify(context));
  }

  /** Stops the reply that is streaming; its id, or null when nothing streams. */
  stop() { return this.#act(ACT.stop); }

  /** Rates a reply (`message_id` of its response) `'up'` or `'down'`, with an optional comment. */
  feedback(messageId, rating, comment) {
    if (typeof messageId !== 'string' || (rating !== 'up' && rating !== 'down')) throw new TypeError("feedback(messageId: string, rating: 'up' | 'down', comment?: string)");
    if (comment != null && typeof comment !== 'string') throw new TypeError('feedback: comment must be a string');
    return this.#act(ACT.feedback, messageId, rating, comment ?? '');
  }

  /** Switches the language of error texts and of the UI. */
  setLanguage(language) {
    if (typeof language !== 'string') throw new TypeError('setLanguage: language must be a string');
    this.#config = { ...this.#config, language };
    this.#later(() => {
      this.#core.setLanguage(language);
      this.#ui?.handle('language', this.language);
    });
  }

  // ----- the panel ---------------------------------------------------------------

  /** Opens the chat panel (loading the UI the first time). */
  open() {
    if (this.#open || this.#destroyed) return;
    this.#open = true;
    this.#setUnread(0);
    if (this.#where === undefined) this.#loadUI(null);
    this.#ui?.open();
    this.#call('onOpen');
  }

  /** Closes the chat panel (the connection stays). */
  close() {
    if (!this.#open || this.#destroyed) return;
    this.#open = false;
    this.#ui?.close();
    this.#call('onClose');
  }

  /** Opens the panel when closed, closes it when open. */
  toggle() {
    if (this.#open) this.close();
    else this.open();
  }

  /** Opens the panel and sends `text`. */
  ask(text) {
    this.open();
    return this.sendMessage(text);
  }

  /** Opens the panel with `text` in the input, for the shopper to edit and send. */
  prefill(text) {
    if (typeof text !== 'string') throw new TypeError('prefill: text must be a string');
    this.open();
    this.#uiLoading?.then(() => this.#ui?.prefill(text), () => {});
  }

  #setUnread(count) {
    if (count === this.#unread) return;
    this.#unread = count;
    this.#ui?.handle('unread', count);
    this.#call('onUnreadChange', count);
  }

  // ----- the UI module (loaded on first use) ----------------------------------------

  /** Places the UI in `element` (`null`: floating), loading it the first time. */
  #loadUI(element) {
    // `ui: false` means no floating UI of its own; mount(element) still shows one there.
    if (this.#destroyed || (this.#config.ui === false && !element) || typeof document === 'undefined') return Promise.resolve();
    // One UI for the widget's life, moved: it keeps the conversation on screen.
    this.#where = element;
    this.#ui?.place(element);
    if (this.#uiLoading) return this.#uiLoading;
    this.#backlog = [];
    const done = this.#uiLoading = Promise.all([loadUIModule(), this.ready]).then(([{ createUI, strings }]) => {
      if (this.#destroyed) return;
      const backlog = this.#backlog;
      this.#backlog = null;
      this.#ui = createUI({
        widget: this, markdown: this.#markdown,
        strings: (lang) => strings[lang] ?? strings.en, launcher: this.#config.launcher !== false,
        starters: this.#config.starters ?? [], currency: this.#config.currency,
        imageBase: (this.#config.serverUrl ?? defaultServerUrl).replace(/^ws/i, 'http'),
        onToggle: (open) => (open ? this.open() : this.close()),
      });
      for (const [name, data] of backlog) this.#toUI(name, data);
      this.#ui.place(this.#where);
      if (this.#open) this.#ui.open();
    });
    // Caught here (mount() still returns it): a core that did not start is logged already.
    done.catch((error) => {
      this.#backlog = null;
      this.ready.then(() => console.error('VIZOCHOK: the chat UI could not load', error), () => {});
    });
    return done;
  }

  // ----- the page -------------------------------------------------------------------

  #onOnline = () => this.#input(IN.online);
  #onPageHide = () => {
    if (!this.#wanted || this.#hidden) return;
    this.#hidden = true;
    this.#input(IN.disconnect);
  };
  #onPageShow = () => {
    if (!this.#wanted || !this.#hidden) return;
    this.#hidden = false;
    this.#input(IN.connect);
  };
  // A hidden tab's timers run late: check the deadline when it shows again.
  #onVisibility = () => {
    if (document.visibilityState === 'visible') this.#input(IN.timeout);
  };

  #listen(on) {
    if (typeof window === 'undefined' || typeof window.addEventListener !== 'function') return;
    const method = on ? 'addEventListener' : 'removeEventListener';
    window[method]('online', this.#onOnline);
    window[method]('pagehide', this.#onPageHide);
    window[method]('pageshow', this.#onPageShow);
    document[method]('visibilitychange', this.#onVisibility);
  }

  #load() {
    try {
      const saved = JSON.parse(this.#storage?.getItem(this.#storageKey) ?? 'null');
      return typeof saved?.session_id === 'string' ? saved.session_id : undefined;
    } catch {
      return undefined;
    }
  }

  #save(id) {
    try {
      if (id) this.#storage?.setItem(this.#storageKey, JSON.stringify({ session_id: id }));
      else this.#storage?.removeItem(this.#storageKey);
    } catch {
      // A full or blocked storage only costs the resume after a reload.
    }
  }
}
