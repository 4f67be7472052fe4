// The default chat UI of VIZOCHOKWidget, loaded the first time it is shown.
// It lives in a shadow root styled by a constructable stylesheet (no <style>
// element, no style attribute: a strict CSP allows it), themable with CSS
// variables. Every text from the catalog or the server becomes text nodes,
// never HTML; a reply's Markdown comes parsed by the core.

const CSS = `
:host{all:initial}
*{box-sizing:border-box}
.root{--a:var(--vizochok-accent,#0b6b43);--bg:var(--vizochok-bg,#fff);--fg:var(--vizochok-fg,#1d1d1f);--mu:var(--vizochok-muted,#555b61);--r:var(--vizochok-radius,12px);
font:15px/1.45 var(--vizochok-font,system-ui,sans-serif);color:var(--fg);position:fixed;right:20px;bottom:20px;z-index:var(--vizochok-z,2147483000)}
.root.inline{position:static;height:100%}
button{font:inherit;cursor:pointer;border:0;border-radius:calc(var(--r)/2);padding:8px 12px;min-height:40px;background:var(--a);color:#fff}
button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid var(--vizochok-focus,#1a5fd0);outline-offset:2px}
button[disabled]{opacity:.6;cursor:default}
.launcher{border-radius:999px;padding:12px 18px;box-shadow:0 4px 16px #0003;display:flex;gap:8px;align-items:center}
.badge{background:#fff;color:var(--a);border-radius:999px;min-width:1.6em;padding:0 6px;font-weight:700;text-align:center}
.badge:empty{display:none}
.panel{position:absolute;right:0;bottom:64px;width:var(--vizochok-width,380px);max-width:calc(100vw - 40px);height:var(--vizochok-height,580px);max-height:calc(100vh - 100px);
background:var(--bg);border-radius:var(--r);box-shadow:0 8px 32px #0004;display:flex;flex-direction:column;overflow:hidden}
.inline .panel{position:static;width:100%;max-width:none;height:100%;max-height:none;box-shadow:none;border:1px solid #0002}
.panel[hidden]{display:none}
header{display:flex;align-items:center;gap:6px;padding:10px 12px;background:var(--a);color:#fff}
header h2{font-size:16px;margin:0}
.head{flex:1;min-width:0}
header button{background:transparent;color:#fff;padding:6px 10px}
.status{display:block;font-size:13px}
.log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px}
.msg{max-width:90%;padding:8px 10px;border-radius:var(--r);overflow-wrap:anywhere}
.msg p,.msg ul,.msg ol{margin:0 0 6px}.msg :last-child{margin-bottom:0}.msg ul,.msg ol{padding-left:20px}
.msg a{color:inherit}
.plain{white-space:pre-wrap}
.user{align-self:flex-end;background:var(--a);color:#fff}
.assistant{align-self:flex-start;background:var(--vizochok-bubble,#f1f3f4)}
.chips{display:flex;flex-wrap:wrap;gap:6px}
.chips button{background:var(--bg);color:var(--a);border:1px solid var(--a);border-radius:999px;padding:6px 12px}
.rate{display:flex;gap:4px;align-items:center;margin-top:6px;font-size:13px;color:var(--mu)}
.rate button{background:transparent;color:var(--fg);border:1px solid #0003;padding:2px 10px;min-height:32px}
.rate button[aria-pressed=true]{background:var(--a);color:#fff}
.cards{display:flex;flex-direction:column;gap:8px;margin-top:8px}
.card{background:var(--bg);border:1px solid #0002;border-radius:var(--r);padding:8px;display:flex;gap:10px}
.card img,.card .noimg{width:64px;height:64px;flex:none;object-fit:contain;border-radius:calc(var(--r)/2);background:#fafafa}
.info{flex:1;min-width:0;display:flex;flex-direction:column;gap:2px}
.card h3{font-size:14px;margin:0}
.buy{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin-top:4px}
.brand{color:var(--mu);font-size:13px;margin:0}
.price{margin:0}.price del{color:var(--mu);margin-right:4px}.price strong{color:#b3261e}
.stepper{display:flex;align-items:center;gap:3px;flex:1 1 9em}
.stepper .unit{white-space:nowrap;color:var(--mu)}
.stepper button{padding:2px 10px;background:var(--vizochok-bubble,#f1f3f4);color:var(--fg)}
.stepper input{width:4em;min-width:3.5em;flex:1;text-align:center;font:inherit;border:1px solid #0004;border-radius:6px;padding:4px}
.typing,.error{margin:0;padding:0 12px 6px;font-size:13px;color:var(--mu)}
.error{color:#b3261e}
[hidden]{display:none!important}
form{display:flex;gap:6px;padding:10px;border-top:1px solid #0001}
form input{flex:1;font:inherit;font-size:16px;padding:8px;border:1px solid #0004;border-radius:calc(var(--r)/2);min-width:0}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
@media (max-width:480px){
.root:not(.inline){right:12px;bottom:12px}
.root:not(.inline) .panel{position:fixed;inset:0;width:100vw;max-width:none;height:100dvh;max-height:none;border-radius:0}
}
@media (prefers-reduced-motion:no-preference){.msg{transition:opacity .15s}}
`;

