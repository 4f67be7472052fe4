// Every shared scenario through the public VIZOCHOKWidget of the packed
// package, in node (the Chromium suite replays them in a page too).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { replayAll } from './scenario-runner.mjs';

const { VIZOCHOKWidget } = await import(process.env.VIZOCHOK_PACKAGE ?? 'vizochok');
const DIR = new URL('../../../../scenarios/', import.meta.url);

/** A fake storage (the widget keeps the session id there), a fixed seed, and console.error. */
function environment() {
  let onSave = () => {};
  const items = new Map();
  globalThis.localStorage = {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => { items.set(key, value); onSave(JSON.parse(value).session_id); },
    removeItem: (key) => { items.delete(key); onSave(null); },
  };
  let seed = 1;
  const random = globalThis.crypto.getRandomValues.bind(globalThis.crypto);
  globalThis.crypto.getRandomValues = (array) => {
    if (!(array instanceof Uint32Array && array.length === 2)) return random(array);
    array[0] = Math.floor(seed / 2 ** 32);
    array[1] = seed % 2 ** 32;
    return array;
  };
  let report = () => {};
  console.error = (first) => { if (String(first).startsWith('VIZOCHOK: ')) report(); };
  return {
    seed: (n) => { seed = n; },
    storage: {
      reset(saved, save, userId) {
        items.clear();
        if (saved) items.set(`vizochok.session:scenario-store:${userId ?? ''}`, JSON.stringify({ session_id: saved }));
        onSave = save;
      },
    },
    onReport: (fn) => { report = fn; },
  };
}

test('every scenarios/*.json replays exactly through VIZOCHOKWidget', async () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
  const scenarios = files.map((f) => [f, JSON.parse(readFileSync(new URL(f, DIR), 'utf8'))]);
  const { steps, failures } = await replayAll(VIZOCHOKWidget, scenarios, environment());
  console.log(`javascript: ${files.length} scenario files, ${steps} steps, ${failures.length} failed`);
  assert.deepEqual(failures, []);
});
