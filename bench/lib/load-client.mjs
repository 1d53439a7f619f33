/**
 * One load-generating process of bench/workers.mjs, forked by bench/lib/clients.mjs: it drives
 * either Ward's HTTP API with autocannon or raw PostgreSQL with node-postgres callers, and
 * answers with its count and a latency histogram that the parent merges with the others'.
 *
 * Messages from the parent: `setup` (what to drive), then `run` ({ seconds, record }) any
 * number of times, then `close`. Answers: `ready`, `done` ({ count, non2xx, errors, hist }),
 * `error` ({ message }). The process leaves when its parent does.
 */
import autocannon from 'autocannon';
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { patient, startSerialAt } from './data.mjs';
import { FIELDS } from './raw.mjs';

const COLS = ['id', ...FIELDS];
const INSERT = `INSERT INTO raw_patients (${COLS.join(', ')}) VALUES (${COLS.map((_, i) => `$${i + 1}`).join(', ')})`;
const SELECT = 'SELECT * FROM raw_patients WHERE id = $1';

/** Latencies in 10 µs buckets: bucket → count (sparse; merged by the parent). */
class Histogram {
  buckets = new Map();
  add(ms) {
    const k = Math.round(ms * 100);
    this.buckets.set(k, (this.buckets.get(k) ?? 0) + 1);
  }
  entries() {
    return [...this.buckets];
  }
}

const send = (m) => process.send?.(m);
const pick = (ids) => ids[Math.floor(Math.random() * ids.length)];

/** autocannon against Ward: { count, non2xx, errors, hist } for one run. */
function httpDriver(s) {
  return async ({ seconds, record }) => {
    const hist = new Histogram();
    let count = 0;
    const r = await new Promise((resolve, reject) => {
      const instance = autocannon(
        {
          url: s.base,
          connections: s.connections,
          duration: seconds,
          headers: s.headers,
          requests: [
            {
              setupRequest: (req) =>
                s.method === 'POST'
                  ? { ...req, method: 'POST', path: s.path, body: JSON.stringify(patient()) }
                  : { ...req, method: 'GET', path: `${s.path}/${pick(s.ids)}` },
            },
          ],
        },
        (err, result) => (err ? reject(err) : resolve(result)),
      );
      if (record)
        instance.on('response', (_client, _status, _bytes, ms) => {
          count++;
          hist.add(ms);
        });
    });
    return { count: record ? count : r.requests.total, non2xx: r.non2xx, errors: r.errors, hist: hist.entries() };
  };
}

/** node-postgres callers against the raw table: { count, non2xx: 0, errors, hist } for one run. */
function rawDriver(s) {
  const pool = new pg.Pool({ connectionString: s.url, max: s.poolSize });
  // DROP DATABASE ... WITH (FORCE) at the end of a run ends idle connections: not an error here.
  pool.on('error', () => {});
  const op =
    s.op === 'insert'
      ? () => {
          const p = patient();
          return pool.query(INSERT, [uuidv7(), ...FIELDS.map((f) => p[f])]);
        }
      : () => pool.query(SELECT, [pick(s.ids)]);
  const run = async ({ seconds, record }) => {
    const hist = new Histogram();
    let count = 0;
    const end = Date.now() + seconds * 1000;
    await Promise.all(
      Array.from({ length: s.callers }, async () => {
        while (Date.now() < end) {
          const t = process.hrtime.bigint();
          await op();
          count++;
          if (record) hist.add(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }),
    );
    return { count, non2xx: 0, errors: 0, hist: hist.entries() };
  };
  return Object.assign(run, { close: () => pool.end() });
}

let driver;
process.on('disconnect', () => process.exit(1)); // the parent has gone: so does its load
process.on('message', async (m) => {
  try {
    if (m.type === 'setup') {
      startSerialAt(m.serialStart);
      driver = m.kind === 'http' ? httpDriver(m) : rawDriver(m);
      send({ type: 'ready' });
    } else if (m.type === 'run') {
      send({ type: 'done', ...(await driver(m)) });
    } else if (m.type === 'close') {
      await driver?.close?.();
      process.exit(0);
    }
  } catch (e) {
    // Exits once the message is out: the parent reports it.
    process.send?.({ type: 'error', message: e instanceof Error ? e.message : String(e) }, () => process.exit(1));
  }
});
