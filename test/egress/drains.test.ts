/**
 * Log drains: `ward serve`'s JSON logs shipped through egress to an HTTPS endpoint (NDJSON) or to
 * syslog over TLS (RFC 5425), only when an agreement in force covers the host for PHI; an
 * uncovered drain stops the start. Lines wait, bounded, while a drain cannot deliver.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { parseConfig, type WardConfig } from '../../src/config/load.js';
import { LogDrain, MAX_LINES, syslogFrame } from '../../src/egress/drains.js';
import { startServer } from '../../src/http/server.js';
import { openVault } from '../../src/vault/open.js';
import type { Vault } from '../../src/vault/vault.js';
import { canaryPatient, freshDb, newMasterKey, type TestDb } from '../helpers.js';
import { httpsReceiver, testPki } from '../pki.js';
import { scratchDir } from '../scratch.js';

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const until = async (what: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
};
/** A log destination that keeps lines in memory (instead of stdout). */
const memory = (lines: string[]) =>
  new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });

/** A syslog-over-TLS receiver that splits octet-counted frames (RFC 5425). */
async function syslogReceiver(pki: { cert: string; key: string }) {
  const frames: string[] = [];
  const server = createTlsServer({ cert: pki.cert, key: pki.key }, (socket) => {
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const space = buf.indexOf(0x20);
        if (space < 0) return;
        const len = Number(buf.subarray(0, space).toString());
        if (buf.length < space + 1 + len) return;
        frames.push(buf.subarray(space + 1, space + 1 + len).toString());
        buf = buf.subarray(space + 1 + len);
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  return { port, frames, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

describe('log drains', () => {
  const pki = testPki(['drain.test']);
  let https: Awaited<ReturnType<typeof httpsReceiver>>;
  let syslog: Awaited<ReturnType<typeof syslogReceiver>>;
  let t: TestDb;
  let dir: string;
  const env = { WARD_MASTER_KEY: newMasterKey() };

  /** The example on `t`'s database with these drains, trusting the test CA for 127.0.0.1. */
  const config = (drains?: string): WardConfig =>
    parseConfig(
      `${EXAMPLE_CONFIG}
egress:
  allow_private: true
  ca_file: ca.pem
${drains ? `logging:\n  drains:\n${drains}` : ''}`,
      join(dir, 'ward.yaml'),
      { DATABASE_URL: t.location },
    );
  /** Records an agreement through a vault of its own (closed after). */
  const agree = async (scope: 'phi' | 'no-phi') => {
    const v = await openVault(config(), { env });
    try {
      return (await v.addAgreement({ name: 'Log host', hosts: ['127.0.0.1'], signed: day(-1), expires: day(60), scope })).id;
    } finally {
      await v.close();
    }
  };

  beforeAll(async () => {
    https = await httpsReceiver(pki);
    syslog = await syslogReceiver(pki);
    dir = scratchDir('ward-drains-');
    writeFileSync(join(dir, 'ca.pem'), pki.ca);
    t = await freshDb('pg');
  });
  afterAll(async () => {
    await t?.dispose();
    await https?.close();
    await syslog?.close();
  });

  it('rule: a drain no agreement covers for PHI stops the start, naming the drain', async () => {
    const cfg = config(`    - name: siem\n      url: https://127.0.0.1:${https.port}/logs\n`);
    const none = await startServer({ cfg }, { port: 0, env, signals: false, logStream: memory([]) }).catch((e) => e);
    expect(none).toMatchObject({ code: 'egress_denied', message: expect.stringContaining('logging.drains[0] (siem): no Business') });
    const narrow = await agree('no-phi');
    const scoped = await startServer({ cfg }, { port: 0, env, signals: false, logStream: memory([]) }).catch((e) => e);
    expect(scoped).toMatchObject({ code: 'egress_denied' });
    const v = await openVault(cfg, { env });
    await v.revokeAgreement(narrow);
    await v.close();
  });

  it('ships the JSON logs as NDJSON over HTTPS and as RFC 5424 over TLS, each delivery audited, no canary in any line', async () => {
    await agree('phi');
    const cfg = config(
      `    - name: siem\n      url: https://127.0.0.1:${https.port}/logs\n      flush_every: 100ms\n` +
        `    - name: syslog\n      url: syslog+tls://127.0.0.1:${syslog.port}\n      flush_every: 100ms\n`,
    );
    const keyed = await openVault(config(), { env });
    const { key } = await keyed.createApiKey('clinician', 'drain test');
    await keyed.close();
    const stdout: string[] = [];
    const server = await startServer({ cfg }, { port: 0, env, signals: false, logStream: memory(stdout) });
    const canary = canaryPatient();
    // A request that gets past authentication and fails on its values: the most a log line could repeat.
    const refused = await fetch(`${server.url}/v1/collections/patients/records`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'ward-purpose': 'treatment', 'content-type': 'application/json' },
      body: JSON.stringify({ ...canary, dob: canary.ssn, email: canary.name }),
    });
    expect(refused.status).toBe(422);
    const shipped = () => https.received.flatMap((r) => r.body.split('\n').filter(Boolean));
    await until(() => shipped().some((l) => l.includes('request completed')) && syslog.frames.some((f) => f.includes('request completed')));
    await server.close();

    expect(https.received[0]?.headers['content-type']).toBe('application/x-ndjson');
    for (const line of shipped()) expect(() => JSON.parse(line)).not.toThrow();
    expect(shipped().some((l) => l.includes('ward server listening'))).toBe(true);
    expect(stdout.some((l) => l.includes('ward server listening'))).toBe(true);
    const info = syslog.frames.find((f) => f.includes('ward server listening'));
    expect(info).toMatch(/^<134>1 \d{4}-\d\d-\d\dT[\d:.]+Z \S+ ward \d+ - - \{/);
    const everything = JSON.stringify([https.received, syslog.frames]);
    for (const value of [canary.name, canary.ssn, canary.mrn]) expect(everything).not.toContain(value);

    const audited = await t.db.query<{ outcome: string; detail: string }>(
      "SELECT outcome, detail FROM ward_audit_events WHERE action = 'egress' AND detail LIKE 'log drain%' ORDER BY seq",
    );
    expect(audited.some((r) => r.outcome === 'allowed' && /^log drain siem to 127\.0\.0\.1: \d+ bytes, status 200/.test(r.detail))).toBe(
      true,
    );
    expect(audited.some((r) => r.outcome === 'allowed' && r.detail.startsWith('log drain syslog to 127.0.0.1'))).toBe(true);
  });

  it('lines wait, bounded, while a drain is refused; the next delivery says how many were dropped', async () => {
    const lite = await freshDb('pglite');
    let vault: Vault | undefined;
    try {
      const cfg = parseConfig(`${EXAMPLE_CONFIG}\negress:\n  allow_private: true\n  ca_file: ca.pem\n`, join(dir, 'ward.yaml'), {});
      vault = await openVault(cfg, { env, db: lite.db });
      const v = vault;
      const drain = new LogDrain({ name: 'late', url: `https://127.0.0.1:${https.port}/late`, flushMs: 60_000 }, () => v.egress());
      for (let i = 0; i < MAX_LINES + 5; i++) drain.write(JSON.stringify({ level: 30, msg: `line ${i}` }));
      await drain.flush(); // no agreement yet: refused by egress, audited, kept
      expect(drain.pending).toBe(MAX_LINES);
      const [refused] = await lite.db.query<{ outcome: string; reason: string }>(
        "SELECT outcome, reason FROM ward_audit_events WHERE action = 'egress'",
      );
      expect(refused).toEqual({ outcome: 'denied', reason: 'not_covered' });
      await v.addAgreement({ name: 'Log host', hosts: ['127.0.0.1'], signed: day(-1), expires: day(60), scope: 'phi' });
      await drain.close(); // delivers what waits, backoff or not
      expect(drain.pending).toBe(0);
      const lines = https.received.filter((r) => r.path === '/late').flatMap((r) => r.body.split('\n').filter(Boolean));
      expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ drain: 'late', dropped: 5 });
      expect(JSON.parse(lines[1] ?? '{}')).toMatchObject({ msg: 'line 5' });
      expect(lines).toHaveLength(MAX_LINES + 1);
    } finally {
      await vault?.close();
      await lite.dispose();
    }
  });

  it('lines written while a batch is in flight are kept or counted, never lost silently', async () => {
    const lite = await freshDb('pglite');
    try {
      const cfg = parseConfig(`${EXAMPLE_CONFIG}\negress:\n  allow_private: true\n  ca_file: ca.pem\n`, join(dir, 'ward.yaml'), {});
      const v = await openVault(cfg, { env, db: lite.db });
      await v.addAgreement({ name: 'Log host', hosts: ['127.0.0.1'], signed: day(-1), expires: day(60), scope: 'phi' });
      const drain = new LogDrain({ name: 'busy', url: `https://127.0.0.1:${https.port}/busy`, flushMs: 60_000 }, () => v.egress());
      for (let i = 0; i < 1000; i++) drain.write(JSON.stringify({ level: 30, msg: `first ${i}` }));
      const inFlight = drain.flush(); // takes the 1,000 lines out before its first await
      for (let i = 0; i < MAX_LINES + 7; i++) drain.write(JSON.stringify({ level: 30, msg: `second ${i}` }));
      await inFlight;
      await drain.close();
      const lines = https.received.filter((r) => r.path === '/busy').flatMap((r) => r.body.split('\n').filter(Boolean));
      const parsed = lines.map((l) => JSON.parse(l));
      expect(parsed.filter((l) => String(l.msg).startsWith('first '))).toHaveLength(1000);
      expect(parsed.filter((l) => String(l.msg).startsWith('second '))).toHaveLength(MAX_LINES);
      expect(parsed.filter((l) => l.dropped)).toEqual([expect.objectContaining({ drain: 'busy', dropped: 7 })]);
      await v.close();
    } finally {
      await lite.dispose();
    }
  });

  it('a syslog frame is octet-counted in bytes, its severity from the pino level', () => {
    const frame = syslogFrame('{"level":50,"time":0,"msg":"Zoë’s café"}\n');
    const at = frame.indexOf(' ');
    const msg = frame.slice(at + 1);
    expect(Number(frame.slice(0, at))).toBe(Buffer.byteLength(msg));
    expect(Buffer.byteLength(msg)).toBeGreaterThan(msg.length);
    expect(msg).toMatch(/^<131>1 1970-01-01T00:00:00.000Z \S+ ward \d+ - - \{"level":50,"time":0,"msg":"Zoë’s café"\}$/);
  });
});
