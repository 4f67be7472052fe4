// The demo store (bindings/wasm/demo, under the strict CSP) in real headless
// Chromium against the real sandbox, with the package as npm installs it.
// The page logs every callback to window.vizochokEvents.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  DEMO_CATALOG, OUTPUT, ask, axeViolations, configFile, demoSite, events, launch, openPage, startSandbox, waitEvent,
  waitReply,
} from './support.mjs';

const CANARY = 'pk_canary_7f3a_never_logged';
const shadow = (page, fn, arg) => page.evaluate(([f, a]) => new Function('root', 'arg', `return (${f})(root, arg)`)(
  document.querySelector('.vizochok-widget').shadowRoot, a), [fn.toString(), arg]);

let browser;
let root;
before(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  browser = await launch();
  root = demoSite();
});
after(async () => {
  await browser?.close();
});

describe('the demo store on the sandbox', () => {
  let sandbox;
  before(async () => { sandbox = await startSandbox({ site: root }); });
  after(async () => { await sandbox?.stop(); });

  test('connects, streams a reply with cards, and Add syncs the store header', async () => {
    const page = await openPage(browser, `${sandbox.url}?persist=none`);
    await waitEvent(page, 'connect');
    assert.equal(await page.textContent('#assistant-status'), 'Assistant online');
    await page.locator('.launcher').waitFor();
    const launcher = await page.locator('.launcher').boundingBox();
    assert.ok(launcher.x + launcher.width > 1280 - 40 && launcher.y + launcher.height > 860 - 40, 'the launcher sits bottom right');

    await ask(page, 'milk');
    const response = await waitReply(page);
    const messages = (await events(page)).filter((e) => e.name === 'message').map((e) => e.data);
    const firstDelta = messages.findIndex((m) => m.type === 'delta');
    assert.ok(firstDelta >= 0 && firstDelta < messages.findIndex((m) => m.type === 'response'), 'the reply streamed in deltas first');
    assert.ok(response.products.length >= 2, 'the reply has product cards');
    const streamed = messages.filter((m) => m.type === 'delta').map((m) => m.text).join('');
    assert.equal(streamed, response.text, 'the deltas add up to the whole reply');

    // The cards render in the widget's shadow DOM, with the product's data as text.
    const cards = page.locator('.card');
    assert.equal(await cards.count(), response.products.length);
    const first = response.products[0];
    assert.equal(await cards.first().locator('h3').textContent(), first.name);
    assert.equal(await cards.first().locator('img').getAttribute('src'), `${sandbox.url}images/${first.sku}.svg`);
    await page.screenshot({ path: join(OUTPUT, 'demo-1280-chat.png') });

    // Add, with the stepper at two steps: onProductClick, then onCartChanged with the whole cart.
    await cards.first().locator('.inc').click();
    await cards.first().locator('.add').click();
    const [change] = await waitEvent(page, 'cart_changed');
    const names = (await events(page)).map((e) => e.name);
    assert.ok(names.indexOf('product_click') < names.indexOf('cart_changed'), names.join());
    const click = (await events(page)).find((e) => e.name === 'product_click').data;
    assert.deepEqual([click.sku, click.quantity], [first.sku, 2 * first.quantity_step]);
    assert.equal(change.data.action, 'item_selected');
    assert.deepEqual(change.data.items.map((i) => [i.sku, i.quantity]), [[first.sku, 2 * first.quantity_step]]);
    const unit = first.promo_price ?? first.price;
    assert.ok(Math.abs(change.data.total - unit * 2 * first.quantity_step) < 1e-9, `total ${change.data.total}`);
    assert.equal(await page.textContent('#cart-badge'), String(2 * first.quantity_step));
    assert.deepEqual(await page.problems(), []);
    await page.context().close();
  });

  test('the page steers the widget: open, close, ask, context, stop, feedback, Markdown', async () => {
    const page = await openPage(browser, `${sandbox.url}?persist=none`);
    await waitEvent(page, 'connect');
    const w = (fn, arg) => page.evaluate(([f, a]) => new Function('w', 'a', `return (${f})(w, a)`)(window.vizochokWidget, a), [fn.toString(), arg]);

    // open() and close(): the panel shows and hides, and each fires its callback.
    await w((widget) => widget.open());
    await waitEvent(page, 'open');
    await page.locator('.panel').waitFor({ state: 'visible' });
    assert.equal(await w((widget) => widget.isOpen), true);
    await w((widget) => widget.close());
    await waitEvent(page, 'close');
    await page.locator('.panel').waitFor({ state: 'hidden' });

    // ask('milk'): a reply with cards and suggestion chips; the product names in **bold**.
    assert.equal(typeof await w((widget) => widget.ask('milk')), 'string');
    const reply = await waitReply(page);
    assert.ok(reply.products.length > 0 && reply.suggestions.length > 0, JSON.stringify(reply));
    await page.locator('.chips.suggestions button').first().waitFor();
    assert.equal(await page.locator('.chips.suggestions button').count(), reply.suggestions.length);
    assert.ok(reply.text.includes(`**${reply.products[0].name}**`), reply.text);
    const bold = await page.locator('.assistant strong').allTextContents();
    assert.ok(bold.includes(reply.products[0].name), `bold: ${bold.join(' | ')}`);
    assert.ok(!(await page.locator('.assistant .body').last().textContent()).includes('**'), 'no raw Markdown shows');

    // setContext({ sku }) and ask('add this'): that product lands in the cart.
    const sku = 'DAI-018';
    assert.equal(typeof await w((widget, s) => widget.setContext({ sku: s, page: { url: 'http://127.0.0.1/p', title: 'Cheese' } }), sku), 'string');
    await w((widget) => widget.ask('add this'));
    const [change] = await waitEvent(page, 'cart_changed');
    assert.equal(change.data.sku, sku);
    assert.ok(change.data.items.some((i) => i.sku === sku));

    // feedback on the first reply is acknowledged.
    const feedbackId = await w((widget, id) => widget.feedback(id, 'up'), reply.message_id);
    await waitEvent(page, 'message', { where: (d) => d.type === 'ack' && d.id === feedbackId });

    // stop() on the first delta: the reply ends `cancelled`, and no delta comes after.
    await page.evaluate(() => {
      const widget = window.vizochokWidget;
      window.__stopAt = null;
      const before = window.vizochokEvents.length;
      const poll = () => {
        const delta = window.vizochokEvents.slice(before).find((e) => e.name === 'message' && e.data.type === 'delta');
        if (!delta) return void setTimeout(poll, 0);
        window.__stopAt = window.vizochokEvents.length;
        window.__stopped = widget.stop();
      };
      widget.ask('show me cheese');
      poll();
    });
    const cancelled = await waitEvent(page, 'message', { where: (d) => d.type === 'response' && d.cancelled });
    const { stopAt, stopped } = await page.evaluate(() => ({ stopAt: window.__stopAt, stopped: window.__stopped }));
    assert.equal(typeof stopped, 'string', 'stop() returned the cancel id');
    const after = (await events(page)).slice(stopAt);
    const messageId = cancelled[0].data.message_id;
    assert.deepEqual(after.filter((e) => e.name === 'message' && e.data.type === 'delta' && e.data.message_id === messageId), []);
    assert.equal(await w((widget) => widget.stop()), null, 'nothing streams any more');

    // stop() at once, before the first word: the reply ends `cancelled` and
    // empty, and the chat shows no empty bubble for it.
    const shown = await page.locator('.msg.assistant').count();
    assert.equal(typeof await w((widget) => { widget.ask('milk'); return widget.stop(); }), 'string');
    await waitEvent(page, 'message', { where: (d) => d.type === 'response' && d.cancelled && d.text === '' });
    assert.equal(await page.locator('.msg.assistant').count(), shown);
    assert.equal(await page.locator('.typing').isVisible(), false);
    assert.deepEqual(await page.problems(), []);
    await page.context().close();
  });

  test('keyboard only: open, type, send, Add, Escape', async () => {
    const page = await openPage(browser, `${sandbox.url}?persist=none`);
    await waitEvent(page, 'connect');
    await page.locator('.launcher').waitFor();
    await page.focus('.launcher');
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute('.launcher', 'aria-expanded'), 'true');
    assert.equal(await shadow(page, (r) => r.activeElement?.tagName), 'INPUT');
    await page.keyboard.type('bread');
    await page.keyboard.press('Enter');
    await waitReply(page);
    await page.locator('.card .add').first().focus();
    await page.keyboard.press('Enter');
    await waitEvent(page, 'cart_changed');
    assert.equal(await page.getAttribute('.log', 'role'), 'log');
    assert.equal(await page.getAttribute('.card', 'aria-label'), await page.locator('.card h3').first().textContent());
    assert.equal(await page.getAttribute('.card .inc', 'aria-label'), 'Increase quantity');
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('.panel').isHidden(), true);
    assert.equal(await shadow(page, (r) => r.activeElement?.className), 'launcher');
    await page.context().close();
  });

  test('"Ask about this" on a product: the assistant adds the product the shopper looks at', async () => {
    const page = await openPage(browser, `${sandbox.url}?persist=none`);
    await waitEvent(page, 'connect');
    await page.locator('#grid .product').nth(2).locator('.about').click();
    await page.locator('.panel').waitFor({ state: 'visible' });
    assert.equal(await page.inputValue('form input'), 'Add this');
    await page.press('form input', 'Enter');
    const [change] = await waitEvent(page, 'cart_changed');
    assert.equal(change.data.sku, 'DAI-018');
    assert.equal(await page.textContent('#cart-badge'), '0.1');
    // The header button opens the chat too.
    await page.keyboard.press('Escape');
    await page.click('#ask-assistant-btn');
    await page.locator('.panel').waitFor({ state: 'visible' });
    await page.context().close();
  });

  test('message_too_large and queue_full fire onError and the call returns null', async () => {
    const page = await openPage(browser, `${sandbox.url}?persist=none&lang=uk`);
    await waitEvent(page, 'connect');
    await ask(page, 'x'.repeat(2001));
    const [tooLarge] = await waitEvent(page, 'error');
    assert.equal(tooLarge.data.code, 'message_too_large');
    assert.equal(await page.locator('.error').textContent(), 'Повідомлення задовге.', 'shown, localized, in the chat');
    assert.equal(await page.inputValue('form input'), 'x'.repeat(2001), 'the text stays for editing');

    // Disconnected, actions queue; the 33rd is refused.
    const results = await page.evaluate(() => {
      const w = window.vizochokWidget;
      w.disconnect();
      const ids = [];
      for (let i = 0; i < 33; i++) ids.push(w.clearCart());
      return ids;
    });
    assert.equal(results.filter((id) => typeof id === 'string').length, 32);
    assert.equal(results[32], null);
    const [, queueFull] = await waitEvent(page, 'error', { count: 2 });
    assert.equal(queueFull.data.code, 'queue_full');
    // Connected again, the queue drains to the server.
    await page.evaluate(() => window.vizochokWidget.connect());
    await waitEvent(page, 'connect', { count: 2 });
    await waitEvent(page, 'message', { count: 32, where: (d) => d.type === 'ack' });
    assert.equal((await events(page)).filter((e) => e.name === 'error').length, 2, 'each refusal fired onError exactly once');
    await page.context().close();
  });

  test('reloading the page fires onSessionComplete with the cart and redraws the chat, whose replies can be rated once', async () => {
    const page = await openPage(browser, sandbox.url);
    await waitEvent(page, 'connect');
    await ask(page, 'cheese');
    const reply = await waitReply(page);
    await page.locator('.card .add').first().click();
    const [change] = await waitEvent(page, 'cart_changed');
    const sessionId = await page.evaluate(() => window.vizochokWidget.sessionId);
    const sent = [];
    page.on('websocket', (ws) => ws.on('framesent', ({ payload }) => sent.push(JSON.parse(payload))));
    await page.reload();
    // The page kept only the session id: it asks to be restored, not replayed.
    const [summary] = await waitEvent(page, 'session_complete');
    assert.equal(await page.evaluate(() => window.vizochokWidget.sessionId), sessionId);
    assert.deepEqual(summary.data.selected_items, change.data.items);
    assert.equal(summary.data.total, change.data.total);
    const [history] = await waitEvent(page, 'message', { where: (d) => d.type === 'history' });
    assert.deepEqual(history.data.entries.map((e) => e.message_id), [undefined, reply.message_id]);
    await page.click('.launcher');
    assert.equal(await page.locator('.user .plain').first().textContent(), 'cheese');
    assert.ok(await page.locator('.card').count() > 0, 'the earlier cards are back');
    // The restored reply is rated like a new one: the feedback names it.
    await page.locator('.rate button').first().click();
    const [ack] = await waitEvent(page, 'message', { where: (d) => d.type === 'ack' });
    const feedback = sent.find((f) => f.type === 'feedback');
    assert.deepEqual([feedback?.id, feedback?.message_id, feedback?.rating], [ack.data.id, reply.message_id, 'up']);
    assert.equal(await page.locator('.rate button').first().getAttribute('aria-pressed'), 'true');
    // Reloaded once more, the reply comes back rated: pressed, and not rated twice.
    await page.reload();
    const [again] = await waitEvent(page, 'message', { where: (d) => d.type === 'history' });
    assert.deepEqual(again.data.entries.map((e) => e.rating), [undefined, 'up']);
    await page.click('.launcher');
    const buttons = page.locator('.rate button');
    assert.deepEqual(await buttons.evaluateAll((all) => all.map((b) => [b.getAttribute('aria-pressed'), b.disabled])), [
      ['true', true],
      ['false', true],
    ]);
    await page.context().close();
  });

  test('a screen reader hears each finished reply once, as the text on screen, and an error once', async () => {
    const page = await openPage(browser, `${sandbox.url}?persist=none`);
    await waitEvent(page, 'connect');
    // The log streams word by word: it is silent, and the finished reply is announced instead.
    assert.equal(await page.getAttribute('.log', 'aria-live'), 'off');
    await ask(page, 'milk');
    const reply = await waitReply(page);
    assert.ok(reply.text.includes(`**${reply.products[0].name}**`), reply.text);
    const announce = page.locator('p[aria-live=polite]');
    const announced = await announce.textContent();
    const onScreen = await page.locator('.msg.assistant').last().locator('.body > p, .body li').allTextContents();
    assert.equal(announced, onScreen.join('\n'));
    assert.ok(announced.includes(reply.products[0].name) && !announced.includes('**'), announced);
    // An error is the alert's to announce, not the reply region's too.
    await ask(page, 'x'.repeat(2001));
    const [tooLarge] = await waitEvent(page, 'error');
    assert.equal(await page.getAttribute('.error', 'role'), 'alert');
    assert.equal(await page.locator('.error').textContent(), tooLarge.data.message);
    assert.equal(await announce.textContent(), announced);
    assert.deepEqual(await axeViolations(page), []);
    await page.context().close();
  });

  test('a phone-sized screen in Ukrainian: full-screen panel, usable controls, local units; axe finds nothing', async () => {
    const page = await openPage(browser, `${sandbox.url}?persist=none&lang=uk`, { mobile: true });
    await waitEvent(page, 'connect');
    assert.deepEqual(await axeViolations(page), [], 'the page with the launcher');
    await ask(page, 'сир');
    await waitReply(page);
    await page.locator('.card').first().waitFor();
    const panel = await page.locator('.panel').boundingBox();
    assert.deepEqual([panel.x, panel.y, panel.width, panel.height], [0, 0, 375, 812], 'the panel fills the screen');
    const layout = await shadow(page, (r) => {
      const box = (el) => el.getBoundingClientRect();
      const controls = [...r.querySelectorAll('.panel button, .panel input')].filter((el) => box(el).width > 0);
      return {
        overflow: r.querySelector('.log').scrollWidth - r.querySelector('.log').clientWidth,
        quantity: Math.min(...[...r.querySelectorAll('.stepper input')].map((el) => box(el).width)),
        smallest: Math.min(...controls.map((el) => box(el).height)),
        font: Math.min(...controls.map((el) => parseFloat(getComputedStyle(el).fontSize))),
        outside: controls.filter((el) => box(el).right > 375.5 || box(el).left < -0.5).length,
        units: [...r.querySelectorAll('.card .unit')].map((el) => el.textContent),
        prices: [...r.querySelectorAll('.card .price')].map((el) => el.textContent),
      };
    });
    assert.equal(layout.overflow, 0, 'nothing scrolls sideways');
    assert.ok(layout.quantity >= 40, `quantity field ${layout.quantity}px wide`);
    assert.ok(layout.smallest >= 24, `a control ${layout.smallest}px tall (WCAG 2.5.8 asks for 24)`);
    assert.ok(layout.font >= 13, `a control's text at ${layout.font}px`);
    assert.equal(layout.outside, 0, 'every control is on screen');
    assert.ok(layout.units.length > 0 && layout.units.every((u) => u === 'шт' || u === 'кг' || u === 'л'), layout.units.join());
    assert.ok(layout.prices.every((p) => p.includes('₴') || p.includes('грн')), layout.prices.join());
    await page.screenshot({ path: join(OUTPUT, 'demo-375-uk.png') });
    assert.deepEqual(await axeViolations(page), [], 'the open chat with cards');

    // Switched to English, the cards already shown speak it too.
    await page.evaluate(() => window.vizochokWidget.setLanguage('en'));
    const english = await shadow(page, (r) => ({
      units: [...r.querySelectorAll('.card .unit')].map((el) => el.textContent),
      prices: [...r.querySelectorAll('.card .price')].map((el) => el.textContent),
      add: r.querySelector('.card .add').textContent,
    }));
    assert.ok(english.units.every((u) => u === 'pcs' || u === 'kg' || u === 'l'), english.units.join());
    assert.ok(english.prices.every((p) => p.includes('UAH') && / \/ (pcs|kg|l)$/.test(p)), english.prices.join());
    assert.equal(english.add, 'Add');
    await page.context().close();
  });

  test('a wide screen: axe finds nothing with the chat open', async () => {
    const page = await openPage(browser, `${sandbox.url}?persist=none`);
    await waitEvent(page, 'connect');
    await ask(page, 'milk');
    await waitReply(page);
    await page.locator('.chips.suggestions button').first().waitFor();
    await page.screenshot({ path: join(OUTPUT, 'demo-1280.png') });
    assert.deepEqual(await axeViolations(page), []);
    await page.context().close();
  });
});

