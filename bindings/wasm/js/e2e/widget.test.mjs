// The browser package in real headless Chromium against the real sandbox:
// the demo store page (bindings/wasm/demo) wires the widget as the seed's
// patterns show and logs every callback to window.vizochokEvents.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { OUTPUT, ask, configFile, events, launch, openPage, startSandbox, waitEvent } from './support.mjs';

const DEMO_CATALOG = new URL('../../../../crates/vizochok-sandbox/data/demo-store.json', import.meta.url).pathname;
const CANARY = 'pk_canary_7f3a_never_logged';

let browser;
before(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

describe('the demo store on the sandbox', () => {
  let sandbox;
  before(async () => { sandbox = await startSandbox(); });
  after(async () => { await sandbox?.stop(); });

  test('connects, streams a reply with cards, and Add syncs the store header', async () => {
    const page = await openPage(browser, `${sandbox.url}?persist=none`);
    await waitEvent(page, 'connect');
    assert.equal(await page.textContent('#assistant-status'), 'Assistant online');
    await page.waitForFunction(() => window.vizochokEvents.some((e) => e.name === 'ui_ready'));
    await page.screenshot({ path: join(OUTPUT, 'demo-store.png') });

    await ask(page, 'milk');
    await waitEvent(page, 'message', { where: "d.type === 'response'" });
    const messages = (await events(page)).filter((e) => e.name === 'message').map((e) => e.data);
    const firstDelta = messages.findIndex((m) => m.type === 'delta');
    const response = messages.find((m) => m.type === 'response');
    assert.ok(firstDelta >= 0 && firstDelta < messages.indexOf(response), 'the reply streamed in deltas before the response');
    assert.ok(response.products.length >= 2, 'the reply has product cards');
    const streamed = messages.filter((m) => m.type === 'delta').map((m) => m.text).join('');
    assert.equal(streamed, response.text, 'the deltas add up to the whole reply');

    // The cards render in the widget's shadow DOM, with the product's data as text.
    const cards = page.locator('.card');
    assert.equal(await cards.count(), response.products.length);
    const first = response.products[0];
    assert.equal(await cards.first().locator('h3').textContent(), first.name);
    assert.equal(await cards.first().locator('img').getAttribute('src'), `${sandbox.url}images/${first.sku}.svg`);
    assert.equal(await page.locator('.assistant .text').last().textContent(), response.text);
    await page.screenshot({ path: join(OUTPUT, 'chat-open.png') });

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
    assert.equal(await page.textContent('#cart-total'), `${change.data.total.toFixed(2)} ₴`);
    assert.equal(await page.locator('.launcher .badge').textContent(), '1', 'the launcher badge counts cart lines');
    await page.screenshot({ path: join(OUTPUT, 'chat-added.png') });
    await page.context().close();
  });

  test('keyboard only: open, type, send, Add, Escape', async () => {
    const page = await openPage(browser, `${sandbox.url}?persist=none`);
    await waitEvent(page, 'ui_ready');
    await waitEvent(page, 'connect');
    await page.focus('.launcher');
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute('.launcher', 'aria-expanded'), 'true');
    assert.equal(await page.evaluate(() => document.querySelector('.vizochok-widget').shadowRoot.activeElement?.tagName), 'INPUT');
    await page.keyboard.type('bread');
    await page.keyboard.press('Enter');
    await waitEvent(page, 'message', { where: "d.type === 'response'" });
    await page.locator('.card .add').first().focus();
    await page.keyboard.press('Enter');
    await waitEvent(page, 'cart_changed');
    // Screen-reader names: the log is a live region, cards are labelled, buttons have names.
    assert.equal(await page.getAttribute('.log', 'role'), 'log');
    assert.equal(await page.getAttribute('.card', 'aria-label'), await page.locator('.card h3').first().textContent());
    assert.equal(await page.getAttribute('.card .inc', 'aria-label'), 'Increase quantity');
    assert.match(await page.getAttribute('.launcher', 'aria-label'), /Cart: 1/);
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('.panel').isHidden(), true);
    assert.equal(await page.evaluate(() => document.querySelector('.vizochok-widget').shadowRoot.activeElement?.className), 'launcher');
    await page.context().close();
  });

  test('message_too_large and queue_full fire onError and the call returns null', async () => {
    const page = await openPage(browser, `${sandbox.url}?persist=none&lang=uk`);
    await waitEvent(page, 'ui_ready');
    await waitEvent(page, 'connect');
    await ask(page, 'x'.repeat(2001));
    const [tooLarge] = await waitEvent(page, 'error');
    assert.equal(tooLarge.data.code, 'message_too_large');
    assert.equal(await page.locator('.error').textContent(), 'Повідомлення задовге.', 'shown, localized, in the chat');
    assert.equal(await page.inputValue('form input'), 'x'.repeat(2001), 'the text stays for editing');

    // Offline, actions queue; the 33rd is refused.
    const results = await page.evaluate(() => {
      const w = window.vizochokWidget;
      w.unmount();
      const ids = [];
      for (let i = 0; i < 33; i++) ids.push(w.clearCart());
      return ids;
    });
    assert.equal(results.filter((id) => typeof id === 'string').length, 32);
    assert.equal(results[32], null);
    const [, queueFull] = await waitEvent(page, 'error', { count: 2 });
    assert.equal(queueFull.data.code, 'queue_full');
    // Mounted again, the queue drains to the server.
    await page.evaluate(() => window.vizochokWidget.mount());
    await waitEvent(page, 'connect', { count: 2 });
    await waitEvent(page, 'message', { count: 32, where: "d.type === 'ack'" });
    assert.equal((await events(page)).filter((e) => e.name === 'error').length, 2, 'each refusal fired onError exactly once');
    await page.context().close();
  });

  test('reloading the page fires onSessionComplete with the cart and redraws the chat', async () => {
    const page = await openPage(browser, sandbox.url);
    await waitEvent(page, 'connect');
    await ask(page, 'cheese');
    await waitEvent(page, 'message', { where: "d.type === 'response'" });
    await page.locator('.card .add').first().click();
    const [change] = await waitEvent(page, 'cart_changed');
    const sessionId = await page.evaluate(() => window.vizochokWidget.sessionId);
    await page.reload();
    // The page kept only the session id: it asks to be restored, not replayed.
    const [summary] = await waitEvent(page, 'session_complete');
    assert.equal(await page.evaluate(() => window.vizochokWidget.sessionId), sessionId);
    assert.deepEqual(summary.data.selected_items, change.data.items);
    assert.equal(summary.data.total, change.data.total);
    assert.equal(await page.textContent('#cart-total'), `${change.data.total.toFixed(2)} ₴`);
    await waitEvent(page, 'message', { where: "d.type === 'history'" });
    // The history redraws the whole conversation, the shopper's lines too.
    await waitEvent(page, 'ui_ready');
    await page.click('.launcher');
    assert.equal(await page.locator('.user .text').first().textContent(), 'cheese');
    assert.ok(await page.locator('.card').count() > 0, 'the earlier cards are back');
    await page.context().close();
  });
});

