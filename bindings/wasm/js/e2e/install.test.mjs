// The package installed the ways a store installs it, in Chromium against the
// sandbox, under the strict CSP: the script tag with the seed's snippet as
// pasted, the ES module in a plain page, and apps built by real bundlers
// from the packed tarball.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  DEMO_CATALOG, OUTPUT, PAGES, STRICT_CSP, TARBALL, configFile, freePort, launch, openPage, site, startSandbox, waitEvent, waitReply,
} from './support.mjs';

/** The seed snippet's store and key, known to the sandbox. */
const SEED_STORE = configFile({ stores: [{ store_id: 'your-store', api_keys: ['pk_your_key'], catalog: DEMO_CATALOG }] });
const APPS = new URL('./apps/', import.meta.url).pathname;
const TOOLS = process.env.VIZOCHOK_BUNDLERS;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** A page of `pages/<name>/` with the placeholders filled in. */
function pageSite(name, server) {
  const files = {};
  for (const file of ['index.html', 'app.js', 'snippet.js']) {
    let text;
    try { text = readFileSync(join(PAGES, name, file), 'utf8'); } catch { continue; }
    files[file] = text.replaceAll('{{CSP}}', STRICT_CSP).replaceAll('{{SERVER}}', server);
  }
  return site({ files });
}

const shadowCount = (page) => page.evaluate(() => document.querySelectorAll('.vizochok-widget').length);

test('a script tag and the seed snippet, pasted as documented: it connects and shows the launcher', async () => {
  const port = await freePort();
  const sandbox = await startSandbox({ port, site: pageSite('script-tag', `ws://127.0.0.1:${port}/v1/ws`), config: SEED_STORE });
  try {
    const page = await openPage(browser, sandbox.url);
    await page.waitForFunction(() => typeof widget !== 'undefined' && widget.state === 'connected');
    assert.equal(await page.evaluate(() => typeof window.VIZOCHOKWidget), 'function');
    const launcher = page.locator('.launcher');
    await launcher.waitFor();
    const box = await launcher.boundingBox();
    assert.ok(box.x + box.width > 1280 - 40 && box.y + box.height > 860 - 40, `the launcher sits bottom right: ${JSON.stringify(box)}`);
    await launcher.click();
    await page.fill('form input', 'milk');
    await page.press('form input', 'Enter');
    await page.locator('.card').first().waitFor();
    await page.screenshot({ path: join(OUTPUT, 'script-tag.png') });
    assert.deepEqual(await page.problems(), [], 'no error, warning or CSP violation');
    await page.context().close();
  } finally {
    await sandbox.stop();
  }
});

