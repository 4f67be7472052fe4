// Shared helpers of the Chromium suite: the real sandbox (the `vizochok`
// binary) on a free loopback port, and Debian's Chromium via playwright-core.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

export const BIN = process.env.VIZOCHOK_BIN;
export const SITE = process.env.VIZOCHOK_SITE;
export const OUTPUT = process.env.VIZOCHOK_OUTPUT ?? join(tmpdir(), 'vizochok-e2e');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
if (!BIN || !SITE) throw new Error('run through `cargo xtask ci` (VIZOCHOK_BIN and VIZOCHOK_SITE are not set)');

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
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
export async function startSandbox({ port, config, state } = {}) {
  port ??= await freePort();
  const args = ['sandbox', '--addr', `127.0.0.1:${port}`, '--static', SITE];
  if (config) args.push('--config', config);
  if (state) args.push('--state', state);
  const child = spawn(BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
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

/** A page that records console lines and page errors. */
export async function openPage(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.consoleLines = [];
  page.on('console', (m) => page.consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => page.consoleLines.push(`pageerror: ${e.message}`));
  if (url) await page.goto(url);
  return page;
}

/** The demo page's callback log (`window.vizochokEvents`). */
export const events = (page) => page.evaluate(() => window.vizochokEvents.map((e) => ({ name: e.name, data: e.data })));

/** Waits until the demo page logged `count` callbacks named `name` (and `data` passes `where`). */
export async function waitEvent(page, name, { count = 1, where = null, timeout = 15_000 } = {}) {
  await page.waitForFunction(
    ([n, c, w]) => window.vizochokEvents?.filter((e) => e.name === n && (!w || new Function('d', `return ${w}`)(e.data))).length >= c,
    [name, count, where],
    { timeout, polling: 50 },
  );
  return (await events(page)).filter((e) => e.name === name);
}

/** Opens the chat and sends `text` through the default UI. */
export async function ask(page, text) {
  await page.waitForFunction(() => window.vizochokEvents?.some((e) => e.name === 'ui_ready'));
  if (await page.locator('.panel').isHidden()) await page.click('.launcher');
  await page.fill('form input', text);
  await page.press('form input', 'Enter');
}