describe('three tabs of the store share one conversation', () => {
  let sandbox;
  before(async () => { sandbox = await startSandbox({ site: root }); });
  after(async () => { await sandbox?.stop(); });

  test('they stay connected for a minute, and a cart change in any shows in all within a second', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const first = await openPage(browser, sandbox.url, { context });
    await waitEvent(first, 'connect');
    await first.waitForFunction(() => window.vizochokWidget.sessionId !== null);
    const tabs = [first, await openPage(browser, sandbox.url, { context }), await openPage(browser, sandbox.url, { context })];
    for (const tab of tabs) await waitEvent(tab, 'connect');
    const ids = await Promise.all(tabs.map((t) => t.evaluate(() => window.vizochokWidget.sessionId)));
    assert.equal(new Set(ids).size, 1, 'one session');
    const started = Date.now();

    const products = [
      { sku: 'DAI-001', name: 'Halychyna milk 2.5% 870 g', price: 44.9, unit: 'pcs', quantity_step: 1 },
      { sku: 'BAK-013', name: 'French baguette 250 g', price: 31, unit: 'pcs', quantity_step: 1 },
      { sku: 'DAI-023', name: 'Yagotynske butter 82% 180 g', price: 109.9, unit: 'pcs', quantity_step: 1 },
    ];
    for (const [i, product] of products.entries()) {
      const from = tabs[i];
      const sent = await from.evaluate((p) => { window.__sentAt = performance.now(); return window.vizochokWidget.selectProduct(p); }, product);
      assert.equal(typeof sent, 'string');
      for (const tab of tabs) {
        const [change] = (await waitEvent(tab, 'cart_changed', { count: i + 1 })).slice(i);
        assert.equal(change.data.sku, product.sku);
        assert.equal(change.data.items.length, i + 1, 'the whole cart');
      }
      // performance.now() is per page; time the sync from the sender's clock to the others' callbacks via wall time.
      const lags = await Promise.all(tabs.map((t) => t.evaluate((n) => {
        const change = window.vizochokEvents.filter((e) => e.name === 'cart_changed')[n];
        return performance.timeOrigin + change.at;
      }, i)));
      const sentAt = await from.evaluate(() => performance.timeOrigin + window.__sentAt);
      for (const at of lags) assert.ok(at - sentAt < 1000, `synced ${Math.round(at - sentAt)} ms after the click`);
    }
    // The tabs chat too: a message from one shows in the others.
    await tabs[1].evaluate(() => window.vizochokWidget.sendMessage('bread'));
    await waitEvent(tabs[2], 'message', { where: (d) => d.type === 'user_message' && d.text === 'bread' });
    await waitReply(tabs[0]);

    // A minute in all: no tab drops its connection (a reconnect would log disconnect, then connect).
    const dropped = tabs.map((tab) => tab
      .waitForFunction(() => window.vizochokEvents.some((e) => e.name === 'disconnect'), null, { timeout: Math.max(1, 60_000 - (Date.now() - started)) })
      .then(() => true, () => false));
    assert.deepEqual(await Promise.all(dropped), [false, false, false], 'a tab lost its connection');
    for (const tab of tabs) assert.equal((await events(tab)).filter((e) => e.name === 'connect').length, 1);
    await context.close();
  });
});

