// Every shared scenario through the public VIZOCHOKWidget of the packed
// package, in node (the Chromium suite replays them in a page too).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { environment, replayAll } from './scenario-runner.mjs';

const { VIZOCHOKWidget } = await import(process.env.VIZOCHOK_PACKAGE ?? 'vizochok');
const DIR = new URL('../../../../scenarios/', import.meta.url);

test('every scenarios/*.json replays exactly through VIZOCHOKWidget', async () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
  const scenarios = files.map((f) => [f, JSON.parse(readFileSync(new URL(f, DIR), 'utf8'))]);
  const { steps, failures } = await replayAll(VIZOCHOKWidget, scenarios, environment());
  console.log(`javascript: ${files.length} scenario files, ${steps} steps, ${failures.length} failed`);
  assert.deepEqual(failures, []);
});