const STATUS = {
  idle: 'offline', connecting: 'connecting', authenticating: 'connecting', connected: 'online',
  reconnecting: 'reconnecting', stopped: 'offline', destroyed: 'offline',
};

/** The image URL to show, or null: only `https:`, `http:` (relative URLs resolve against the server) and `data:image/`. */
export function safeImageUrl(url, base) {
  if (typeof url !== 'string') return null;
  const text = url.trim();
  if (/^data:image\//i.test(text)) return text;
  try {
    const resolved = new URL(text, base);
    // Plain http only as the server's own, for a URL with no scheme of its own.
    const relative = !/^[a-z][a-z0-9+.-]*:/i.test(text);
    return resolved.protocol === 'https:' || (relative && resolved.protocol === 'http:') ? resolved.href : null;
  } catch {
    return null;
  }
}

/** An element with attributes; children are nodes or text. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === true) el.setAttribute(name, '');
    else if (value !== false && value != null) el.setAttribute(name, String(value));
  }
  el.append(...children.filter((c) => c != null));
  return el;
}

/** The shadow root's styles, as a constructable stylesheet when the browser has them. */
function style(shadow) {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } catch {
    shadow.append(h('style', {}, CSS));
  }
}

/** A reply's Markdown blocks (from the core) as DOM nodes. */
export function renderBlocks(blocks) {
  const out = [];
  let list = null;
  for (const block of blocks) {
    const spans = block.spans.map((span) => {
      let node = document.createTextNode(span.text);
      // The core keeps a link only when it is http: or https:.
      if (span.link) node = h('a', { href: span.link, rel: 'noopener noreferrer', target: '_blank' }, node);
      if (span.italic) node = h('em', {}, node);
      if (span.bold) node = h('strong', {}, node);
      return node;
    });
    if (block.kind === 'paragraph') {
      list = null;
      out.push(h('p', {}, ...spans));
      continue;
    }
    const tag = block.kind === 'numbered' ? 'ol' : 'ul';
    if (list?.tagName.toLowerCase() !== tag) {
      list = h(tag, tag === 'ol' && block.number != null ? { start: block.number } : {});
      out.push(list);
    }
    list.append(h('li', {}, ...spans));
  }
  return out;
}

