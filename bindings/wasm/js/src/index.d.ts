// Types of the VIZOCHOK browser package. Payload types keep the seed's
// snake_case field names; the widget's config and methods are camelCase.

/** The action that changed the cart. */
export type CartAction = 'item_selected' | 'item_removed' | 'quantity_updated' | 'cart_cleared';

/** One line of the cart. */
export interface CartItem {
  sku: string;
  name: string;
  price: number;
  promo_price: number | null;
  brand: string | null;
  quantity: number;
}

/** What onCartChanged receives; `items` is always the complete cart. */
export interface CartChangedEvent {
  action: CartAction;
  sku?: string;
  name?: string;
  quantity?: number;
  price?: number;
  items: CartItem[];
  total: number;
}

/** A product card shown in the chat. */
export interface ProductItem {
  sku: string;
  name: string;
  price: number;
  unit: string;
  quantity_step: number;
  quantity?: number;
  brand: string | null;
  image_url: string | null;
  promo_price: number | null;
}

/** What onSessionComplete receives. */
export interface SessionSummary {
  selected_items: CartItem[];
  total: number;
  item_count: number;
}

/** Error codes a server may send. */
export type ServerErrorCode =
  | 'rate_limit_exceeded' | 'user_message_limit' | 'user_conversation_limit'
  | 'tenant_daily_token_limit' | 'tenant_monthly_token_limit' | 'agent_busy'
  | 'message_too_large' | 'invalid_json' | 'internal_error' | 'max_rounds_exceeded'
  | 'session_token_limit' | 'no_catalog_data';

/** Error codes the widget raises itself. */
export type ClientErrorCode =
  | 'auth_error' | 'auth_timeout' | 'ws_error' | 'message_too_large' | 'queue_full'
  | 'max_reconnect' | 'connection_lost';

/** What onError receives. */
export interface WidgetError {
  /** Machine-readable error code. */
  code: ServerErrorCode | ClientErrorCode;
  /** Localized text in the widget's language. */
  message: string;
  /** Developer-facing English detail (never contains the api key). */
  detail?: string;
  /** The action id this error finishes, if any. */
  reply_to?: string;
  /** How long the server asked to wait before retrying. */
  retry_after_ms?: number;
}

/** One line of the conversation (after a restore or a reset). */
export interface HistoryEntry {
  role: 'user' | 'assistant';
  text: string;
  products?: ProductItem[];
}

/** What onMessage receives: the conversation's events, for a custom UI. */
export type ChatMessage =
  | { type: 'typing'; reply_to?: string }
  | { type: 'delta'; message_id: string; reply_to: string; text: string }
  | { type: 'response'; message_id: string; reply_to: string; text: string; products: ProductItem[] }
  | { type: 'history'; entries: HistoryEntry[] }
  | { type: 'ack'; id: string };

/** The connection state. */
export type WidgetState =
  | 'idle' | 'connecting' | 'authenticating' | 'connected' | 'reconnecting' | 'stopped' | 'destroyed';

/** A language of the widget's own texts. */
export type Language = 'en' | 'uk';

/** The cart as the server last confirmed it. */
export interface Cart {
  items: CartItem[];
  total: number;
}

/** The widget's config: the seed's fields plus the browser package's options. */
export interface VIZOCHOKWidgetConfig {
  /** The store's public api key. */
  apiKey: string;
  /** The store. */
  storeId: string;
  /** The shopper, if the store knows them. */
  userId?: string;
  /** Language of the widget's texts; default `'en'`. */
  language?: Language;
  /** The VIZOCHOK server; `wss://`, or `ws://` to a loopback host. */
  serverUrl?: string;
  /** Where the session id lives across page reloads; default `'local'`. */
  persistSession?: 'local' | 'session' | 'none';
  onCartChanged?: (cart: CartChangedEvent) => void;
  onProductClick?: (product: ProductItem) => void;
  onSessionComplete?: (summary: SessionSummary) => void;
  onError?: (error: WidgetError) => void;
  onConnect?: () => void;
  onDisconnect?: () => void;
  /** Conversation events, for a custom UI. */
  onMessage?: (message: ChatMessage) => void;
  /** Every change of `state`. */
  onStateChange?: (state: WidgetState) => void;
}

/** The VIZOCHOK shopping-assistant widget. */
export declare class VIZOCHOKWidget {
  /** Throws a TypeError for a config that cannot work (before any I/O). */
  constructor(config: VIZOCHOKWidgetConfig);
  /** The connection state. */
  readonly state: WidgetState;
  /** The conversation's session id, once the server gave one. */
  readonly sessionId: string | null;
  /** The cart as the server last confirmed it. */
  readonly cart: Cart;
  /** The language of the widget's texts. */
  readonly language: Language;
  /** Connects; with a container (element or selector) also renders the default chat UI. */
  mount(container?: Element | string): Promise<void>;
  /** Closes the socket and removes the UI; keeps the session. */
  unmount(): void;
  /** Closes and releases everything; later calls throw. */
  destroy(): void;
  /**
   * Sends a chat message. Returns the action id, or null when refused
   * (`message_too_large`, `queue_full`: onError fired). Throws a RangeError
   * for an empty message.
   */
  sendMessage(text: string): string | null;
  /** Fires onProductClick and sends `select_item`; quantity defaults to one quantity_step. */
  selectProduct(product: ProductItem, quantity?: number): string | null;
  /** Sets a cart line's quantity (a RangeError if not a positive multiple of its step). */
  updateQuantity(sku: string, quantity: number): string | null;
  /** Removes a cart line. */
  removeItem(sku: string): string | null;
  /** Empties the cart. */
  clearCart(): string | null;
  /** Forgets the conversation. */
  reset(): void;
  /** Switches the language of error texts and of the default UI. */
  setLanguage(language: Language): void;
}

/** The hosted service's endpoint, used when `serverUrl` is not given. */
export declare const DEFAULT_SERVER_URL: string;

/** Every UI string of the widget's catalog, `{ key: text }`. */
export declare function uiStrings(language?: Language): Record<string, string>;

/**
 * The core's sans-IO session, for custom hosts and tests. Feed it inputs
 * with monotonic milliseconds, then `drain()` (a JSON array of outputs) and
 * arm one timer for `pollTimeout()`.
 */
export declare class Session {
  constructor(
    apiKey: string, storeId: string, url: string, seed: bigint, language: string,
    userId?: string | null, sessionId?: string | null, lastSeq?: number,
  );
  free(): void;
  drain(): string;
  pollTimeout(): number | undefined;
  connect(now: number): void;
  socketOpened(now: number, socket: number): void;
  text(now: number, socket: number, text: string): void;
  binary(now: number, socket: number, len: number): void;
  socketClosed(now: number, socket: number, code: number | undefined | null, reason: string): void;
  socketError(now: number, socket: number, detail: string): void;
  timeout(now: number): void;
  networkOnline(now: number): void;
  close(now: number): void;
  destroy(now: number): void;
  sendMessage(now: number, text: string): string | undefined;
  selectProduct(now: number, productJson: string, quantity?: number | null): string | undefined;
  updateQuantity(now: number, sku: string, quantity: number): string | undefined;
  removeItem(now: number, sku: string): string | undefined;
  clearCart(now: number): string | undefined;
  reset(now: number): void;
  setLanguage(language: string): void;
  readonly language: string;
  readonly state: string;
  readonly sessionId: string | undefined;
  readonly lastSeq: number;
  /** JSON `{"items": [...], "total": n}`. */
  readonly cart: string;
}
