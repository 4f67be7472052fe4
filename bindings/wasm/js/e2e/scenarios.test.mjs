// The shared scenario suite (scenarios/*.json) through the installed
// package's VIZOCHOKWidget inside Chromium: the same runner as node's, in a
// page, so the browser's own JavaScript engine and WebAssembly run it.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { launch, openPage, site, startSandbox } from './support.mjs';

const SCENARIOS = new URL('../../../../scenarios/', import.meta.url);
const RUNNER = new URL('../test/scenario-runner.mjs', import.meta.url);

let browser;
let sandbox;
before(async () => {
  browser = await launch();
  const names = readdirSync(SCENARIOS).filter((f) => f.endsWith('.json')).sort();
  const files = {
    'index.html': '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>scenarios</title></head><body></body></html>',
    'runner/scenario-runner.mjs': readFileSync(RUNNER, 'utf8'),
    'scenarios/index.json': JSON.stringify(names),
  };
  for (const name of names) files[`scenarios/${name}`] = readFileSync(new URL(name, SCENARIOS), 'utf8');
  sandbox = await startSandbox({ site: site({ files }) });
});
after(async () => {
  await browser?.close();
  await sandbox?.stop();
});

test('every scenarios/*.json replays exactly through VIZOCHOKWidget in Chromium', async () => {
  const page = await openPage(browser, sandbox.url);
  const result = await page.evaluate(async () => {
    const { VIZOCHOKWidget } = await import('/vizochok/vizochok.mjs');
    const { environment, replayAll } = await import('/runner/scenario-runner.mjs');
    const names = await (await fetch('/scenarios/index.json')).json();
    const scenarios = await Promise.all(names.map(async (n) => [n, await (await fetch(`/scenarios/${n}`)).json()]));
    return replayAll(VIZOCHOKWidget, scenarios, environment());
  });
  console.log(`chromium: ${result.files} scenario files, ${result.steps} steps, ${result.failures.length} failed`);
  assert.ok(result.files >= 40 && result.steps > 500, JSON.stringify(result));
  assert.deepEqual(result.failures, []);
  await page.context().close();
});
