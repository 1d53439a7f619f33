/** File sources stream: a file far larger than what the reader holds at once is read in bounded memory. */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { csvSource, ndjsonSource } from '../../src/sync/files.js';
import { scratchDir } from '../scratch.js';

const ROWS = 200_000;

async function write(file: string, line: (n: number) => string, head?: string): Promise<void> {
  const out = createWriteStream(file);
  if (head) out.write(`${head}\n`);
  for (let n = 0; n < ROWS; n++) if (!out.write(`${line(n)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((r) => out.end(r));
}

describe('large files', () => {
  it.each(['csv', 'ndjson'] as const)(
    'rule: a %s file of 200,000 rows is read in batches with the heap bounded',
    async (kind) => {
      const dir = scratchDir('ward-sync-large-');
      const file = join(dir, `big.${kind}`);
      const note = 'Patient seen for routine follow-up; vitals within normal limits; continue regimen.';
      if (kind === 'csv') await write(file, (n) => `${n},MRN-${n},Person ${n},gold,"${note}"`, 'Id,MRN__c,Name,Plan__c,Description');
      else await write(file, (n) => JSON.stringify({ Id: n, MRN__c: `MRN-${n}`, Name: `Person ${n}`, Plan__c: 'gold', Description: note }));
      const source = kind === 'csv' ? csvSource(file) : ndjsonSource(file);
      global.gc?.();
      const start = process.memoryUsage().heapUsed;
      let peak = 0;
      let rows = 0;
      for await (const b of source.read(undefined, 500)) {
        rows += b.rows.length;
        peak = Math.max(peak, process.memoryUsage().heapUsed - start);
      }
      expect(rows).toBe(ROWS);
      // Holding the CSV file's rows at once takes about 130 MB of heap here.
      expect(peak, `heap grew by ${Math.round(peak / 1048576)} MB`).toBeLessThan(64 * 1024 * 1024);
    },
    60_000,
  );
});
