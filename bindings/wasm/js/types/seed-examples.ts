// Every code example of the store developer's callback documentation (the
// widget's public contract; that document is not in this repository, its
// names are kept in docs/hosts.md and crates/vizochok-proto/src/types.rs),
// compiled with `tsc --strict` against the package's types. The statements
// are the documentation's, except where strict mode needs more than plain
// JavaScript: a `!` after a DOM lookup that may return null, and
// `as HTMLButtonElement` where an example sets `disabled`. The declarations
// below stand for the store's own objects the examples use.
import { VIZOCHOKWidget } from 'vizochok';
import type { CartItem, WidgetError } from 'vizochok';

declare const store: {
  setCartItems(items: { id: string; name: string; price: number; qty: number }[]): void;
  dispatch(action: string, payload: { items: CartItem[]; total: number }): void;
};
declare const analytics: { track(event: string, props?: Record<string, unknown>): void };
declare const checkout: { updateItems(items: CartItem[]): void; setTotal(total: number): void };
declare const errorTracker: { captureError(error: Error, context: { tags: Record<string, string> }): void };
declare function showToast(text: string): void;
declare const currentUser: { id: string };

// Overview
export const overview = new VIZOCHOKWidget({
  apiKey: 'pk_your_key',
  storeId: 'your-store',
  onCartChanged: (cart) => { /* ... */ },
  onProductClick: (product) => { /* ... */ },
  onSessionComplete: (summary) => { /* ... */ },
  onError: (error) => { /* ... */ },
  onConnect: () => { /* ... */ },
  onDisconnect: () => { /* ... */ },
});

// Each callback example, inside a full config.
export const examples = new VIZOCHOKWidget({
  apiKey: 'pk_your_key',
  storeId: 'your-store',
  // Example: Sync with store cart
  onCartChanged: (cart) => {
    // Update your store's cart state
    store.setCartItems(cart.items.map(item => ({
      id: item.sku,
      name: item.name,
      price: item.promo_price ?? item.price,
      qty: item.quantity,
    })));
    // Update cart total in your header
    document.getElementById('cart-total')!.textContent = `${cart.total} $`;
    // Update cart badge count
    const itemCount = cart.items.reduce((sum, i) => sum + i.quantity, 0);
    document.getElementById('cart-badge')!.textContent = String(itemCount);
  },
  // Example: Track product interactions
  onProductClick: (product) => {
    // Analytics tracking
    analytics.track('product_selected_via_assistant', {
      sku: product.sku,
      name: product.name,
      price: product.promo_price ?? product.price,
      unit: product.unit,
    });
    // Open product detail page
    window.open(`/products/${product.sku}`, '_blank');
  },
  // Example: Update checkout state
  onSessionComplete: (summary) => {
    console.log(`Session: ${summary.item_count} items, total ${summary.total}`);
    // Sync with your checkout system
    if (summary.item_count > 0) {
      checkout.updateItems(summary.selected_items);
      checkout.setTotal(summary.total);
    }
  },
  // Example: Error logging
  onError: (error) => {
    // Report to your error tracking service
    errorTracker.captureError(new Error(error.message), {
      tags: { source: 'vizochok', code: error.code },
    });
    // Show user-facing notification for critical errors
    if (error.code === 'auth_error') {
      showToast('Chat unavailable. Please refresh the page.');
    }
  },
  // onConnect example
  onConnect: () => {
    console.log('VIZOCHOK widget connected');
    (document.getElementById('ask-assistant-btn') as HTMLButtonElement).disabled = false;
  },
  // onDisconnect example
  onDisconnect: () => {
    console.log('VIZOCHOK widget disconnected');
    (document.getElementById('ask-assistant-btn') as HTMLButtonElement).disabled = true;
  },
});

// Common Patterns: Cart Synchronization
export const cartSync = new VIZOCHOKWidget({
  apiKey: 'pk_your_key',
  storeId: 'your-store',
  userId: currentUser.id,
  onCartChanged: (cart) => {
    // Replace your cart state entirely with the AI's cart
    // The `items` array always contains the FULL cart, not just the delta
    store.dispatch('cart/replaceAll', {
      items: cart.items,
      total: cart.total,
    });
  },
  onSessionComplete: (summary) => {
    // Also sync on session restore (page refresh / reconnect)
    store.dispatch('cart/replaceAll', {
      items: summary.selected_items,
      total: summary.total,
    });
  },
});

// Common Patterns: Analytics Tracking
export const analyticsWidget = new VIZOCHOKWidget({
  apiKey: 'pk_your_key',
  storeId: 'your-store',
  onConnect: () => {
    analytics.track('assistant_connected');
  },
  onProductClick: (product) => {
    analytics.track('assistant_product_click', {
      sku: product.sku,
      price: product.price,
    });
  },
  onCartChanged: (cart) => {
    analytics.track('assistant_cart_changed', {
      action: cart.action,
      item_count: cart.items.length,
      total: cart.total,
    });
  },
  onError: (error) => {
    analytics.track('assistant_error', {
      code: error.code,
    });
  },
});

// Common Patterns: Connection Status Indicator
const statusEl = document.getElementById('assistant-status')!;
export const status = new VIZOCHOKWidget({
  apiKey: 'pk_your_key',
  storeId: 'your-store',
  onConnect: () => {
    statusEl.className = 'status-online';
    statusEl.textContent = 'Assistant online';
  },
  onDisconnect: () => {
    statusEl.className = 'status-offline';
    statusEl.textContent = 'Assistant offline';
  },
});

// The package's own additions, typed.
export async function additions(): Promise<void> {
  const w = new VIZOCHOKWidget({
    apiKey: 'pk_demo', storeId: 'demo-store', language: 'uk', serverUrl: 'ws://127.0.0.1:8787/v1/ws',
    persistSession: 'session', launcher: false, starters: ['Молоко', 'Хліб'], currency: 'UAH',
    onMessage: (m) => {
      if (m.type === 'response') console.log(m.products.length, m.suggestions, m.cancelled, m.blocks?.length);
      if (m.type === 'user_message') console.log(m.text);
    },
    onStateChange: (s) => console.log(s),
    onUnreadChange: (n) => console.log(n),
  });
  await w.ready;
  await w.mount('#chat');
  w.open();
  w.setContext({ page: { url: location.href }, sku: 'DAI-001', currency: 'UAH' });
  const id = w.ask('add this');
  const stopped: string | null | undefined = w.stop();
  if (id) w.feedback(id, 'up', 'thanks');
  const e: WidgetError | null = null;
  console.log(id, stopped, e, w.state, w.sessionId, w.cart.total, w.unreadCount, w.isOpen, w.pendingActions);
  w.setLanguage('en');
  w.close();
  w.unmount();
  w.destroy();
}