describe('the ES module in a plain page, under the strict CSP', () => {
  let sandbox;
  before(async () => { sandbox = await startSandbox({ site: pageSite('module', ''), config: SEED_STORE }); });
  after(async () => { await sandbox?.stop(); });
  /** The page with the seed's widget connected. */
  const seedPage = async () => {
    const page = await openPage(browser, sandbox.url);
    await page.waitForFunction(() => window.widget?.state === 'connected');
    return page;
  };

  test('the connection status pattern of the seed works as written', async () => {
    const page = await openPage(browser, sandbox.url);
    await page.waitForFunction(() => document.getElementById('assistant-status').textContent === 'Assistant online');
    assert.equal(await page.getAttribute('#assistant-status', 'class'), 'status-online');
    await page.locator('.launcher').waitFor();
    assert.deepEqual(await page.problems(), []);
    await page.context().close();
  });

  test('ui: false is headless; mount(element) places the chat inside the element', async () => {
    const page = await seedPage();
    const headless = await page.evaluate(async () => {
      window.widget.destroy();
      const w = window.seedWidget({ ui: false });
      await w.ready;
      await new Promise((resolve) => { const poll = () => (w.state === 'connected' ? resolve() : setTimeout(poll, 10)); poll(); });
      const result = { state: w.state, widgets: document.querySelectorAll('.vizochok-widget').length };
      await w.mount('#chat');
      result.inside = document.querySelector('#chat > .vizochok-widget') !== null;
      result.launchers = [...document.querySelectorAll('.vizochok-widget')].map((el) => el.shadowRoot.querySelector('.launcher').hidden);
      window.widget = w;
      return result;
    });
    assert.deepEqual(headless, { state: 'connected', widgets: 0, inside: true, launchers: [true] });
    await page.locator('#chat form input').fill('bread');
    await page.locator('#chat form input').press('Enter');
    await page.locator('#chat .card').first().waitFor();
    assert.deepEqual(await page.problems(), []);
    await page.context().close();
  });

  test('the panel calls keep the chat: ask() at once shows the question, prefill() keeps the conversation, a mounted chat counts nothing unread, nothing fires after destroy()', async () => {
    const page = await seedPage();
    const result = await page.evaluate(async () => {
      window.widget.destroy();
      const fired = [];
      let replied = () => {};
      const make = (more) => window.seedWidget({
        ...more,
        onOpen: () => fired.push('open'), onClose: () => fired.push('close'), onUnreadChange: (n) => fired.push(`unread:${n}`),
        onMessage: (m) => m.type === 'response' && replied(),
      });
      const reply = () => new Promise((resolve) => { replied = resolve; });
      const users = (root) => [...root.querySelectorAll('.msg.user .body')].map((m) => m.textContent);
      // Before the core and the UI have loaded.
      const floating = make({});
      let answered = reply();
      floating.ask('milk');
      await answered;
      const shadow = document.querySelector('.vizochok-widget').shadowRoot;
      const asked = users(shadow);
      floating.prefill('and bread?');
      await new Promise((resolve) => setTimeout(resolve, 0));
      const now = document.querySelector('.vizochok-widget').shadowRoot;
      const kept = { users: users(now), input: now.querySelector('form input').value, widgets: document.querySelectorAll('.vizochok-widget').length };
      floating.destroy();
      const before = fired.length;
      floating.open();
      floating.close();
      floating.toggle();
      const afterDestroy = fired.slice(before);
      const inline = make({ ui: false });
      await inline.mount('#chat');
      answered = reply();
      inline.sendMessage('cheese');
      await answered;
      const inlineFired = fired.slice(before);
      inline.destroy();
      return { asked, kept, afterDestroy, inlineFired };
    });
    assert.deepEqual(result, {
      asked: ['milk'], kept: { users: ['milk'], input: 'and bread?', widgets: 1 }, afterDestroy: [], inlineFired: [],
    });
    await page.context().close();
  });

  test('unmount() and mount() again, in the same element or another, keep the conversation on screen', async () => {
    const page = await seedPage();
    const result = await page.evaluate(async () => {
      window.widget.destroy();
      document.body.append(Object.assign(document.createElement('div'), { id: 'other' }));
      const waiting = {};
      const next = (name) => new Promise((resolve) => { waiting[name] = resolve; });
      const w = window.seedWidget({
        ui: false,
        onMessage: (m) => m.type === 'response' && waiting.reply?.(), onConnect: () => waiting.connect?.(),
      });
      /** Each chat on the page: where it is, and its bubbles. */
      const shown = () => [...document.querySelectorAll('.vizochok-widget')].map((el) => ({
        in: el.parentElement.id,
        bubbles: [...el.shadowRoot.querySelectorAll('.msg')].map((m) => `${m.classList[1]}: ${m.querySelector('.body').textContent}`),
      }));
      const replied = next('reply');
      await w.mount('#chat');
      w.sendMessage('milk');
      await replied;
      const before = shown();
      w.unmount();
      const unmounted = shown();
      // Mounted again, the core resumes the session (a replay: no history comes).
      const resumed = next('connect');
      await w.mount('#chat');
      await resumed;
      const again = shown();
      await w.mount('#chat');
      const twice = shown();
      await w.mount('#other');
      const moved = shown();
      w.destroy();
      return { before, unmounted, again, twice, moved, destroyed: shown() };
    });
    const [chat] = result.before;
    assert.equal(chat.bubbles.length, 2, JSON.stringify(result.before));
    assert.equal(chat.bubbles[0], 'user: milk');
    assert.match(chat.bubbles[1], /^assistant: ./);
    assert.deepEqual(result.unmounted, []);
    assert.deepEqual(result.again, result.before, 'mounted again: the same bubbles');
    assert.deepEqual(result.twice, result.before, 'mounted twice in one element');
    assert.deepEqual(result.moved, [{ ...chat, in: 'other' }], 'moved to another element');
    assert.deepEqual(result.destroyed, []);
    assert.deepEqual(await page.problems(), []);
    await page.context().close();
  });

  test('the floating chat, once used, moves into mount(element) with its conversation and counts nothing unread; after unmount(), open() floats it again', async () => {
    const page = await seedPage();
    const result = await page.evaluate(async () => {
      window.widget.destroy();
      const fired = [];
      let replied = () => {};
      const reply = () => new Promise((resolve) => { replied = resolve; });
      const w = window.seedWidget({
        onMessage: (m) => m.type === 'response' && replied(), onUnreadChange: (n) => fired.push(`unread:${n}`),
        onOpen: () => fired.push('open'), onClose: () => fired.push('close'),
      });
      const look = () => {
        const all = document.querySelectorAll('.vizochok-widget');
        if (!all.length) return { widgets: 0 };
        const root = all[0].shadowRoot;
        const panel = root.querySelector('.panel');
        return {
          widgets: all.length, in: all[0].parentElement.localName + (all[0].parentElement.id ? `#${all[0].parentElement.id}` : ''),
          inline: root.querySelector('.root').classList.contains('inline'), role: panel.getAttribute('role'), panel: !panel.hidden,
          launcher: !root.querySelector('.launcher').hidden, close: !root.querySelector('.close').hidden,
          bubbles: [...root.querySelectorAll('.msg')].map((m) => `${m.classList[1]}: ${m.querySelector('.body').textContent.slice(0, 12)}`),
        };
      };
      const escape = () => document.querySelector('.vizochok-widget')?.shadowRoot.querySelector('.panel form input')
        .dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, composed: true }));
      let answered = reply();
      w.ask('milk');
      await answered;
      w.close();
      answered = reply();
      w.sendMessage('bread');
      await answered;
      const floating = { ...look(), unread: w.unreadCount };
      await w.mount('#chat');
      escape(); // does nothing in the page: there is nothing to close
      const mounted = { ...look(), unread: w.unreadCount };
      w.unmount();
      w.open();
      const again = look();
      escape();
      const closed = look();
      w.destroy();
      return { floating, mounted, again, closed, fired };
    });
    const bubbles = result.floating.bubbles;
    assert.deepEqual(bubbles.map((b) => b.split(':')[0]), ['user', 'assistant', 'user', 'assistant'], bubbles.join(' | '));
    const floating = { widgets: 1, in: 'body', inline: false, role: 'dialog', launcher: true, close: true, bubbles };
    assert.deepEqual(result.floating, { ...floating, panel: false, unread: 1 });
    assert.deepEqual(result.mounted, { widgets: 1, in: 'div#chat', inline: true, role: 'region', panel: true, launcher: false, close: false, bubbles, unread: 0 });
    assert.deepEqual(result.again, { ...floating, panel: true });
    assert.deepEqual(result.closed, { ...floating, panel: false });
    assert.deepEqual(result.fired, ['open', 'close', 'unread:1', 'unread:0', 'open', 'close']);
    assert.deepEqual(await page.problems(), []);
    await page.context().close();
  });

  test('a turn that ends in an error, or the connection lost, takes "typing…" and Stop off the screen; what streamed stays', async () => {
    const page = await seedPage();
    const result = await page.evaluate(async () => {
      window.widget.destroy();
      // The page plays the server, through the widget's transport option.
      let socket;
      const errors = [];
      const w = window.seedWidget({
        serverUrl: 'ws://127.0.0.1:9/v1/ws', persistSession: 'none', ui: false,
        transport: { now: () => performance.now(), open: (_id, _url, events) => { socket = events; }, send() {}, close() {}, setTimer() {} },
        onError: (e) => errors.push(e.message),
      });
      await w.mount('#chat');
      const frame = (f) => socket.text(JSON.stringify(f));
      socket.opened();
      frame({ type: 'auth_ok', session_id: 's1', restored: false, replay: false });
      const root = document.querySelector('#chat .vizochok-widget').shadowRoot;
      const shows = (selector) => !root.querySelector(selector).hidden;
      const look = () => ({
        typing: shows('.typing'), stop: shows('.stop'), error: shows('.error') ? root.querySelector('.error').textContent : null,
        replies: [...root.querySelectorAll('.msg.assistant .body')].map((b) => b.textContent),
      });
      const milk = w.sendMessage('milk');
      frame({ type: 'typing', seq: 1, reply_to: milk });
      const typing = look();
      frame({ type: 'delta', seq: 2, message_id: 'r1', reply_to: milk, text: 'Here is ' });
      const streaming = look();
      frame({ type: 'error', seq: 3, code: 'internal_error', message: 'the agent failed', reply_to: milk });
      const failed = look();
      const bread = w.sendMessage('bread');
      frame({ type: 'delta', seq: 4, message_id: 'r2', reply_to: bread, text: 'Bread ' });
      const second = look();
      socket.ended(1006, '');
      const cut = look();
      w.destroy();
      return { typing, streaming, failed, second, cut, errors };
    });
    assert.equal(result.errors.length, 2, JSON.stringify(result.errors));
    const [failure, lost] = result.errors;
    assert.deepEqual(result.typing, { typing: true, stop: true, error: null, replies: [] });
    assert.deepEqual(result.streaming, { typing: false, stop: true, error: null, replies: ['Here is '] });
    assert.deepEqual(result.failed, { typing: false, stop: false, error: failure, replies: ['Here is '] });
    assert.deepEqual(result.second, { typing: false, stop: true, error: failure, replies: ['Here is ', 'Bread '] });
    assert.deepEqual(result.cut, { typing: false, stop: false, error: lost, replies: ['Here is ', 'Bread '] });
    assert.deepEqual(await page.problems(), []);
    await page.context().close();
  });

  test('a server URL the core refuses is logged once: no uncaught rejection, whichever panel calls came first; mount() rejects', async () => {
    const page = await seedPage();
    const result = await page.evaluate(async () => {
      window.widget.destroy();
      const w = window.seedWidget({ serverUrl: 'ws://shop.example/v1/ws' });
      w.open();
      w.prefill('milk');
      const mounted = await w.mount('#chat').then(() => 'resolved', (e) => e.name);
      const ready = await w.ready.then(() => 'resolved', (e) => e.name);
      // An unhandled rejection is reported once the task that left it ends.
      await new Promise((resolve) => setTimeout(resolve, 0));
      return { mounted, ready, widgets: document.querySelectorAll('.vizochok-widget').length };
    });
    assert.deepEqual(result, { mounted: 'TypeError', ready: 'TypeError', widgets: 0 });
    // A round trip more: what the page reported has arrived.
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
    const problems = await page.problems();
    assert.equal(problems.length, 1, problems.join('\n'));
    assert.match(problems[0], /^error: VIZOCHOK: the widget could not start/);
    await page.context().close();
  });

  test('a StrictMode-style mount, unmount, mount leaves one widget and one connection; destroy is safe twice', async () => {
    const page = await seedPage();
    const result = await page.evaluate(async () => {
      window.widget.destroy();
      window.widget.destroy();
      const fired = [];
      const make = (name) => window.seedWidget({
        onConnect: () => fired.push(`${name}:connect`), onDisconnect: () => fired.push(`${name}:disconnect`),
      });
      const first = make('first');
      first.destroy(); // React's StrictMode runs the effect's cleanup at once, before the core loaded
      const second = make('second');
      await second.ready;
      await new Promise((resolve) => { const poll = () => (second.state === 'connected' ? resolve() : setTimeout(poll, 10)); poll(); });
      second.destroy();
      second.destroy();
      return { fired, first: first.state, second: second.state, widgets: document.querySelectorAll('.vizochok-widget').length };
    });
    assert.deepEqual(result, { fired: ['second:connect', 'second:disconnect'], first: 'destroyed', second: 'destroyed', widgets: 0 });
    await page.context().close();
  });

  test('closing gives focus back where the shopper was: the page\'s own button with launcher: false; none moves when the page closes the chat', async () => {
    const page = await seedPage();
    await page.evaluate(() => {
      const own = window.seedWidget({ launcher: false });
      const button = Object.assign(document.createElement('button'), { id: 'help', textContent: 'Help' });
      button.addEventListener('click', () => own.open());
      document.querySelector('main').append(button, Object.assign(document.createElement('input'), { id: 'search' }));
      window.own = own;
    });
    const focused = () => page.evaluate(() => {
      const el = document.activeElement;
      return el?.shadowRoot ? `chat ${el.shadowRoot.activeElement?.className || el.shadowRoot.activeElement?.tagName}` : el?.id;
    });
    await page.focus('#help');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.activeElement?.shadowRoot?.activeElement?.tagName === 'INPUT');
    await page.keyboard.press('Escape');
    assert.equal(await focused(), 'help', 'Escape gives focus back to the button that opened the chat');

    // The floating chat with its launcher, opened from the launcher: the
    // shopper moves to the page's search field, and the page closes the chat.
    await page.evaluate(() => window.own.destroy());
    await page.click('.launcher');
    await page.waitForFunction(() => document.activeElement?.shadowRoot?.activeElement?.tagName === 'INPUT');
    await page.focus('#search');
    await page.evaluate(() => window.widget.close());
    assert.equal(await focused(), 'search', 'the page closed the chat: focus stays where the shopper is');
    await page.click('.launcher');
    await page.waitForFunction(() => document.activeElement?.shadowRoot?.activeElement?.tagName === 'INPUT');
    await page.keyboard.press('Escape');
    assert.equal(await focused(), 'chat launcher', 'opened from the launcher, Escape gives it focus back');
    assert.deepEqual(await page.problems(), []);
    await page.context().close();
  });
});

