/**
 * The relay to NATS JetStream (a real server: NATS_URL, or a throwaway nats-server; see
 * global-setup): one stream per topic, each event on the subject equal to the topic name with
 * Nats-Msg-Id = event id, no PHI in subjects, headers or payloads; a relay killed with SIGKILL
 * mid-stream, or the server itself, loses no event and shows no consumer a duplicate; the relay
 * survives the broker restarting. Each test uses a space of its own, so its streams are its own.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { parseConfig } from '../../src/config/load.js';
import { WardError } from '../../src/errors.js';
import { NatsBroker, streamName } from '../../src/events/nats.js';
import { openVault } from '../../src/vault/open.js';
import type { Vault } from '../../src/vault/vault.js';
import { freePort } from '../free-port.js';
import { canaryPatient, describeNats, freshDb, natsUrl, newMasterKey, type TestDb } from '../helpers.js';
import { natsServerOnPath, startNats } from '../nats-server.js';
import { scratchDir } from '../scratch.js';

const CLI = join(import.meta.dirname, '../../dist/cli/main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The example config in a space of its own, relaying to `url`: a local server, so the space lets
 * egress reach private addresses (the broker still needs an agreement: `coverBroker`).
 */
function spaceConfig(url: string): { space: string; topic: string; text: string } {
  const space = `t-${randomBytes(5).toString('hex')}`;
  const text = `${EXAMPLE_CONFIG.replaceAll('local-dev', space).replace(
    '  # broker:',
    `  broker:\n    nats:\n      url: ${url.replace('//localhost:', '//127.0.0.1:')}\n  relay:\n    dedupe_window: 2m\n  # broker:`,
  )}\negress:\n  allow_private: true\n`;
  return { space, topic: `${space}.patients.refs.v1`, text };
}

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

/** An agreement covering the local broker for PHI (events carry tokens and record ids). */
async function coverBroker(vault: Vault, scope: 'phi' | 'no-phi' = 'phi'): Promise<string> {
  return (await vault.addAgreement({ name: 'Local NATS', hosts: ['127.0.0.1'], signed: day(-1), expires: day(30), scope })).id;
}

interface StreamMessage {
  seq: number;
  subject: string;
  headers: Record<string, string>;
  body: { id: string; recordId: string; version: number; action: string } & Record<string, unknown>;
  raw: string;
}

/** Every message a stream holds, in stream order. */
async function streamMessages(nc: NatsConnection, topic: string): Promise<StreamMessage[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(streamName(topic));
  const out: StreamMessage[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(streamName(topic), { seq });
    if (!m) continue;
    const headers: Record<string, string> = {};
    for (const [k, v] of m.header ?? []) headers[k] = v.join(',');
    const raw = m.string();
    out.push({ seq, subject: m.subject, headers, body: JSON.parse(raw), raw });
  }
  return out;
}

async function deleteStreams(nc: NatsConnection, space: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for await (const s of jsm.streams.list()) if (s.config.name.startsWith(`WARD_${space}`)) await jsm.streams.delete(s.config.name);
}

/** Each outbox event once, in per-record version order: what the stream must hold. */
function expectExactlyOnceInOrder(messages: StreamMessage[], outbox: { id: string }[]): void {
  const ids = messages.map((m) => m.body.id);
  expect(new Set(ids).size, 'a duplicate reached the stream').toBe(ids.length);
  expect(new Set(ids)).toEqual(new Set(outbox.map((o) => o.id)));
  const versions = new Map<string, number[]>();
  for (const m of messages) versions.set(m.body.recordId, [...(versions.get(m.body.recordId) ?? []), m.body.version]);
  for (const [record, vs] of versions) expect(vs, `events of ${record} out of order`).toEqual([...vs].sort((a, b) => a - b));
}

describeNats('the relay to NATS JetStream', () => {
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connect({ servers: natsUrl() });
  });
  afterAll(async () => nc.close());

  it('rule: the broker is reached only through egress: covered for PHI by an agreement in force, at an address the space allows, each connection audited', async () => {
    const t = await freshDb('pglite');
    const { text } = spaceConfig(natsUrl());
    const env = { WARD_MASTER_KEY: newMasterKey() };
    const vault = await openVault(parseConfig(text, '/virtual/ward.yaml', {}), { env, db: t.db });
    try {
      await expect(vault.events.connectBroker()).rejects.toMatchObject({ code: 'egress_denied' });
      const narrow = await coverBroker(vault, 'no-phi');
      await expect(vault.events.connectBroker()).rejects.toMatchObject({ code: 'egress_denied' });
      await vault.revokeAgreement(narrow);
      await coverBroker(vault);
      const broker = await vault.events.connectBroker();
      await broker?.close();
      const rows = await t.db.query<{ outcome: string; reason: string | null; detail: string }>(
        "SELECT outcome, reason, detail FROM ward_audit_events WHERE action = 'egress' ORDER BY seq",
      );
      expect(rows.map((r) => [r.outcome, r.reason])).toEqual([
        ['denied', 'not_covered'],
        ['denied', 'not_covered'],
        ['allowed', null],
      ]);
      expect(rows[2]?.detail).toMatch(/^event broker to 127\.0\.0\.1: 0 bytes, agreement /);
      // Without allow_private, a broker on a loopback address is not reached, agreement or not.
      const strict = await openVault(parseConfig(text.replace('allow_private: true', 'allow_private: false'), '/virtual/ward.yaml', {}), {
        env,
        db: t.db,
      });
      await expect(strict.events.connectBroker()).rejects.toMatchObject({ code: 'egress_denied' });
    } finally {
      // `strict` shares the test's database: closing `vault` closes it.
      await vault.close();
      await t.dispose();
    }
  });

  it('rule: the servers named are admitted with whether they use TLS; credentials in the URL are refused', async () => {
    const admitted: [string, boolean][] = [];
    const gate = {
      admit: async (host: string, tls: boolean) => {
        admitted.push([host, tls]);
        throw new WardError('egress_denied', 'refused here');
      },
      covers: async () => true,
      identity: () => () => undefined,
    };
    const connect = (url: string, tls?: object) =>
      NatsBroker.connect({ url, dedupeWindowMs: 120_000, ...(tls ? { tls } : {}) }, new Map(), gate);
    await expect(connect('nats://broker.example:4222')).rejects.toMatchObject({ code: 'egress_denied' });
    await expect(connect('tls://[2001:db8::7]:4222, nats://b.example')).rejects.toMatchObject({ code: 'egress_denied' });
    await expect(connect('a.example:4222', {})).rejects.toMatchObject({ code: 'egress_denied' });
    expect(admitted).toEqual([
      ['broker.example', false],
      ['2001:db8::7', true],
      ['a.example', true],
    ]);
    await expect(connect('nats://user:secret@broker.example:4222')).rejects.toMatchObject({
      code: 'config_invalid',
      message: expect.not.stringContaining('secret'),
    });
  });

  it('rule: each committed change goes out once, on the subject equal to the topic, with Nats-Msg-Id = event id and no PHI anywhere in the message', async () => {
    const t = await freshDb('pglite');
    const { space, topic, text } = spaceConfig(natsUrl());
    const vault = await openVault(parseConfig(text, '/virtual/ward.yaml', {}), { env: { WARD_MASTER_KEY: newMasterKey() }, db: t.db });
    await coverBroker(vault);
    try {
      const patients = Array.from({ length: 5 }, () => canaryPatient());
      const created = await Promise.all(patients.map((p) => vault.create('patients', p)));
      await vault.update('patients', created[0]?.id as string, { plan: 'silver', notes: 'Canary later note' });
      await vault.delete('patients', created[1]?.id as string);
      expect(await vault.events.drain()).toBe(7);
      const messages = await streamMessages(nc, topic);
      const outbox = await t.db.query<{ id: string; body: unknown }>('SELECT id::text AS id, body FROM ward_events ORDER BY pos');
      expectExactlyOnceInOrder(messages, outbox);
      for (const [i, m] of messages.entries()) {
        expect(m.subject).toBe(topic);
        expect(m.headers['Nats-Msg-Id']).toBe(m.body.id);
        expect(m.headers['Ward-Schema']).toBe(topic);
        expect(m.body).toEqual(outbox[i]?.body);
        const all = `${m.subject} ${JSON.stringify(m.headers)} ${m.raw}`;
        for (const p of patients)
          for (const [field, v] of Object.entries(p)) if (field !== 'plan') expect(all, `${field} leaked`).not.toContain(v);
      }
      // Nothing is sent twice; sent again from the start (a relay that crashed before saving its
      // position), the broker drops every copy.
      expect(await vault.events.drain()).toBe(0);
      await t.db.query("UPDATE ward_event_state SET pos = 0 WHERE name = 'relay'");
      expect(await vault.events.drain()).toBe(7);
      expect((await streamMessages(nc, topic)).length).toBe(7);
      // The declared consumer exists as a durable JetStream consumer with explicit acks.
      const jsm = await jetstreamManager(nc);
      expect((await jsm.consumers.info(streamName(topic), 'billing_sync')).config).toMatchObject({
        durable_name: 'billing_sync',
        ack_policy: 'explicit',
      });
      const broker = await vault.events.connectBroker();
      const report = await vault.events.consumerReport(30 * 86_400_000, broker).finally(() => broker?.close());
      expect(report).toEqual([expect.objectContaining({ consumer: 'billing_sync', topic, via: 'broker', lag: 7 })]);
    } finally {
      await vault.close();
      await deleteStreams(nc, space);
      await t.dispose();
    }
  });

  it.skipIf(!natsServerOnPath())('the relay keeps going across a broker restart and delivers everything once', async () => {
    const server = await startNats();
    const t = await freshDb('pg');
    const { topic, text } = spaceConfig(server.url);
    const vault = await openVault(parseConfig(text, '/virtual/ward.yaml', {}), { env: { WARD_MASTER_KEY: newMasterKey() }, db: t.db });
    await coverBroker(vault);
    const errors: unknown[] = [];
    let probe: NatsConnection | undefined;
    try {
      await vault.events.start({ relayFailed: (e) => errors.push(e) });
      for (let i = 0; i < 20; i++) await vault.create('patients', canaryPatient());
      await server.restart();
      for (let i = 0; i < 20; i++) await vault.create('patients', canaryPatient());
      probe = await connect({ servers: server.url });
      await t.db.query('SELECT ward_sequence_events()');
      const outbox = await t.db.query<{ id: string }>('SELECT id::text AS id FROM ward_events');
      let messages: StreamMessage[] = [];
      for (let i = 0; i < 100 && messages.length < outbox.length; i++) {
        await sleep(200);
        messages = await streamMessages(probe, topic).catch(() => []);
      }
      expectExactlyOnceInOrder(messages, outbox);
    } finally {
      await vault.close();
      await probe?.close();
      await server.dispose();
      await t.dispose();
    }
  });

  it('rule: kill -9 of the relay and of the server at random points under load loses no committed change and shows no duplicate', async () => {
    const t: TestDb = await freshDb('pg');
    const dir = scratchDir('ward-relay-crash-');
    const { space, topic, text } = spaceConfig(natsUrl());
    writeFileSync(join(dir, 'ward.yaml'), text.replace('seal_every: 10s', 'seal_every: 500ms'));
    const { DATABASE_URL: _d, WARD_CONFIG: _c, ...rest } = process.env;
    const env = { ...rest, DATABASE_URL: t.location, WARD_MASTER_KEY: newMasterKey(), WARD_LOG_LEVEL: 'warn' };
    await promisify(execFile)(process.execPath, [CLI, 'migrate'], { cwd: dir, env });
    const vault = await openVault(parseConfig(text, join(dir, 'ward.yaml'), env), { env, db: t.db });
    await coverBroker(vault);
    const children: ChildProcess[] = [];
    const start = (args: string[]) => {
      const c = spawn(process.execPath, [CLI, ...args], { cwd: dir, env, stdio: 'ignore' });
      children.push(c);
      return c;
    };
    const seed = Math.floor(Math.random() * 1e9);
    let rnd = seed;
    const random = () => {
      rnd = (rnd * 1103515245 + 12345) % 2 ** 31;
      return rnd / 2 ** 31;
    };
    try {
      // The load: creates and updates through the library and through `ward serve` (whose relay competes).
      const port = await freePort();
      const { key } = await vault.createApiKey('clinician', 'relay crash load');
      let stop = false;
      const ids: string[] = [];
      const acknowledged: string[] = [];
      const library = (async () => {
        while (!stop) {
          const { id } = await vault.create('patients', canaryPatient());
          ids.push(id);
          const target = ids[Math.floor(random() * ids.length)] as string;
          await vault.update('patients', target, { plan: random() < 0.5 ? 'gold' : 'silver' }).catch(() => {});
        }
      })();
      const overHttp = (async () => {
        while (!stop) {
          const res = await fetch(`http://127.0.0.1:${port}/v1/collections/patients/records`, {
            method: 'POST',
            headers: { authorization: `Bearer ${key}`, 'ward-purpose': 'treatment', 'content-type': 'application/json' },
            body: JSON.stringify(canaryPatient()),
          }).catch(() => undefined);
          if (res?.status === 201) acknowledged.push(((await res.json()) as { id: string }).id);
          else await sleep(20);
        }
      })();
      for (let round = 0; round < 4; round++) {
        const relay = start(['relay']);
        const server = start(['serve', '--workers', '1', '--port', String(port)]);
        await sleep(300 + Math.floor(random() * 700));
        relay.kill('SIGKILL');
        if (round % 2 === 1) server.kill('SIGKILL');
        else server.kill('SIGTERM');
        await Promise.all(
          [relay, server].map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : null)),
        );
      }
      stop = true;
      await Promise.all([library, overHttp]);
      await vault.events.drain();
      const outbox = await t.db.query<{ id: string; record_id: string }>(
        'SELECT id::text AS id, record_id::text AS record_id FROM ward_events',
      );
      const messages = await streamMessages(nc, topic);
      expect(outbox.length, `seed ${seed}`).toBeGreaterThan(20);
      expectExactlyOnceInOrder(messages, outbox);
      // Every acknowledged HTTP create, and every library create, has its create event in the stream.
      const createdInStream = new Set(messages.filter((m) => m.body.action === 'create').map((m) => m.body.recordId));
      for (const id of [...ids, ...acknowledged]) expect(createdInStream.has(id), `create of ${id} missing (seed ${seed})`).toBe(true);
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await vault.close();
      await deleteStreams(nc, space);
      await t.dispose();
    }
  }, 60_000);
});
