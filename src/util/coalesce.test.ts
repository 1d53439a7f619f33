import { describe, expect, it } from 'vitest';
import { Coalescer, SharedReads } from './coalesce.js';

/** A coalescer whose calls are recorded: `many` fails when an item is negative. */
function recorded(max?: number) {
  const calls: string[] = [];
  const c = new Coalescer<number, number>(
    async (n) => {
      calls.push(`one ${n}`);
      if (n < 0) throw new Error(`bad ${n}`);
      return n * 10;
    },
    async (ns) => {
      calls.push(`many ${ns.join(',')}`);
      if (ns.some((n) => n < 0)) throw new Error('one of them is bad');
      return ns.map((n) => n * 10);
    },
    max,
  );
  return { c, calls };
}

describe('coalescing operations into one statement', () => {
  it('functions that throw instead of rejecting still answer every caller', async () => {
    const c = new Coalescer<number, number>(
      (n) => {
        if (n < 0) throw new Error(`bad ${n}`);
        return Promise.resolve(n * 10);
      },
      () => {
        throw new Error('the shared call threw');
      },
    );
    const all = await Promise.allSettled([c.run(1), c.run(-2), c.run(3)]);
    expect(all.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([10, 'bad -2', 30]);
    await expect(c.run(-4)).rejects.toThrow('bad -4');
  });

  it('a lone operation runs alone', async () => {
    const { c, calls } = recorded();
    expect(await c.run(3)).toBe(30);
    expect(calls).toEqual(['one 3']);
  });

  it('operations arriving in one turn of the event loop share one call, each caller gets its own result', async () => {
    const { c, calls } = recorded();
    expect(await Promise.all([c.run(1), c.run(2), c.run(3)])).toEqual([10, 20, 30]);
    expect(calls).toEqual(['many 1,2,3']);
  });

  it('rule: when the shared call fails, each operation runs again alone and only the one at fault fails', async () => {
    const { c, calls } = recorded();
    const results = await Promise.allSettled([c.run(1), c.run(-2), c.run(3)]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([10, 'bad -2', 30]);
    expect(calls).toEqual(['many 1,-2,3', 'one 1', 'one -2', 'one 3']);
  });

  it('at most `max` share a call; the rest go in the next', async () => {
    const { c, calls } = recorded(2);
    expect(await Promise.all([1, 2, 3, 4, 5].map((n) => c.run(n)))).toEqual([10, 20, 30, 40, 50]);
    expect(calls).toEqual(['many 1,2', 'many 3,4', 'one 5']);
  });

  it('operations arriving after a call started go in a later one', async () => {
    const { c, calls } = recorded();
    const first = Promise.all([c.run(1), c.run(2)]);
    await new Promise((r) => setImmediate(r));
    const second = Promise.all([c.run(3), c.run(4)]);
    expect([...(await first), ...(await second)]).toEqual([10, 20, 30, 40]);
    expect(calls).toEqual(['many 1,2', 'many 3,4']);
  });
});

describe('shared reads', () => {
  it('callers of one key share a read while it runs; a dropped or settled read is not shared again', async () => {
    const reads = new SharedReads<string, number>();
    let n = 0;
    const read = async () => ++n;
    const [a, b] = await Promise.all([reads.run('k', read), reads.run('k', read)]);
    expect([a, b, n]).toEqual([1, 1, 1]);
    expect(await reads.run('k', read)).toBe(2); // settled: a new read
    const held = reads.run('k', read);
    reads.drop('k');
    expect(await reads.run('k', read)).toBe(4); // dropped: not joined
    expect(await held).toBe(3);
    expect(reads.has('k')).toBe(false);
  });
});
