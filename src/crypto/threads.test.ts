/** Field crypto on crypto threads: the same results as on this thread, and nothing lost when a thread goes. */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type OpenJob, pack, runJob, type SealJob, unpack } from './jobs.js';
import { fieldCrypto } from './threads.js';

const key = randomBytes(32);
const macKey = randomBytes(32);
const CANARY = 'Canaryname Thread-Dxq';

const sealJob = (k = key): SealJob => ({
  op: 'seal',
  key: k,
  version: 3,
  seal: [
    ['aad/name', JSON.stringify(CANARY)],
    ['aad/ssn', JSON.stringify('123-45-6789')],
  ],
  macs: [
    { kind: 'index', key: macKey, value: 'canaryname thread-dxq' },
    { kind: 'token', key: macKey, value: '123456789' },
  ],
});
const openJob = (sealed: string[], k = key): OpenJob => ({
  op: 'open',
  key: k,
  version: 3,
  open: [
    ['aad/name', sealed[0]],
    ['aad/ssn', sealed[1]],
  ],
});

describe('field crypto on crypto threads', () => {
  it('a thread and this thread agree: each opens the other’s envelopes, blind indexes and tokens are equal', async () => {
    const fc = fieldCrypto(1);
    try {
      const there = await fc.run(sealJob());
      const here = runJob(sealJob());
      expect(fc.offloaded).toBe(1);
      expect(there.macs).toEqual(here.macs);
      expect(Buffer.isBuffer(there.macs[0])).toBe(true);
      expect(there.macs[1]).toMatch(/^dtk_/);
      expect(there.sealed).not.toEqual(here.sealed); // fresh IVs
      expect(await fc.run(openJob(here.sealed))).toEqual([JSON.stringify(CANARY), '"123-45-6789"']);
      expect(runJob(openJob(there.sealed))).toEqual([JSON.stringify(CANARY), '"123-45-6789"']);
      // Wrong key, wrong additional data, wrong version: null (the caller's integrity error), on either side.
      expect(await fc.run(openJob(there.sealed, randomBytes(32)))).toEqual([null, null]);
      expect(await fc.run({ ...openJob(there.sealed), open: [['aad/ssn', there.sealed[0]]] })).toEqual([null]);
      expect(await fc.run({ ...openJob(there.sealed), version: 4 })).toEqual([null, null]);
      expect(await fc.run({ ...openJob(there.sealed), open: [['aad/name', 42]] })).toEqual([null]);
    } finally {
      await fc.close();
    }
  });

  it('jobs that arrive together cross in one message each of a few, and each gets its own result', async () => {
    const fc = fieldCrypto(1);
    try {
      const values = Array.from({ length: 20 }, (_, i) => `value-${i}`);
      const sealed = await Promise.all(values.map((v) => fc.run({ ...sealJob(), seal: [['aad', JSON.stringify(v)]], macs: [] })));
      const opened = await Promise.all(sealed.map((s) => fc.run({ ...openJob([]), open: [['aad', s.sealed[0]]] })));
      expect(opened.map((o) => JSON.parse(o[0] as string))).toEqual(values);
      expect(fc.offloaded).toBe(40);
    } finally {
      await fc.close();
    }
  });

  it('packing sends each distinct key once, as a copy of only its own bytes', () => {
    const slab = randomBytes(4096);
    const view = slab.subarray(64, 96); // a key that is a view into a larger buffer
    const batch = pack(7, [sealJob(view), sealJob(view), openJob(['x', 'y'], key)]);
    expect(batch.keys).toHaveLength(3); // view, macKey, key
    for (const k of batch.keys) expect(k.buffer.byteLength).toBe(32);
    expect(Buffer.from(batch.keys[0] as Uint8Array).equals(view)).toBe(true);
    const [a, b, c] = unpack(batch);
    expect(a?.key.equals(view) && b?.key === a?.key).toBe(true);
    expect(c?.key.equals(key)).toBe(true);
  });

  it('a job that throws on a thread fails with its own error, raised here, with no value in it', async () => {
    const fc = fieldCrypto(1);
    try {
      const bad = fc.run(sealJob(randomBytes(16))); // AES-256 needs a 32-byte key
      const good = fc.run(sealJob());
      await expect(bad).rejects.toMatchObject({ code: 'ERR_CRYPTO_INVALID_KEYLEN' });
      await bad.catch((e: Error) => expect(`${e.message}${e.stack}`).not.toContain(CANARY));
      expect((await good).sealed).toHaveLength(2);
    } finally {
      await fc.close();
    }
  });

  it('jobs in flight when the threads stop finish here, and later jobs run here', async () => {
    const fc = fieldCrypto(2);
    const inFlight = Array.from({ length: 30 }, () => fc.run(sealJob()));
    await new Promise((resolve) => setImmediate(resolve)); // sent
    const sent = fc.offloaded;
    expect(sent).toBe(30);
    await fc.close();
    const done = await Promise.all(inFlight);
    for (const r of done) expect(runJob(openJob(r.sealed))).toEqual([JSON.stringify(CANARY), '"123-45-6789"']);
    await fc.run(sealJob());
    expect(fc.offloaded).toBe(sent);
  });

  it('with no threads, jobs run on this thread', async () => {
    const fc = fieldCrypto(0);
    const r = await fc.run(sealJob());
    expect(fc.offloaded).toBe(0);
    expect(runJob(openJob(r.sealed))).toEqual([JSON.stringify(CANARY), '"123-45-6789"']);
  });

  it('an idle crypto thread does not keep the process alive', () => {
    const script = `
      import { fieldCrypto } from './dist/crypto/threads.js';
      const fc = fieldCrypto(1);
      const r = await fc.run({ op: 'seal', key: Buffer.alloc(32, 1), version: 1, seal: [['a', '"b"']], macs: [] });
      process.stdout.write(fc.offloaded + ' ' + r.sealed.length);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
    expect(out.trim()).toBe('1 1');
  });
});
