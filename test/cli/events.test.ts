/** `ward events schemas | consumers | tail` and `ward relay`, end to end on the embedded database. */
import { beforeAll, describe, expect, it } from 'vitest';
import { pgliteDb } from '../../src/store/pglite.js';
import { canaryPatient } from '../helpers.js';
import { initialized, json, ward } from './harness.js';

const TOPIC = 'local-dev.patients.refs.v1';
const w = (cwd: string, ...args: string[]) => ward(cwd, args);

describe('ward events on the embedded database', () => {
  let dir: string;
  const p = canaryPatient(41);
  let id = '';

  beforeAll(async () => {
    dir = await initialized('ward-cli-events-');
    id = json(await w(dir, 'records', 'create', 'patients', '--json', JSON.stringify(p))).id;
    expect((await w(dir, 'records', 'update', 'patients', id, '--json', '{"plan":"silver"}')).code).toBe(0);
  });

  it('schemas prints each topic’s JSON Schema', async () => {
    expect(Object.keys(json(await w(dir, 'events', 'schemas')))).toEqual([TOPIC]);
  });

  it('tail prints the events of a topic from a position, as JSON lines without PHI', async () => {
    const r = await w(dir, 'events', 'tail', TOPIC, '--after', '0', '--limit', '2');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.recordId, l.action, l.version])).toEqual([
      [id, 'create', 1],
      [id, 'update', 2],
    ]);
    for (const [field, v] of Object.entries(p)) if (field !== 'plan') expect(r.stdout).not.toContain(v);
    const bad = await w(dir, 'events', 'tail', 'local-dev.nothing.refs.v1', '--after', '0', '--limit', '1');
    expect(bad).toMatchObject({ code: 1, stderr: 'ward: the request names a topic ward.yaml does not declare [unknown_topic]\n' });
  });

  it('consumers lists each declared consumer with lag and staleness; --prune removes the stale ones, audited', async () => {
    const report = json(await w(dir, 'events', 'consumers', '--json'));
    // Never used, but declared just now: not stale yet (staleness counts from when it was first seen declared).
    expect(report.consumers).toEqual([
      expect.objectContaining({
        consumer: 'billing_sync',
        role: 'billing',
        topic: TOPIC,
        via: 'none',
        lastAck: null,
        keyLastUsed: null,
        stale: false,
      }),
    ]);
    expect(json(await w(dir, 'events', 'consumers', '--prune', '--json')).pruned).toEqual([]);
    await new Promise((r) => setTimeout(r, 20));
    const text = await w(dir, 'events', 'consumers', '--stale', '10ms');
    expect(text.stdout).toMatch(/^consumer\s+role\s+topic\s+via\s+lag/);
    expect(text.stdout).toContain('STALE');
    const pruned = json(await w(dir, 'events', 'consumers', '--stale', '10ms', '--prune', '--json'));
    expect(pruned.pruned).toEqual(['billing_sync']);
    // The pruning is in the audit trail, naming the consumer (a name from ward.yaml).
    const db = await pgliteDb(`${dir}/.ward/pgdata`);
    try {
      const rows = await db.query<{ detail: string; outcome: string }>(
        "SELECT detail, outcome FROM ward_audit_events WHERE action = 'events.prune'",
      );
      expect(rows).toEqual([{ detail: 'consumer billing_sync', outcome: 'allowed' }]);
    } finally {
      await db.close();
    }
    expect((await w(dir, 'events', 'consumers', '--stale', 'soon')).stderr).toContain('--stale must be a duration');
  });

  it('relay refuses to start without a broker, saying what to set', async () => {
    expect(await w(dir, 'relay', '--once')).toMatchObject({
      code: 1,
      stderr: 'ward: there is no broker to relay to: set events.broker.nats.url in ward.yaml [config_invalid]\n',
    });
  });
});
