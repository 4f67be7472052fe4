// The default chat UI of VIZOCHOKWidget, loaded only when mount() gets a
// container. Rendered in a shadow root; themable with CSS variables; every
// text from the catalog or the server is set with textContent, never as HTML.

const CSS = `
:host{all:initial}
*{box-sizing:border-box}
.root{--a:var(--vizochok-accent,#0b7a4b);--bg:var(--vizochok-bg,#fff);--fg:var(--vizochok-fg,#1d1d1f);--mu:var(--vizochok-muted,#5f6368);--r:var(--vizochok-radius,12px);
font:14px/1.4 var(--vizochok-font,system-ui,sans-serif);color:var(--fg);position:fixed;right:20px;bottom:20px;z-index:var(--vizochok-z,2147483000)}
button{font:inherit;cursor:pointer;border:0;border-radius:calc(var(--r)/2);padding:6px 10px;background:var(--a);color:#fff}
button:focus-visible,input:focus-visible{outline:3px solid var(--vizochok-focus,#1a73e8);outline-offset:2px}
.ghost{background:transparent;color:var(--fg)}
.launcher{border-radius:999px;padding:12px 18px;box-shadow:0 4px 16px #0003;display:flex;gap:8px;align-items:center}
.badge{background:#fff;color:var(--a);border-radius:999px;min-width:1.6em;padding:0 6px;font-weight:700;text-align:center}
.badge:empty{display:none}
.panel{position:absolute;right:0;bottom:60px;width:var(--vizochok-width,370px);max-width:calc(100vw - 40px);height:var(--vizochok-height,560px);max-height:calc(100vh - 100px);
background:var(--bg);border-radius:var(--r);box-shadow:0 8px 32px #0004;display:flex;flex-direction:column;overflow:hidden}
.panel[hidden]{display:none}
header{display:flex;align-items:center;gap:6px;padding:10px 12px;background:var(--a);color:#fff}
header h2{font-size:16px;margin:0}
.head{flex:1;min-width:0}
header button{background:transparent;color:#fff;padding:4px 8px}
.status{display:block;font-size:12px;opacity:.9}
.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px}
.msg{max-width:88%;padding:8px 10px;border-radius:var(--r);white-space:pre-wrap;overflow-wrap:anywhere}
.user{align-self:flex-end;background:var(--a);color:#fff}
.assistant{align-self:flex-start;background:var(--vizochok-bubble,#f1f3f4)}
.cards{display:flex;flex-direction:column;gap:8px;margin-top:8px;white-space:normal}
.card{background:var(--bg);border:1px solid #0002;border-radius:var(--r);padding:8px;display:flex;gap:10px}
.card img,.card .noimg{width:64px;height:64px;flex:none;object-fit:contain;border-radius:calc(var(--r)/2);background:#fafafa}
.info{flex:1;min-width:0;display:flex;flex-direction:column;gap:2px}
.card h3{font-size:13px;margin:0}
.buy{display:flex;gap:6px;align-items:center;margin-top:4px}
.brand,.unit{color:var(--mu);font-size:12px;margin:0}
.price{margin:0}.price del{color:var(--mu);margin-right:4px}.price strong{color:#c5221f}
.stepper{display:flex;align-items:center;gap:3px;flex:1;min-width:0}
.stepper .unit{white-space:nowrap}
.stepper button{padding:2px 9px;background:var(--vizochok-bubble,#f1f3f4);color:var(--fg)}
.stepper input{width:100%;min-width:0;text-align:center;font:inherit;border:1px solid #0003;border-radius:6px;padding:2px}
.typing,.error{margin:0;padding:0 12px 6px;font-size:12px;color:var(--mu)}
.error{color:#c5221f}
.typing[hidden],.error[hidden]{display:none}
form{display:flex;gap:6px;padding:10px;border-top:1px solid #0001}
form input{flex:1;font:inherit;padding:8px;border:1px solid #0003;border-radius:calc(var(--r)/2);min-width:0}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

const STATUS = {
  idle: 'offline', connecting: 'connecting', authenticating: 'connecting', connected: 'online',
  reconnecting: 'reconnecting', stopped: 'offline', destroyed: 'offline',
};

/**
 * The image URL to show, or null: only `https:`, `http:` (relative URLs
 * resolve against the server's origin) and `data:image/`.
 */
export function safeImageUrl(url, base) {
  if (typeof url !== 'string') return null;
  const text = url.trim();
  if (/^data:image\//i.test(text)) return text;
  try {
    const resolved = new URL(text, base);
    return resolved.protocol === 'https:' || resolved.protocol === 'http:' ? resolved.href : null;
  } catch {
    return null;
  }
}

/** An element with fixed attribute names; children are nodes or text. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === true) el.setAttribute(name, '');
    else if (value !== false && value != null) el.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child != null) el.append(child);
  }
  return el;
}

/** Renders the UI into `container` and returns its handle for the widget. */
export function createUI(container, host) {
  const { widget, imageBase } = host;
  let lang = widget.language;
  let text = host.strings(lang);
  const t = (key) => text[key] ?? key;
  const num = (n, digits) => n.toLocaleString(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits || 3 });
  /** Marks an element for relabeling: `data-t` sets its text, `data-l` its aria-label. */
  const label = (el, key, attr) => {
    el.setAttribute(attr ? 'data-l' : 'data-t', key);
    return el;
  };

  const hostEl = h('div', { class: 'vizochok-widget' });
  const shadow = hostEl.attachShadow({ mode: 'open' });
  const style = h('style');
  style.textContent = CSS;

  const badge = h('span', { class: 'badge', 'aria-hidden': 'true' });
  const launcherText = label(h('span'), 'title');
  const launcher = h('button', { class: 'launcher', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'vz-panel' }, launcherText, badge);
  const status = h('span', { class: 'status', role: 'status' });
  const newChat = label(h('button', { type: 'button', class: 'new' }), 'new_chat');
  const close = label(h('button', { type: 'button', class: 'close' }, '×'), 'close', true);
  const title = label(h('h2', { id: 'vz-title' }), 'title');
  const log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', tabindex: '0' });
  const typing = label(h('p', { class: 'typing', hidden: true }), 'typing');
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const input = label(h('input', { type: 'text', autocomplete: 'off', enterkeyhint: 'send' }), 'placeholder', true);
  const send = label(h('button', { type: 'submit' }), 'send');
  const form = h('form', {}, input, send);
  const panel = h('section', { id: 'vz-panel', class: 'panel', role: 'dialog', 'aria-labelledby': 'vz-title', hidden: true },
    h('header', {}, h('div', { class: 'head' }, title, status), newChat, close), log, typing, error, form);
  shadow.append(style, h('div', { class: 'root' }, panel, launcher));

  let state = widget.state;
  let items = widget.cart.items;
  /** Assistant bubbles by message_id, for streamed text. */
  const bubbles = new Map();

  function relabel() {
    for (const el of shadow.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
    for (const el of shadow.querySelectorAll('[data-l]')) el.setAttribute('aria-label', t(el.dataset.l));
    input.placeholder = t('placeholder');
    status.textContent = t(STATUS[state] ?? 'offline');
    const count = items.length;
    badge.textContent = count ? String(count) : '';
    launcher.setAttribute('aria-label', `${t('open')}${count ? ` (${t('cart')}: ${count})` : ''}`);
  }

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute('aria-expanded', String(open));
    if (open) input.focus();
    else launcher.focus();
  }

  function bubble(role, content) {
    const who = label(h('span', { class: 'sr' }), role === 'user' ? 'you' : 'assistant');
    const body = h('span', { class: 'text' });
    body.textContent = content;
    const el = h('div', { class: `msg ${role}` }, who, body);
    log.append(el);
    log.scrollTop = log.scrollHeight;
    return el;
  }

  function card(product) {
    const step = product.quantity_step > 0 ? product.quantity_step : 1;
    const digits = (String(step).split('.')[1] ?? '').length;
    let steps = 1;
    const src = safeImageUrl(product.image_url, imageBase);
    const img = src ? h('img', { src, alt: '', loading: 'lazy', decoding: 'async' }) : h('div', { class: 'noimg' });
    const name = h('h3');
    name.textContent = product.name;
    const brand = product.brand ? h('p', { class: 'brand' }) : null;
    if (brand) brand.textContent = product.brand;
    const price = h('p', { class: 'price' });
    const unit = ` / ${product.unit}`;
    if (product.promo_price != null) {
      price.append(h('del', {}, num(product.price, 2)), h('strong', {}, num(product.promo_price, 2)), unit);
    } else {
      price.append(num(product.price, 2), unit);
    }
    const qty = label(h('input', { type: 'number', inputmode: 'decimal', min: step, step }), 'quantity', true);
    const show = () => { qty.value = (steps * step).toFixed(digits); };
    show();
    qty.addEventListener('change', () => {
      const v = Number(qty.value);
      steps = Number.isFinite(v) ? Math.max(1, Math.round(v / step)) : 1;
      show();
    });
    const dec = label(h('button', { type: 'button', class: 'dec' }, '−'), 'decrease', true);
    const inc = label(h('button', { type: 'button', class: 'inc' }, '+'), 'increase', true);
    dec.addEventListener('click', () => { steps = Math.max(1, steps - 1); show(); });
    inc.addEventListener('click', () => { steps += 1; show(); });
    const add = label(h('button', { type: 'button', class: 'add' }), 'add');
    add.addEventListener('click', () => {
      try {
        if (widget.selectProduct(product, Number((steps * step).toFixed(digits))) !== null) {
          add.dataset.t = 'added';
          add.textContent = t('added');
        }
      } catch (e) {
        console.error('VIZOCHOK: selectProduct threw', e);
      }
    });
    const stepper = label(h('div', { class: 'stepper', role: 'group' }, dec, qty, h('span', { class: 'unit' }, product.unit), inc), 'quantity', true);
    const el = h('article', { class: 'card' }, img, h('div', { class: 'info' }, name, brand, price, h('div', { class: 'buy' }, stepper, add)));
    el.setAttribute('aria-label', product.name);
    return el;
  }

  function cards(el, products) {
    el.querySelector('.cards')?.remove();
    if (products && products.length) el.append(h('div', { class: 'cards' }, ...products.map(card)));
  }

  function reply(message_id, content, products) {
    typing.hidden = true;
    let el = bubbles.get(message_id);
    if (!el) {
      el = bubble('assistant', '');
      bubbles.set(message_id, el);
    }
    el.querySelector('.text').textContent = content;
    if (products) cards(el, products);
    relabel();
    log.scrollTop = log.scrollHeight;
    return el;
  }

  function showError(message) {
    error.textContent = message ?? '';
    error.hidden = !message;
  }

  launcher.addEventListener('click', () => setOpen(panel.hidden));
  close.addEventListener('click', () => setOpen(false));
  panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') setOpen(false);
  });
  newChat.addEventListener('click', () => widget.reset());
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = input.value;
    if (!value.trim()) return;
    showError(null);
    try {
      if (widget.sendMessage(value) !== null) input.value = '';
    } catch (err) {
      console.error('VIZOCHOK: sendMessage threw', err);
    }
  });

  relabel();
  container.append(hostEl);

  return {
    root: shadow,
    handle(message) {
      if ('sent' in message) {
        bubble('user', message.text);
        relabel();
      } else if ('language' in message) {
        lang = message.language;
        text = host.strings(lang);
        relabel();
      } else if ('state' in message) {
        state = message.state;
        relabel();
      } else if (message.on === 'cart_changed' || message.on === 'session_complete') {
        items = message.data.items ?? message.data.selected_items ?? [];
        relabel();
      } else if (message.on === 'error') {
        showError(message.data.message);
      } else if (message.on === 'connect') {
        showError(null);
      } else if (message.ui === 'typing') {
        typing.hidden = false;
      } else if (message.ui === 'delta') {
        const el = bubbles.get(message.data.message_id);
        const sofar = el ? el.querySelector('.text').textContent : '';
        reply(message.data.message_id, sofar + message.data.text);
      } else if (message.ui === 'response') {
        reply(message.data.message_id, message.data.text, message.data.products);
      } else if (message.ui === 'history') {
        log.replaceChildren();
        bubbles.clear();
        typing.hidden = true;
        for (const entry of message.data) {
          const el = bubble(entry.role === 'user' ? 'user' : 'assistant', entry.text);
          cards(el, entry.products);
        }
        relabel();
      }
    },
    destroy() {
      hostEl.remove();
    },
  };
}
