// Per test file: stray console output fails the test that made it (PHI must never reach a
// console by accident), and whatever the file's tests left in the temp dir or on the server is removed.
import { afterAll, afterEach, vi } from 'vitest';
import { cleanUp } from './scratch.js';

const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
const spies = methods.map((m) => vi.spyOn(console, m));

afterEach(() => {
  const calls = spies.flatMap((s, i) => (s.mock.calls.length ? [methods[i]] : []));
  for (const s of spies) s.mockClear();
  if (calls.length) throw new Error(`console.${calls.join(', console.')} was called during the test`);
});

afterAll(cleanUp);