describe('apps built by real bundlers from the packed tarball', { skip: TOOLS ? false : 'VIZOCHOK_BUNDLERS is not set' }, () => {
  // Beside the tools' node_modules, so that the apps resolve them as a project's own.
  const runs = TOOLS && mkdtempSync(join(TOOLS, '..', 'run-'));
  after(() => rmSync(runs, { recursive: true, force: true }));
  const bin = (name) => join(TOOLS, '.bin', name);

  /** Copies the fixture beside the installed tools, installs the tarball into it, and builds it. */
  function build(name, storeDir, command, args, out, extraFiles = []) {
    const app = join(runs, name);
    cpSync(join(APPS, name), app, { recursive: true });
    cpSync(join(APPS, 'shared/store.js'), join(app, storeDir, 'store.js'));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: `${name}-store`, private: true }));
    execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--offline', TARBALL], { cwd: app, stdio: 'pipe' });
    execFileSync(bin(command), args, {
      cwd: app, stdio: 'pipe', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1', NO_COLOR: '1' },
    });
    const dir = join(app, out);
    mkdirSync(dir, { recursive: true });
    for (const file of extraFiles) cpSync(join(app, file), join(dir, file));
    return dir;
  }

  async function runs_in_chromium(dir, check) {
    const sandbox = await startSandbox({ site: dir, config: SEED_STORE });
    try {
      const page = await openPage(browser, sandbox.url);
      await waitEvent(page, 'connect', { timeout: 30_000 });
      await page.evaluate(() => window.vizochokWidget.ask('milk'));
      const reply = await waitReply(page);
      assert.ok(reply.products.length > 0);
      await page.locator('.card').first().waitFor();
      if (check) await check(page);
      assert.deepEqual(await page.problems(), []);
      await page.context().close();
    } finally {
      await sandbox.stop();
    }
  }

  test('Vite, default settings', async () => {
    await runs_in_chromium(build('vite', '.', 'vite', ['build', '--logLevel', 'warn'], 'dist'));
  });

  test('webpack 5, no config file', async () => {
    await runs_in_chromium(build('webpack', 'src', 'webpack', ['--mode', 'production'], 'dist', ['index.html']));
  });

  test('Rollup with node-resolve', async () => {
    await runs_in_chromium(build('rollup', '.', 'rollup', ['-c', '--silent'], 'out', ['index.html']));
  });

  test('esbuild, one command', async () => {
    await runs_in_chromium(build('esbuild', '.', 'esbuild', ['main.js', '--bundle', '--format=esm', '--outdir=out', '--log-level=warning'], 'out', ['index.html']));
  });

  test('Next.js: a client component, and the package imported in a server component', async () => {
    const out = build('next', 'app', 'next', ['build'], 'out');
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    assert.match(html, /<p id="ssr">function<\/p>/, 'the server rendered the page with the package imported');
    await runs_in_chromium(out);
  });
});
