// Types of the VIZOCHOK browser package. The payload types (generated from
// the Rust types into types.d.ts) keep the callback contract's snake_case
// field names; the widget's config and methods are camelCase.
import type {
  Block, Cart, CartChangedEvent, ErrorCode, PendingAction, ProductItem, Rating, SessionSummary, State,
  WidgetError, WidgetMessage,
} from './types.js';

export type * from './types.js';

/** A language of the widget's own texts. */
export type Language = 'en' | 'uk';
/** A language tag the widget takes (`uk`, `uk-UA`, `en-GB`, `navigator.language`...): Ukrainian for `uk`/`ua`, else English. */
export type LanguageTag = Language | (string & {});

/** What the shopper is looking at; "add this" then means its `sku`. */
export interface PageContextInput {
  page?: { url?: string; title?: string };
  sku?: string;
  category?: string;
  query?: string;
  locale?: string;
  currency?: string;
}

/** What a transport reports about one socket. */
export interface SocketEvents {
  opened(): void;
  text(text: string): void;
  binary(length: number): void;
  /** The socket is gone: the close code as received (`null` without one), and the reason or error. */
  ended(code: number | null, reason: string): void;
}

/**
 * Sockets, a clock and one timer. The default is the browser's
 * (`browserTransport()`); tests and other runtimes give their own.
 */
export interface Transport {
  /** Monotonic milliseconds. */
  now(): number;
  open(socket: number, url: string, events: SocketEvents): void;
  send(socket: number, text: string): void;
  /** Close (or abandon while it opens); report nothing more for it. */
  close(socket: number, code: number, reason: string): void;
  /** Call `fire` at `deadline` (in `now()`'s clock); `null` cancels. Replaces the timer set before. */
  setTimer(deadline: number | null, fire: () => void): void;
}

/** The widget's config: the callback contract's fields plus the browser package's options. */
export interface VIZOCHOKWidgetConfig {
  /** The store's public api key. */
  apiKey: string;
  /** The store. */
  storeId: string;
  /** The shopper, if the store knows them. */
  userId?: string;
  /** Proof of `userId` from the store's backend (see the identity guide). */
  userToken?: string;
  /** Language of the widget's texts, as a tag; default `'en'`. */
  language?: LanguageTag;
  /** The VIZOCHOK server; `wss://`, or `ws://` to a loopback host. */
  serverUrl?: string;
  /** Where the session id lives across page reloads; default `'local'` (shared by the store's tabs). */
  persistSession?: 'local' | 'session' | 'none';
  /** Show the default chat UI; default `true`. `false` makes the widget headless (`mount(element)` still shows it in that element). */
  ui?: boolean;
  /** Show the floating launcher; default `true`. `false` when the page has its own button (it calls `open()`). */
  launcher?: boolean;
  /** Prompts shown in an empty conversation. */
  starters?: string[];
  /** ISO 4217 currency of prices in the UI; default `'UAH'`. A code `Intl.NumberFormat` does not know throws a `TypeError` at construction. */
  currency?: string;
  /** Connect at once; default `true`. */
  autoConnect?: boolean;
  /** Replaces the browser's WebSocket, clock and timer. */
  transport?: Transport;
  onCartChanged?: (cart: CartChangedEvent) => void;
  onProductClick?: (product: ProductItem) => void;
  onSessionComplete?: (summary: SessionSummary) => void;
  onError?: (error: WidgetError) => void;
  onConnect?: () => void;
  onDisconnect?: () => void;
  /** Every chat event, in order: typing, deltas, replies (with their Markdown `blocks`), other tabs' messages, history, acknowledgements. */
  onMessage?: (message: WidgetMessage & { blocks?: Block[] }) => void;
  /** Every change of `state`. */
  onStateChange?: (state: State) => void;
  /** The chat panel opened. */
  onOpen?: () => void;
  /** The chat panel closed. */
  onClose?: () => void;
  /** The number of replies that arrived while the panel was closed. */
  onUnreadChange?: (count: number) => void;
  /** The core is loaded (calls made before were queued and have run). */
  onReady?: () => void;
}

