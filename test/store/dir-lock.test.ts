/** One process at a time on an embedded database directory; stale locks are taken over. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockDir } from '../../src/store/dir-lock.js';
import { pgliteDb } from '../../src/store/pglite.js';
import { scratchDir } from '../scratch.js';

describe('embedded database directory lock', () => {
  it('a second opener is refused, naming the process that holds it, until the first closes', async () => {
    const dir = scratchDir('ward-lock-');
    const db = await pgliteDb(dir);
    await expect(pgliteDb(dir)).rejects.toMatchObject({
      code: 'database_error',
      message: expect.stringContaining(`is in use by process ${process.pid}`),
    });
    await db.close();
    const again = await pgliteDb(dir);
    expect(await again.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await again.close();
  });

  it('a lock left by a process that is gone is taken over', () => {
    const dir = scratchDir('ward-lock-');
    writeFileSync(join(dir, 'ward.lock'), '2147483646');
    const release = lockDir(dir);
    expect(() => lockDir(dir)).toThrow(`is in use by process ${process.pid}`);
    release();
    lockDir(dir)();
  });
});