/** Renders the UI and returns its handle for the widget. */
export function createUI(host) {
  const { widget, markdown, imageBase } = host;
  let lang = widget.language;
  let text = host.strings(lang);
  const t = (key) => text[key] ?? key;
  const label = (el, key, attr) => { el.setAttribute(attr ? 'data-l' : 'data-t', key); return el; };
  // One formatter per language: making one costs more than the card it formats.
  let prices;
  const money = (n) => (prices ??= new Intl.NumberFormat(lang, { style: 'currency', currency: host.currency ?? 'UAH' })).format(n);
  const unit = (u) => text[`unit_${u}`] ?? u;

  /** In an element of the page (else floating); `place` moves it. */
  let inline = false;
  let shown = false;
  const hostEl = h('div', { class: 'vizochok-widget' });
  const shadow = hostEl.attachShadow({ mode: 'open' });
  style(shadow);

  const badge = h('span', { class: 'badge', 'aria-hidden': 'true' });
  // The launcher's name is its visible title, plus the unread count for screen readers.
  const unreadText = h('span', { class: 'sr' });
  const launcher = h('button', { class: 'launcher', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'vz-panel' },
    label(h('span'), 'title'), badge, unreadText);
  const status = h('span', { class: 'status' });
  const newChat = label(h('button', { type: 'button', class: 'new' }), 'new_chat');
  const close = label(h('button', { type: 'button', class: 'close' }, '×'), 'close', true);
  // Silent, for it streams word by word: finished replies are announced once,
  // as text, in `announce`; errors by their own role=alert.
  const log = h('div', { class: 'log', role: 'log', 'aria-live': 'off', tabindex: '0', 'aria-labelledby': 'vz-title' });
  const announce = h('p', { class: 'sr', 'aria-live': 'polite' });
  const starters = h('div', { class: 'chips starters', role: 'group' });
  const typing = label(h('p', { class: 'typing', hidden: true }), 'typing');
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const input = label(h('input', { type: 'text', autocomplete: 'off', enterkeyhint: 'send' }), 'placeholder', true);
  const stop = label(h('button', { type: 'button', class: 'stop', hidden: true }), 'stop');
  const send = label(h('button', { type: 'submit' }), 'send');
  const form = h('form', {}, input, stop, send);
  const panel = h('section', { id: 'vz-panel', class: 'panel', 'aria-labelledby': 'vz-title' },
    h('header', {}, h('div', { class: 'head' }, label(h('h2', { id: 'vz-title' }), 'title'), status), newChat, close),
    log, announce, typing, error, form);
  const root = h('div', { class: 'root' }, panel, launcher);
  shadow.append(root);

  let state = widget.state;
  let unread = 0;
  let chips = null;
  /** Assistant bubbles by the message they answer (`reply_to`), while they stream. */
  const bubbles = new Map();
  /** The shopper's messages by action id: a history that comes while they wait keeps them. */
  const mine = new Map();

  function relabel() {
    for (const el of shadow.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
    for (const el of shadow.querySelectorAll('[data-l]')) el.setAttribute('aria-label', t(el.dataset.l));
    input.placeholder = t('placeholder');
    status.textContent = t(STATUS[state] ?? 'offline');
    badge.textContent = unread ? String(unread) : '';
    unreadText.textContent = unread ? ` (${unread} ${t('unread')})` : '';
    starters.setAttribute('aria-label', t('starters'));
  }

  function chipRow(texts, cls) {
    const row = h('div', { class: `chips ${cls}`, role: 'group' });
    row.setAttribute('aria-label', t(cls));
    for (const value of texts) {
      const chip = h('button', { type: 'button' }, value);
      chip.addEventListener('click', () => submit(value));
      row.append(chip);
    }
    return row;
  }

  function showStarters() {
    const empty = !log.querySelector('.msg');
    starters.replaceChildren(...(empty ? chipRow(host.starters, 'starters').childNodes : []));
    starters.hidden = !empty || host.starters.length === 0;
    if (!starters.isConnected) log.prepend(starters);
  }

  function bubble(role, content) {
    const body = h('div', { class: 'body' });
    if (typeof content === 'string') body.append(h('span', { class: 'plain' }, content));
    else body.append(...content);
    const el = h('div', { class: `msg ${role}` }, label(h('span', { class: 'sr' }), role === 'user' ? 'you' : 'assistant'), body);
    log.append(el);
    starters.hidden = true;
    log.scrollTop = log.scrollHeight;
    return el;
  }

  function card(product) {
    const step = product.quantity_step > 0 ? product.quantity_step : 1;
    const digits = (String(step).split('.')[1] ?? '').length;
    let steps = 1;
    const src = safeImageUrl(product.image_url, imageBase);
    const img = src ? h('img', { src, alt: '', loading: 'lazy', decoding: 'async' }) : h('div', { class: 'noimg' });
    const price = h('p', { class: 'price' });
    const unitEl = h('span', { class: 'unit' });
    // Again when the language changes: prices and units are the shopper's.
    const localize = () => {
      const per = ` / ${unit(product.unit)}`;
      if (product.promo_price != null) {
        price.replaceChildren(h('del', {}, money(product.price)), h('strong', {}, money(product.promo_price)), per);
      } else {
        price.replaceChildren(money(product.price), per);
      }
      unitEl.textContent = unit(product.unit);
    };
    localize();
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
      if (widget.selectProduct(product, Number((steps * step).toFixed(digits))) !== null) label(add, 'added').textContent = t('added');
    });
    const stepper = label(h('div', { class: 'stepper', role: 'group' }, dec, qty, unitEl, inc), 'quantity', true);
    const brand = product.brand ? h('p', { class: 'brand' }, product.brand) : null;
    const el = h('article', { class: 'card' }, img, h('div', { class: 'info' }, h('h3', {}, product.name), brand, price, h('div', { class: 'buy' }, stepper, add)));
    el.setAttribute('aria-label', product.name);
    el.localize = localize;
    return el;
  }

  function cards(el, products) {
    if (products?.length) el.querySelector('.body').append(h('div', { class: 'cards' }, ...products.map(card)));
  }

  /** `given`: the shopper's rating of a restored reply, shown pressed. */
  function rating(el, messageId, given) {
    const thanks = label(h('span', { hidden: true }), 'thanks');
    // Words, not emoji: not every shopper's device has an emoji font.
    const button = (key, value) => {
      const b = label(h('button', { type: 'button', 'aria-pressed': `${value === given}`, disabled: !!given }), key);
      b.addEventListener('click', () => {
        if (widget.feedback(messageId, value) === null) return;
        b.setAttribute('aria-pressed', 'true');
        for (const other of row.querySelectorAll('button')) other.disabled = true;
        thanks.hidden = false;
      });
      return b;
    };
    const row = h('div', { class: 'rate' }, button('helpful', 'up'), button('not_helpful', 'down'), thanks);
    el.append(row);
  }

  function streamed(replyTo, more) {
    let el = bubbles.get(replyTo);
    if (!el) {
      el = bubble('assistant', '');
      bubbles.set(replyTo, el);
    }
    el.querySelector('.plain').textContent += more;
    typing.hidden = true;
    stop.hidden = false;
    log.scrollTop = log.scrollHeight;
  }

  function finished(reply) {
    let el = bubbles.get(reply.reply_to);
    bubbles.delete(reply.reply_to);
    idle();
    // Stopped before its first word: nothing to show or rate.
    if (!el && !reply.text && !reply.products.length) return;
    const blocks = renderBlocks(reply.blocks);
    if (el) el.querySelector('.body').replaceChildren(...blocks);
    else el = bubble('assistant', blocks);
    cards(el, reply.products);
    rating(el, reply.message_id);
    chips?.remove();
    chips = reply.suggestions.length ? chipRow(reply.suggestions, 'suggestions') : null;
    if (chips) log.append(chips);
    // What the shopper sees, not the Markdown: each paragraph or list item's text.
    announce.textContent = reply.blocks.map((b) => b.spans.map((s) => s.text).join('')).join('\n');
    relabel();
    log.scrollTop = log.scrollHeight;
  }

  function submit(value) {
    if (!value.trim()) return;
    error.hidden = true;
    if (widget.sendMessage(value) !== null) input.value = '';
  }

  /** No turn of the shopper's is running: no typing line, no Stop. */
  function idle() {
    typing.hidden = stop.hidden = true;
  }

  /** What had focus on the page when the chat opened, to give it back. */
  let opener = null;
  function setOpen(open) {
    // Focus moves only when it is the chat's: a page that closes the chat
    // while the shopper types elsewhere keeps the shopper where they are.
    const ours = shadow.activeElement !== null;
    if (open && !shown) opener = ours ? null : document.activeElement;
    shown = open;
    panel.hidden = !open && !inline;
    launcher.setAttribute('aria-expanded', String(open));
    if (open) input.focus();
    else if (ours) {
      (opener?.isConnected ? opener : launcher.hidden ? null : launcher)?.focus();
      opener = null;
    }
  }

  launcher.addEventListener('click', () => host.onToggle(panel.hidden));
  close.addEventListener('click', () => host.onToggle(false));
  panel.addEventListener('keydown', (e) => { if (e.key === 'Escape' && !inline) host.onToggle(false); });
  newChat.addEventListener('click', () => widget.reset());
  stop.addEventListener('click', () => widget.stop());
  form.addEventListener('submit', (e) => { e.preventDefault(); submit(input.value); });

  const handlers = {
    sent: ({ id, text: value }) => { chips?.remove(); chips = null; mine.set(id, value); bubble('user', value); },
    user_message: ({ text: value }) => bubble('user', value),
    language: (value) => {
      lang = value;
      text = host.strings(lang);
      prices = null;
      for (const el of log.querySelectorAll('.card')) el.localize();
      relabel();
    },
    unread: (count) => { unread = count; relabel(); },
    state: (value) => { state = value; relabel(); },
    error: (e) => {
      error.textContent = e.message;
      error.hidden = false;
      // An error naming a message ends its turn; what streamed of the reply stays.
      if (e.reply_to) {
        bubbles.delete(e.reply_to);
        idle();
      }
    },
    connect: () => { error.hidden = true; },
    // A reply that streams on after the reconnect shows Stop again.
    disconnect: idle,
    typing: () => { typing.hidden = false; stop.hidden = false; },
    delta: (d) => streamed(d.reply_to, d.text),
    response: finished,
    history: ({ entries }) => {
      log.replaceChildren(starters);
      bubbles.clear();
      chips = null;
      idle();
      for (const entry of entries) {
        const el = bubble(entry.role, entry.role === 'user' ? entry.text : renderBlocks(markdown(entry.text)));
        cards(el, entry.products);
        if (entry.message_id) rating(el, entry.message_id, entry.rating);
      }
      // A message sent before a restored session's history came is not in it.
      const waiting = new Set(widget.pendingActions.map((a) => a.id));
      for (const [id, value] of mine) if (waiting.has(id)) bubble('user', value); else mine.delete(id);
      showStarters();
      relabel();
    },
  };

  showStarters();
  relabel();

  return {
    root: shadow,
    handle(name, data) { handlers[name]?.(data); },
    /**
     * Shows the UI in `element`, or floating (`null`), or takes it off the
     * page (`undefined`): the same UI, so the conversation stays on screen.
     */
    place(element) {
      if (element === undefined) return void hostEl.remove();
      inline = element !== null;
      root.classList.toggle('inline', inline);
      launcher.hidden = inline || !host.launcher;
      close.hidden = inline;
      panel.setAttribute('role', inline ? 'region' : 'dialog');
      panel.hidden = !inline && !shown;
      const parent = element ?? document.body;
      if (hostEl.parentNode !== parent) parent.append(hostEl);
      log.scrollTop = log.scrollHeight;
    },
    open() { setOpen(true); },
    close() { setOpen(false); },
    prefill(value) { input.value = value; input.focus(); },
  };
}