test('a cut connection fires onDisconnect, then the widget reconnects and fires onConnect', async () => {
  const state = mkdtempSync(join(tmpdir(), 'vizochok-e2e-state-'));
  let sandbox = await startSandbox({ site: root, state });
  try {
    const page = await openPage(browser, `${sandbox.url}?persist=none`);
    await waitEvent(page, 'connect');
    await sandbox.stop('SIGKILL'); // a crash: no close frame
    await waitEvent(page, 'disconnect');
    assert.equal(await page.textContent('#assistant-status'), 'Assistant offline');
    sandbox = await startSandbox({ site: root, port: sandbox.port, state });
    await waitEvent(page, 'connect', { count: 2, timeout: 40_000 });
    assert.equal(await page.textContent('#assistant-status'), 'Assistant online');
    const states = (await events(page)).filter((e) => e.name === 'state').map((e) => e.data);
    assert.ok(states.includes('reconnecting'), states.join());
    await page.context().close();
  } finally {
    await sandbox.stop();
  }
});

test('a bad api key fires onError(auth_error) once, never reconnects, and is never logged', async () => {
  const sandbox = await startSandbox({ site: root });
  try {
    const page = await openPage(browser, `${sandbox.url}?persist=none&key=${CANARY}`);
    const [error] = await waitEvent(page, 'error');
    assert.equal(error.data.code, 'auth_error');
    await page.waitForFunction(() => window.vizochokWidget.state === 'stopped');
    // No second attempt within several backoff periods (the first retry would come within 1 s).
    const retried = await page
      .waitForFunction(() => window.vizochokEvents.filter((e) => e.name === 'state' && e.data === 'connecting').length > 1, null, { timeout: 3_000 })
      .then(() => true, () => false);
    assert.equal(retried, false, 'no reconnect after auth_error');
    const all = await events(page);
    assert.equal(all.filter((e) => e.name === 'error').length, 1);
    assert.equal(all.filter((e) => e.name === 'connect').length, 0);
    const seen = JSON.stringify(all) + page.consoleLines.join('\n') + (await page.evaluate(() => JSON.stringify(window.vizochokWidget)));
    assert.ok(!seen.includes(CANARY), 'the api key leaked');
    assert.ok(!sandbox.log.join('\n').includes(CANARY), 'the sandbox logged the key');
    await page.context().close();
  } finally {
    await sandbox.stop();
  }
});

