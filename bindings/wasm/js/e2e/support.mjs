// Shared helpers of the Chromium suite: sites built around the package as
// `npm install` put it on disk, the real sandbox (the `vizochok` binary) on a
// free loopback port, and Debian's Chromium via playwright-core.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`run through \`cargo xtask wasm ci\` (${name} is not set)`);
  return value;
};
export const BIN = env('VIZOCHOK_BIN');
/** The package as installed from the packed tarball (`node_modules/vizochok`). */
export const PACKAGE = env('VIZOCHOK_PACKAGE_DIR');
export const TARBALL = env('VIZOCHOK_TARBALL');
export const OUTPUT = process.env.VIZOCHOK_OUTPUT ?? join(tmpdir(), 'vizochok-e2e');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

export const DEMO = new URL('../../demo/', import.meta.url).pathname;
export const PAGES = new URL('./pages/', import.meta.url).pathname;
export const DEMO_CATALOG = new URL('../../../../crates/vizochok-sandbox/data/demo-store.json', import.meta.url).pathname;

/** The policy `docs/browser.md` gives stores: the widget and its UI need nothing looser. */
export const STRICT_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
  + "connect-src 'self' ws: wss:; img-src 'self' https: data:";

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  // Background tabs keep their timers on time, as a visible tab's do.
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding', '--disable-backgrounding-occluded-windows',
];

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * A fresh directory with the files of `from` (if given), `files` written
 * on top (`{ 'a/b.html': text }`), and the installed package at `/vizochok/`.
 */
export function site({ from, files = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'vizochok-site-'));
  if (from) cpSync(from, dir, { recursive: true });
  cpSync(PACKAGE, join(dir, 'vizochok'), { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** The demo store's site. */
export const demoSite = () => site({ from: DEMO });

/** A settings or store-config file for `--config`, in a fresh temp dir. */
export function configFile(json, extra = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'vizochok-e2e-'));
  for (const [name, content] of Object.entries(extra)) writeFileSync(join(dir, name), JSON.stringify(content));
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(json));
  return path;
}

/**
 * Starts `vizochok sandbox --static SITE` on `port` (a free one by default)
 * and resolves once it logs that it listens. `log` collects its JSON lines.
 */
export async function startSandbox({ site: root, port, config, state, args = [] } = {}) {
  port ??= await freePort();
  const argv = ['sandbox', '--addr', `127.0.0.1:${port}`, ...args];
  if (root) argv.push('--static', root);
  if (config) argv.push('--config', config);
  if (state) argv.push('--state', state);
  const child = spawn(BIN, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  const log = [];
  let buffered = '';
  const listening = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sandbox did not listen within 20 s:\n${log.join('\n')}`)), 20_000);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`sandbox exited (${code}):\n${log.join('\n')}`)); });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        log.push(line);
        if (line.includes('"listening"')) { clearTimeout(timer); resolve(); }
      }
    });
  });
  await listening;
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    ws: `ws://127.0.0.1:${port}/v1/ws`,
    log,
    /** Stops it: SIGTERM (clean) or SIGKILL (a crash: sockets cut without a close frame). */
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * A page (in a new context unless `context` is given) that records console
 * lines, page errors and CSP violations (`page.problems()`).
 */
export async function openPage(browser, url, { context, viewport = { width: 1280, height: 860 }, mobile = false } = {}) {
  context ??= await browser.newContext(mobile
    ? { viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }
    : { viewport });
  const page = await context.newPage();
  page.consoleLines = [];
  page.on('console', (m) => page.consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => page.consoleLines.push(`pageerror: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) page.consoleLines.push(`error: ${r.status()} ${r.url()}`); });
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  /** Errors, warnings and CSP violations the page reported. */
  page.problems = async () => [
    ...page.consoleLines.filter((l) => /^(error|warning|pageerror)/.test(l)),
    ...(await page.evaluate(() => window.__violations)).map((v) => `csp: ${v}`),
  ];
  if (url) await page.goto(url);
  return page;
}

/** The page's callback log (`window.vizochokEvents`, as the demo and the test pages keep it). */
export const events = (page) => page.evaluate(() => (window.vizochokEvents ?? []).map((e) => ({ name: e.name, data: e.data })));

/**
 * Resolves with the first truthy value of `probe()`, asked again every 20 ms
 * (polled from node: the pages run under a CSP that refuses the string
 * evaluation Playwright's in-page polling uses).
 */
export async function until(probe, { timeout = 15_000, what = 'the condition' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Waits until the page logged `count` callbacks named `name` (whose data passes `where`). */
export function waitEvent(page, name, { count = 1, where = () => true, timeout = 15_000 } = {}) {
  return until(async () => {
    const matching = (await events(page)).filter((e) => e.name === name && where(e.data));
    return matching.length >= count && matching;
  }, { timeout, what: `${count} × ${name}` });
}

/** Waits until `fn` (run in the page with `arg`) returns a truthy value. */
export const waitPage = (page, fn, arg, options) => until(() => page.evaluate(fn, arg), options);

/** The reply (`response` message) that answered a message, once it arrived. */
export async function waitReply(page, { count = 1, timeout } = {}) {
  const replies = await waitEvent(page, 'message', { count, where: (d) => d.type === 'response', timeout });
  return replies[count - 1].data;
}

/** Opens the chat (through the launcher) and sends `text` through the default UI. */
export async function ask(page, text) {
  await page.locator('.launcher').waitFor();
  if (await page.locator('.panel').isHidden()) await page.click('.launcher');
  await page.fill('form input', text);
  await page.press('form input', 'Enter');
}

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's WCAG 2.1 A and AA violations on the page (the widget's shadow DOM included). */
export async function axeViolations(page) {
  await page.evaluate(AXE); // Runtime.evaluate: not subject to the page's CSP
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  });
}