/** The VIZOCHOK shopping-assistant widget. */
export declare class VIZOCHOKWidget {
  /**
   * Throws a TypeError for a config that cannot work. Connects at once and
   * shows the launcher unless told not to; a config the core refuses (an
   * insecure URL, a secret in it) rejects `ready` with a TypeError.
   */
  constructor(config: VIZOCHOKWidgetConfig);
  /** Resolves once the core is loaded. Actions called before return `undefined` and run, in order, then. */
  readonly ready: Promise<void>;
  /** The connection state. */
  readonly state: State;
  /** The conversation's session id, once the server gave one. */
  readonly sessionId: string | null;
  /** The cart as the server last confirmed it. */
  readonly cart: Cart;
  /** Actions accepted and not ended yet. */
  readonly pendingActions: PendingAction[];
  /** The language of the widget's texts. */
  readonly language: Language;
  /** Whether the chat panel is open. */
  readonly isOpen: boolean;
  /** Replies with something to read that arrived while the chat was not on screen (closed, not mounted). */
  readonly unreadCount: number;
  /** Starts (or resumes) connecting. */
  connect(): void;
  /** Closes the connection and keeps the conversation. */
  disconnect(): void;
  /** The network is back: skip the backoff wait (the page's `online` event does this by itself). */
  networkOnline(): void;
  /**
   * Connects and places the chat UI in `container` (an element or a
   * selector): the widget's one UI, moved there with its conversation.
   * The unread count goes to 0. Rejects as `ready` does.
   */
  mount(container: Element | string): Promise<void>;
  /** Takes the UI off the page (the panel closes) and closes the connection; keeps the conversation, which `mount()` or `open()` shows again. */
  unmount(): void;
  /** Releases everything (socket, timer, listeners, UI). Safe to call twice. */
  destroy(): void;
  /** Opens the chat panel. */
  open(): void;
  /** Closes the chat panel (the connection stays). */
  close(): void;
  /** Opens the panel when closed, closes it when open. */
  toggle(): void;
  /** Opens the panel and sends `text`; the action id, or null when refused. */
  ask(text: string): string | null | undefined;
  /** Opens the panel with `text` in the input. */
  prefill(text: string): void;
  /**
   * Sends a chat message: the action id, or null when refused
   * (`message_too_large`, `queue_full`: onError fired). Throws a RangeError
   * for an empty message.
   */
  sendMessage(text: string): string | null | undefined;
  /** Fires onProductClick and sends `select_item`; quantity defaults to one quantity_step. */
  selectProduct(product: ProductItem, quantity?: number): string | null | undefined;
  /** Sets a cart line's quantity (a RangeError if not a positive multiple of its step). */
  updateQuantity(sku: string, quantity: number): string | null | undefined;
  /** Removes a cart line. */
  removeItem(sku: string): string | null | undefined;
  /** Empties the cart. */
  clearCart(): string | null | undefined;
  /** Forgets the conversation. */
  reset(): void;
  /** Tells the assistant what the shopper is looking at. */
  setContext(context: PageContextInput): string | null | undefined;
  /** Stops the reply that is streaming; its id, or null when nothing streams. */
  stop(): string | null | undefined;
  /** Rates a reply (the `message_id` of its response). */
  feedback(messageId: string, rating: Rating, comment?: string): string | null | undefined;
  /** Switches the language of error texts and of the UI. */
  setLanguage(language: LanguageTag): void;
}

/** The hosted service's endpoint, used when `serverUrl` is not given. */
export declare const DEFAULT_SERVER_URL: string;

/** The browser's WebSocket, `performance.now()` and `setTimeout`, as a transport. */
export declare function browserTransport(): Transport;

/** Every error code, for exhaustive handling. */
export type { ErrorCode };