test('a frame past the 1 MiB limit fires onError(ws_error), and the connection and the reply go on', async () => {
  const sandbox = await startSandbox({ site: root, args: ['--oversized-every', '3'] });
  try {
    const page = await openPage(browser, `${sandbox.url}?persist=none`);
    await waitEvent(page, 'connect');
    await ask(page, 'cheese');
    const reply = await waitReply(page);
    assert.ok(reply.products.length > 0, 'the reply came whole');
    const all = await events(page);
    const errors = all.filter((e) => e.name === 'error').map((e) => e.data);
    assert.ok(errors.length > 0 && errors.every((e) => e.code === 'ws_error'), JSON.stringify(errors));
    assert.equal(errors[0].detail, 'frame of 1048577 bytes exceeds the 1048576-byte limit');
    assert.deepEqual(['connect', 'disconnect'].map((name) => all.filter((e) => e.name === name).length), [1, 0]);
    await page.context().close();
  } finally {
    await sandbox.stop();
  }
});

test('hostile catalog names, Markdown links and image URLs render inert', async () => {
  const hostile = [
    {
      sku: 'EVIL-1', name: '<img src=x onerror="window.__pwned=1">Milk', name_en: '<img src=x onerror="window.__pwned=1">Milk',
      brand: '<script>window.__pwned=2</script>', category: 'dairy', unit: 'pcs', quantity_step: 1, price: 10, promo_price: null,
      image_url: 'javascript:window.__pwned=3', keywords: ['milk'],
    },
    {
      sku: 'EVIL-2', name: '[Pay here](javascript:window.__pwned=4) Milk 2', name_en: '[Pay here](javascript:window.__pwned=4) Milk 2',
      brand: null, category: 'dairy', unit: 'pcs', quantity_step: 1, price: 11, promo_price: null,
      image_url: ' JaVaScRiPt:window.__pwned=5', keywords: ['milk'],
    },
    {
      sku: 'OK-3', name: 'Milk 3', name_en: 'Milk 3', brand: null, category: 'dairy', unit: 'pcs', quantity_step: 1, price: 12,
      promo_price: null, image_url: 'data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22/%3E', keywords: ['milk'],
    },
  ];
  const config = configFile(
    { stores: [
      { store_id: 'demo-store', api_keys: ['pk_demo'], catalog: 'hostile.json' },
      { store_id: 'spare', api_keys: ['pk_spare'], catalog: DEMO_CATALOG },
    ] },
    { 'hostile.json': hostile },
  );
  const sandbox = await startSandbox({ site: root, config });
  try {
    const page = await openPage(browser, `${sandbox.url}?persist=none`);
    await waitEvent(page, 'connect');
    await ask(page, 'milk');
    const reply = await waitReply(page);
    assert.ok(reply.text.includes('javascript:'), 'the reply carries the hostile link');
    const cards = page.locator('.card');
    assert.equal(await cards.count(), 3);
    assert.equal(await cards.nth(0).locator('h3').textContent(), hostile[0].name_en, 'the name shows as text');
    assert.equal(await cards.nth(0).locator('.brand').textContent(), hostile[0].brand);
    assert.equal(await cards.nth(1).locator('h3').textContent(), hostile[1].name_en);
    assert.equal(await cards.nth(0).locator('img').count(), 0, 'no image for a javascript: URL');
    assert.equal(await cards.nth(1).locator('img').count(), 0);
    assert.match(await cards.nth(2).locator('img').getAttribute('src'), /^data:image\/svg\+xml,/);
    await cards.nth(1).locator('h3').hover();
    const injected = await shadow(page, (r) => ({
      pwned: window.__pwned ?? null,
      scripts: r.querySelectorAll('script').length,
      handlers: [...r.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
      links: [...r.querySelectorAll('.log a')].map((a) => a.getAttribute('href')),
      shown: [...r.querySelectorAll('.assistant strong')].map((el) => el.textContent).some((t) => t.includes('Pay here')),
    }));
    assert.deepEqual(injected, { pwned: null, scripts: 0, handlers: 0, links: [], shown: true });
    await page.screenshot({ path: join(OUTPUT, 'hostile-catalog.png') });
    await page.context().close();
  } finally {
    await sandbox.stop();
  }
});