test('a cut connection fires onDisconnect, then the widget reconnects and fires onConnect', async () => {
  const state = mkdtempSync(join(tmpdir(), 'vizochok-e2e-state-'));
  let sandbox = await startSandbox({ state });
  try {
    const page = await openPage(browser, `${sandbox.url}?persist=none`);
    await waitEvent(page, 'connect');
    await sandbox.stop('SIGKILL'); // a crash: no close frame
    await waitEvent(page, 'disconnect');
    assert.equal(await page.textContent('#assistant-status'), 'Assistant offline');
    sandbox = await startSandbox({ port: sandbox.port, state });
    await waitEvent(page, 'connect', { count: 2, timeout: 30_000 });
    assert.equal(await page.textContent('#assistant-status'), 'Assistant online');
    const states = (await events(page)).filter((e) => e.name === 'state').map((e) => e.data);
    assert.ok(states.includes('reconnecting'), states.join());
    await page.context().close();
  } finally {
    await sandbox.stop();
  }
});

test('a bad api key fires onError(auth_error) once, never reconnects, and is never logged', async () => {
  const sandbox = await startSandbox();
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
    assert.equal(sandbox.log.filter((l) => l.includes('"auth_error"') || l.includes('auth_failed') || l.includes('invalid_api_key')).length >= 1, true, sandbox.log.join('\n'));
    assert.ok(!sandbox.log.join('\n').includes(CANARY), 'the sandbox logged the key');
    await page.context().close();
  } finally {
    await sandbox.stop();
  }
});

test('hostile catalog names and javascript: image URLs render inert', async () => {
  const hostile = [
    {
      sku: 'EVIL-1', name: '<img src=x onerror="window.__pwned=1">Milk', name_en: '<img src=x onerror="window.__pwned=1">Milk',
      brand: '<script>window.__pwned=2</script>', category: 'dairy', unit: 'pcs', quantity_step: 1, price: 10, promo_price: null,
      image_url: 'javascript:window.__pwned=3', keywords: ['milk'],
    },
    {
      sku: 'EVIL-2', name: '<b onmouseover="window.__pwned=4">Milk 2</b>', name_en: '<b onmouseover="window.__pwned=4">Milk 2</b>',
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
  const sandbox = await startSandbox({ config });
  try {
    const page = await openPage(browser, `${sandbox.url}?persist=none`);
    await waitEvent(page, 'connect');
    await ask(page, 'milk');
    await waitEvent(page, 'message', { where: "d.type === 'response'" });
    const cards = page.locator('.card');
    assert.equal(await cards.count(), 3);
    assert.equal(await cards.nth(0).locator('h3').textContent(), hostile[0].name_en, 'the name shows as text');
    assert.equal(await cards.nth(0).locator('.brand').textContent(), hostile[0].brand);
    assert.equal(await cards.nth(1).locator('h3').textContent(), hostile[1].name_en);
    assert.equal(await cards.nth(0).locator('img').count(), 0, 'no image for a javascript: URL');
    assert.equal(await cards.nth(1).locator('img').count(), 0);
    assert.match(await cards.nth(2).locator('img').getAttribute('src'), /^data:image\/svg\+xml,/);
    await cards.nth(1).locator('h3').hover();
    const injected = await page.evaluate(() => {
      const root = document.querySelector('.vizochok-widget').shadowRoot;
      return {
        pwned: window.__pwned ?? null,
        scripts: root.querySelectorAll('script').length,
        handlers: [...root.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
        bold: root.querySelectorAll('.log b').length,
      };
    });
    assert.deepEqual(injected, { pwned: null, scripts: 0, handlers: 0, bold: 0 });
    await page.screenshot({ path: join(OUTPUT, 'hostile-catalog.png') });
    await page.context().close();
  } finally {
    await sandbox.stop();
  }
});
