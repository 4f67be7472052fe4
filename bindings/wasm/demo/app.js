// The demo store: wires VIZOCHOKWidget as the seed's "Cart Synchronization"
// and "Connection Status Indicator" patterns show, and steers it from the
// page: "Ask about this" on a product, a header button that opens the chat.
import { VIZOCHOKWidget } from './vizochok/vizochok.mjs';

const params = new URLSearchParams(location.search);
const lang = params.get('lang') === 'uk' ? 'uk' : 'en';
const serverUrl = params.get('server') ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/ws`;

// The storefront's own featured products (the assistant searches the whole catalog).
const FEATURED = [
  { sku: 'DAI-001', name: 'Halychyna milk 2.5% 870 g', brand: 'Галичина', price: 44.9, promo_price: null, unit: 'pcs', quantity_step: 1 },
  { sku: 'DAI-004', name: 'Prostokvashyno milk 2.5% 840 g', brand: 'Простоквашино', price: 45.8, promo_price: 37.9, unit: 'pcs', quantity_step: 1 },
  { sku: 'DAI-018', name: 'Pyriatyn hard cheese Gollandskyi 45%', brand: 'Пирятин', price: 489, promo_price: 414.9, unit: 'kg', quantity_step: 0.1 },
  { sku: 'BAK-001', name: 'Kyivkhlib Ukrainian bread 750 g', brand: 'Київхліб', price: 32.5, promo_price: 26.9, unit: 'pcs', quantity_step: 1 },
  { sku: 'BAK-013', name: 'French baguette 250 g', brand: null, price: 31, promo_price: null, unit: 'pcs', quantity_step: 1 },
  { sku: 'DAI-026', name: 'Yasensvit chicken eggs C1 10 pcs', brand: 'Ясенсвіт', price: 62.9, promo_price: null, unit: 'pcs', quantity_step: 1 },
  { sku: 'MEA-001', name: 'Nasha Riaba chilled chicken fillet', brand: 'Наша Ряба', price: 214, promo_price: null, unit: 'kg', quantity_step: 0.1 },
  { sku: 'DAI-023', name: 'Yagotynske butter 82% 180 g', brand: 'Яготинське', price: 109.9, promo_price: null, unit: 'pcs', quantity_step: 1 },
].map((p) => ({ ...p, image_url: `/images/${p.sku}.svg` }));

const money = (n) => new Intl.NumberFormat(lang, { style: 'currency', currency: 'UAH' }).format(n);
const el = (tag, props = {}, ...children) => {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
};

// A tiny store with the `dispatch('cart/replaceAll', ...)` of the seed's pattern.
const store = {
  cart: { items: [], total: 0 },
  dispatch(action, payload) {
    if (action !== 'cart/replaceAll') return;
    this.cart = { items: payload.items, total: payload.total };
    renderCart();
  },
};

function renderCart() {
  const { items, total } = store.cart;
  document.getElementById('cart-total').textContent = money(total);
  const itemCount = items.reduce((sum, i) => sum + i.quantity, 0);
  document.getElementById('cart-badge').textContent = String(Math.round(itemCount * 1000) / 1000);
  const list = document.getElementById('cart-items');
  list.replaceChildren(...items.map((item) => {
    const remove = el('button', { type: 'button', textContent: 'Remove', className: 'link' });
    remove.addEventListener('click', () => widget.removeItem(item.sku));
    return el('li', {}, el('span', { textContent: `${item.name} × ${item.quantity}` }),
      el('span', { textContent: money((item.promo_price ?? item.price) * item.quantity) }), remove);
  }));
  document.getElementById('cart-empty').hidden = items.length > 0;
  document.getElementById('cart-clear').hidden = items.length === 0;
}

// Every callback the widget fires, for people poking at the demo (and its tests).
const events = [];
window.vizochokEvents = events;
const log = (name, data) => events.push({ name, data, at: performance.now() });

const statusEl = document.getElementById('assistant-status');
const askButton = document.getElementById('ask-assistant-btn');
const widget = new VIZOCHOKWidget({
  apiKey: params.get('key') ?? 'pk_demo',
  storeId: params.get('store') ?? 'demo-store',
  language: lang,
  serverUrl,
  persistSession: params.get('persist') ?? 'local',
  starters: lang === 'uk' ? ['Молоко', 'Хліб до сніданку', 'Що в кошику?'] : ['Milk', 'Bread for breakfast', "What's in my cart?"],
  onCartChanged: (cart) => {
    log('cart_changed', cart);
    // Replace your cart state entirely with the AI's cart
    store.dispatch('cart/replaceAll', { items: cart.items, total: cart.total });
  },
  onSessionComplete: (summary) => {
    log('session_complete', summary);
    // Also sync on session restore (page refresh / reconnect)
    store.dispatch('cart/replaceAll', { items: summary.selected_items, total: summary.total });
  },
  onProductClick: (product) => log('product_click', product),
  onError: (error) => log('error', error),
  onConnect: () => {
    log('connect');
    statusEl.className = 'status-online';
    statusEl.textContent = 'Assistant online';
    askButton.disabled = false;
  },
  onDisconnect: () => {
    log('disconnect');
    statusEl.className = 'status-offline';
    statusEl.textContent = 'Assistant offline';
    askButton.disabled = true;
  },
  onStateChange: (state) => log('state', state),
  onMessage: (message) => log('message', message),
  onOpen: () => log('open'),
  onClose: () => log('close'),
  onReady: () => log('ready'),
  onUnreadChange: (count) => log('unread', count),
});
window.vizochokWidget = widget;

// The storefront grid: "Add to cart" goes through the assistant's cart, and
// "Ask about this" tells the assistant which product the shopper means.
document.getElementById('grid').replaceChildren(...FEATURED.map((p) => {
  const add = el('button', { type: 'button', textContent: 'Add to cart', className: 'add' });
  add.addEventListener('click', () => widget.selectProduct(p));
  const about = el('button', { type: 'button', textContent: 'Ask about this', className: 'about' });
  about.addEventListener('click', () => {
    widget.setContext({ sku: p.sku, page: { url: `${location.origin}/products/${p.sku}`, title: p.name } });
    widget.prefill(lang === 'uk' ? 'Додай це' : 'Add this');
  });
  const price = p.promo_price != null
    ? el('p', { className: 'price' }, el('del', { textContent: money(p.price) }), ' ', el('strong', { textContent: money(p.promo_price) }), ` / ${p.unit}`)
    : el('p', { className: 'price', textContent: `${money(p.price)} / ${p.unit}` });
  return el('li', { className: 'product' },
    el('img', { src: p.image_url, alt: '', loading: 'lazy' }),
    el('h3', { textContent: p.name }),
    el('p', { className: 'brand', textContent: p.brand ?? '' }),
    price, el('div', { className: 'actions' }, add, about));
}));

askButton.addEventListener('click', () => widget.open());

const select = document.getElementById('lang');
select.value = lang;
select.addEventListener('change', () => widget.setLanguage(select.value));

const cartButton = document.getElementById('cart-button');
const cartPanel = document.getElementById('cart-panel');
cartButton.addEventListener('click', () => {
  cartPanel.hidden = !cartPanel.hidden;
  cartButton.setAttribute('aria-expanded', String(!cartPanel.hidden));
});
document.getElementById('cart-clear').addEventListener('click', () => widget.clearCart());

renderCart();
