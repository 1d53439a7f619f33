/** `ward serve`'s sync: each mapping runs on its polling interval, by the one process holding the runner's lock. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMappings, type Mapping } from '../../src/sync/mapping.js';
import type { PassReport } from '../../src/sync/runner.js';
import { SyncScheduler } from '../../src/sync/scheduler.js';
import { canaryPatient, exampleConfig, testVault } from '../helpers.js';
import { scratchDir } from '../scratch.js';
import { mappingFile, SYNC_CONFIG } from './helpers.js';

describe('the sync scheduler', () => {
  it('rule: a due mapping runs once per interval, on one of two servers only', async () => {
    const t = await testVault('pg', undefined, exampleConfig(SYNC_CONFIG));
    const dir = scratchDir('ward-sync-sched-');
    try {
      const p = canaryPatient(1);
      writeFileSync(join(dir, 'c.csv'), `Id,MRN__c,Name,SSN__c,Plan__c,Secret_Notes__c,Description\n1,${p.mrn},${p.name},,gold,,\n`);
      const file = mappingFile(dir, { kind: 'csv', file: 'c.csv' }, { sf_polling_seconds: 3600 });
      const [m] = loadMappings(file, t.cfg, new Map(t.vault.collectionList().map((c) => [c.name, c]))) as [Mapping];
      const passes: [string, PassReport][] = [];
      const failed: unknown[] = [];
      const on = (who: string) => ({
        onPass: (r: PassReport) => passes.push([who, r]),
        onFailed: (_m: Mapping, e: unknown) => failed.push(e),
      });
      const a = new SyncScheduler(t.vault, [m], on('a'), {}, 30);
      const b = new SyncScheduler(t.vault, [m], on('b'), {}, 30);
      a.start();
      b.start();
      for (let i = 0; i < 100 && !passes.length; i++) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 300)); // more ticks: nothing else is due
      await a.stop();
      await b.stop();
      expect(failed).toEqual([]);
      expect(passes).toHaveLength(1);
      expect(passes[0]?.[1]).toMatchObject({ created: 1, state: 'IDLE' });
    } finally {
      await t.dispose();
    }
  });
});

describe('the sync scheduler, when the lock changes hands', () => {
  it('rule: a runner taking over from another does not run again what the other has just run', async () => {
    const t = await testVault('pg', undefined, exampleConfig(SYNC_CONFIG));
    const dir = scratchDir('ward-sync-handover-');
    try {
      const p = canaryPatient(2);
      writeFileSync(join(dir, 'c.csv'), `Id,MRN__c,Name,SSN__c,Plan__c,Secret_Notes__c,Description\n1,${p.mrn},${p.name},,gold,,\n`);
      const file = mappingFile(dir, { kind: 'csv', file: 'c.csv' }, { sf_polling_seconds: 3600 });
      const [m] = loadMappings(file, t.cfg, new Map(t.vault.collectionList().map((c) => [c.name, c]))) as [Mapping];
      const passes: string[] = [];
      const on = (who: string) => ({ onPass: () => passes.push(who), onFailed: () => passes.push(`${who} failed`) });
      const a = new SyncScheduler(t.vault, [m], on('a'), {}, 30);
      a.start();
      for (let i = 0; i < 100 && !passes.length; i++) await new Promise((r) => setTimeout(r, 20));
      await a.stop(); // resigns the lock
      const b = new SyncScheduler(t.vault, [m], on('b'), {}, 30);
      b.start();
      await new Promise((r) => setTimeout(r, 400)); // b leads for many ticks
      await b.stop();
      expect(passes).toEqual(['a']);
    } finally {
      await t.dispose();
    }
  });
});

describe('sync metrics', () => {
  it('rule: a pass is counted by mapping and outcome, with its duration; no value is a label', async () => {
    const { Metrics } = await import('../../src/http/metrics.js');
    const m = new Metrics();
    m.syncPass({ mapping: 'Contact', state: 'IDLE', ms: 1200, created: 3, updated: 1, unchanged: 7, deleted: 0, failed: 2 });
    const text = await m.registry.metrics();
    expect(text).toContain('ward_sync_rows_total{mapping="Contact",outcome="created"} 3');
    expect(text).toContain('ward_sync_rows_total{mapping="Contact",outcome="failed"} 2');
    expect(text).not.toContain('outcome="deleted"');
    expect(text).toContain('ward_sync_pass_duration_seconds_count{mapping="Contact",state="IDLE"} 1');
  });
});
