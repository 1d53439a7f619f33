/**
 * `ward serve --workers W` (W: the machine's cores, or BENCH_WORKERS) against raw PostgreSQL,
 * same server, same run, with every core in use: creates and gets by id at 50 and at 200
 * concurrent connections, driven by autocannon from one client process per core (BENCH_CLIENTS
 * overrides), against single-row INSERT and SELECT by primary key from as many node-postgres
 * client processes at the same concurrency; plus `--workers 1` creates at 50 connections for
 * the scaling factor. Writes bench/results-workers.json and bench/RESULTS-workers.md. Run by
 * `npm run bench`. Exits 0 when a target is missed, non-zero on an error.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import pg from 'pg';
import { drive, killClients } from './lib/clients.mjs';
import { cpuProbe } from './lib/cpu.mjs';
import { FIELDS } from './lib/raw.mjs';
import { createDatabase, machine, startServer } from './lib/server.mjs';
import { CONNECTIONS, SECONDS, SERVE_ARGS, startWard, WARMUP_SECONDS } from './lib/ward.mjs';

const TARGETS = { create: 0.6, p99Ms: 25, rawP99Ms: 10 };
/** The concurrencies measured: CONNECTIONS (50, as in bench/http.mjs) and 200. */
const LEVELS = [CONNECTIONS, 200];
const MOST = Math.max(...LEVELS);
/**
 * Connections each `ward serve` worker opens besides its pool: the LISTEN connections for API
 * key revocations and lockouts, and the session the background leader holds.
 */
const BACKGROUND_PER_WORKER = 3;
const RECORDS_PATH = '/v1/collections/patients/records';

/** A whole number from `min` to 9999 from the environment variable `name`, or `fallback`. */
function count(name, fallback, min = 1) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= min)) throw new Error(`${name}: expected a whole number from ${min} to 9999, got ${JSON.stringify(text)}`);
  return n;
}

const cores = availableParallelism();
const W = count('BENCH_WORKERS', cores);
const CLIENTS = count('BENCH_CLIENTS', cores);
/** Connections to PostgreSQL left to others (other clients of a shared server, this run's own admin ones). */
const headroomFor = (max) => count('BENCH_PG_HEADROOM', Math.max(10, Math.ceil(max / 5)), 0);

/** What `drive` measured, as a results row's figures. */
const figures = (m) => ({
  rps: Math.round(m.rps),
  p50Ms: m.p50,
  p99Ms: m.p99,
  processes: m.processes,
  machineBusyPct: m.cpu?.machineBusyPct ?? null,
});

/** Everything started is ended once, whichever of the run's end, an error or a signal comes first. */
const started = { ward: undefined, server: undefined, db: undefined, admin: undefined };
let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    killClients();
    const errors = [];
    const step = async (f) => {
      try {
        await f();
      } catch (e) {
        errors.push(e);
      }
    };
    await step(() => started.ward?.stop());
    started.ward = undefined;
    await step(() => started.admin?.end());
    await step(() => started.db?.drop());
    started.db = undefined;
    await step(() => started.server?.stop());
    started.server = undefined;
    if (errors.length) throw errors[0];
  })();
  return cleaning;
}
// Last resort, synchronous: no child outlives this process.
process.on('exit', () => {
  killClients();
  started.ward?.kill();
});
for (const signal of ['SIGINT', 'SIGTERM'])
  process.once(signal, () => {
    console.error(`bench: ${signal}, stopping`);
    cleanup().finally(() => process.exit(130));
  });

/**
 * The connections each side may hold: what max_connections leaves after the superuser reserve,
 * the connections open now and the headroom. Ward and raw run one after the other, so each may
 * use all of it.
 */
async function connectionBudget(admin) {
  const setting = async (name) => Number((await admin.query('SELECT current_setting($1, true) AS v', [name])).rows[0].v ?? 0);
  const max = await setting('max_connections');
  const reserved = (await setting('superuser_reserved_connections')) + (await setting('reserved_connections'));
  const open = Number((await admin.query("SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend'")).rows[0].n);
  const headroom = headroomFor(max);
  return { maxConnections: max, reserved, openAtStart: open, headroom, budget: max - reserved - open - headroom };
}

/** The most connections open to this database (other than the sampler's), sampled every 250 ms until `stop()`. */
function connectionSampler(admin) {
  let peak = 0;
  let failed;
  const sample = () =>
    admin.query('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()').then(
      ({ rows }) => {
        peak = Math.max(peak, Number(rows[0].n));
      },
      (e) => {
        failed ??= e;
      },
    );
  let pending = sample();
  const timer = setInterval(() => {
    pending = pending.then(sample);
  }, 250);
  return {
    async stop() {
      clearInterval(timer);
      await pending;
      if (failed) throw failed;
      return peak;
    },
  };
}

async function main() {
  // A throwaway server gets enough connections for W pools of MOST / W and the raw side.
  const wardNeed = W * (Math.ceil(MOST / W) + BACKGROUND_PER_WORKER);
  started.server = await startServer({ maxConnections: Math.ceil(Math.max(wardNeed, MOST) * 1.5) + 20 });
  const server = started.server;
  started.db = await createDatabase(server.url);
  const db = started.db;
  started.admin = new pg.Pool({ connectionString: db.url, max: 1 });
  const admin = started.admin;
  // DROP DATABASE ... WITH (FORCE) ends this pool's idle connection: expected then.
  admin.on('error', () => {});
  const postgres = (await admin.query('SHOW server_version')).rows[0].server_version;
  const conn = await connectionBudget(admin);
  // Per worker: enough that W pools cover MOST connections, within the budget.
  const poolSize = Math.min(Math.ceil(MOST / W), Math.floor(conn.budget / W) - BACKGROUND_PER_WORKER);
  if (poolSize < 1)
    throw new Error(
      `PostgreSQL's max_connections (${conn.maxConnections}) leaves ${conn.budget} connections to this bench: too few for ${W} workers (BENCH_WORKERS, BENCH_PG_HEADROOM)`,
    );
  const rawConnections = Math.min(MOST, conn.budget);
  console.log(
    `bench: ${W} workers × pool ${poolSize} (${W * poolSize} of ${conn.budget} connections available), ${CLIENTS} client processes`,
  );
  if (W * poolSize < MOST)
    console.warn(`bench: max_connections caps Ward's pools at ${W * poolSize} connections in all, under the ${MOST} wanted`);

  const masterKey = randomBytes(32).toString('base64');
  const headers = { authorization: '', 'ward-purpose': 'treatment', 'content-type': 'application/json' };
  const probe = () => cpuProbe(process.pid); // the machine's busy share (the process figures unused)
  const httpLoad = (concurrency, http) =>
    drive({ concurrency, processes: CLIENTS, http: { base: started.ward.base, headers, path: RECORDS_PATH, ...http }, probe: probe() });
  const creates = (concurrency) => httpLoad(concurrency, { method: 'POST' });
  const ids = async (table) => (await admin.query(`SELECT id FROM ${table} LIMIT 5000`)).rows.map((r) => r.id);

  // Ward with W workers. All load comes from 127.0.0.1: the per-client connection cap (128 by
  // default, per worker) is raised to MOST, as it would be for many clients.
  started.ward = await startWard(db.url, {
    masterKey,
    workers: W,
    serveArgs: ['--pool-size', String(poolSize), '--max-connections-per-client', String(MOST)],
  });
  headers.authorization = `Bearer ${started.ward.key}`;
  const sampler = connectionSampler(admin);
  const ward = { create: {}, get: {} };
  for (const c of LEVELS) ward.create[c] = await creates(c);
  const wardIds = await ids('ward_records');
  for (const c of LEVELS) ward.get[c] = await httpLoad(c, { method: 'GET', ids: wardIds });
  const wardPeak = await sampler.stop();
  await started.ward.stop();

  // One worker with its default pool, as bench/http.mjs runs it: the scaling factor.
  started.ward = await startWard(db.url, { masterKey, serveArgs: ['--max-connections-per-client', String(MOST)] });
  const oneWorker = await creates(CONNECTIONS);
  await started.ward.stop();
  started.ward = undefined;

  // Raw PostgreSQL, the same concurrencies from as many processes.
  await admin.query(`CREATE TABLE raw_patients (id uuid PRIMARY KEY, ${FIELDS.map((f) => `${f} text`).join(', ')})`);
  const rawLoad = (concurrency, op, rawIds = []) =>
    drive({
      concurrency,
      processes: CLIENTS,
      raw: { url: db.url, op, ids: rawIds, connections: rawConnections },
      probe: probe(),
    });
  const raw = { create: {}, get: {} };
  for (const c of LEVELS) raw.create[c] = await rawLoad(c, 'insert');
  const rawIds = await ids('raw_patients');
  for (const c of LEVELS) raw.get[c] = await rawLoad(c, 'select', rawIds);

  const ratio = (a, b) => Math.round((a.rps / b.rps) * 1000) / 1000;
  const rows = [];
  for (const [op, name] of [
    ['create', 'HTTP create'],
    ['get', 'HTTP get by id'],
  ])
    for (const c of LEVELS)
      rows.push({
        name: `${name}, ${c} connections`,
        workload: op,
        connections: c,
        ward: figures(ward[op][c]),
        raw: { ...figures(raw[op][c]), connections: raw[op][c].pools.reduce((a, b) => a + b, 0) },
        ratio: ratio(ward[op][c], raw[op][c]),
      });
  const at = (op, c) => rows.find((r) => r.workload === op && r.connections === c);
  const targets = LEVELS.map((c) => {
    const r = at('create', c);
    return {
      name: `creates/s ÷ raw inserts/s, ${c} connections, ${W} workers`,
      value: r.ratio,
      target: `≥ ${TARGETS.create}`,
      applicable: true,
      pass: r.ratio >= TARGETS.create,
    };
  });
  const p99 = Math.max(at('create', CONNECTIONS).ward.p99Ms, at('get', CONNECTIONS).ward.p99Ms);
  const rawP99 = Math.max(at('create', CONNECTIONS).raw.p99Ms, at('get', CONNECTIONS).raw.p99Ms);
  const p99Applies = rawP99 < TARGETS.rawP99Ms;
  targets.push({
    name: `p99 latency, ${CONNECTIONS} connections (worst of create, get)`,
    value: p99,
    unit: 'ms',
    target: `< ${TARGETS.p99Ms}`,
    applicable: p99Applies,
    pass: p99Applies ? p99 < TARGETS.p99Ms : null,
    ...(p99Applies
      ? {}
      : {
          reason: `raw PostgreSQL's own p99 at ${CONNECTIONS} callers (worst of insert, select) was ${rawP99} ms, not under ${TARGETS.rawP99Ms} ms`,
        }),
  });
  const results = {
    machine: { ...machine(), availableParallelism: cores, postgres },
    date: new Date().toISOString(),
    server: server.kind,
    loadGenerator: 'autocannon',
    seconds: SECONDS,
    warmupSeconds: WARMUP_SECONDS,
    workers: W,
    clientProcesses: CLIENTS,
    serveArgs: SERVE_ARGS,
    connections: { ...conn, wanted: MOST, poolPerWorker: poolSize, wardPools: W * poolSize, wardPeakOpen: wardPeak, raw: rawConnections },
    results: rows,
    oneWorker: {
      name: `HTTP create, ${CONNECTIONS} connections, 1 worker (default pool)`,
      ward: figures(oneWorker),
      scaling: ratio(ward.create[CONNECTIONS], oneWorker),
      ratio: ratio(oneWorker, raw.create[CONNECTIONS]),
    },
    targets,
  };
  writeFileSync(new URL('results-workers.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(new URL('RESULTS-workers.md', import.meta.url), report(results));
  for (const r of rows)
    console.log(
      `${r.name}: ${r.ward.rps} req/s, raw ${r.raw.rps} ops/s, ratio ${r.ratio}; p50/p99 ${r.ward.p50Ms}/${r.ward.p99Ms} ms (raw ${r.raw.p50Ms}/${r.raw.p99Ms})`,
    );
  console.log(
    `${results.oneWorker.name}: ${oneWorker.rps.toFixed(0)} req/s, ratio ${results.oneWorker.ratio}; ${W} workers: ${results.oneWorker.scaling}×`,
  );
  for (const t of targets)
    console.log(
      `target ${t.name}: ${t.value}${t.unit ? ` ${t.unit}` : ''} ${t.target}: ${t.applicable ? (t.pass ? 'pass' : 'MISS') : 'n/a'}`,
    );
}

const lat = (f) => `${f.p50Ms} / ${f.p99Ms} ms`;
const busy = (f) => (f.machineBusyPct === null ? '' : `${f.machineBusyPct}%`);

function report(r) {
  const m = r.machine;
  const c = r.connections;
  const rows = r.results.map(
    (x) =>
      `| ${x.name} | ${x.ward.rps} req/s | ${x.raw.rps} ops/s | ${x.ratio} | ${lat(x.ward)} | ${lat(x.raw)} | ${busy(x.ward)} / ${busy(x.raw)} |`,
  );
  const one = r.oneWorker;
  const targets = r.targets.map(
    (t) =>
      `| ${t.name} | ${t.value}${t.unit ? ` ${t.unit}` : ''} | ${t.target}${t.unit ? ` ${t.unit}` : ''} | ${t.applicable ? (t.pass ? 'yes' : '**no**') : `not applicable: ${t.reason}`} |`,
  );
  return `# Ward HTTP API with all cores in use vs raw PostgreSQL

Generated by \`npm run bench\` (bench/workers.mjs) on ${r.date}.

Machine: ${m.cpus} × ${m.cpuModel} (${m.availableParallelism} available), ${m.memGiB} GiB RAM, Node ${m.node}, PostgreSQL ${m.postgres} (${r.server}).

## Method

- **Ward**: \`ward serve --workers ${r.workers} --pool-size ${c.poolPerWorker} --max-connections-per-client ${Math.max(...r.results.map((x) => x.connections))}\`${r.serveArgs.length ? ` ${r.serveArgs.join(' ')}` : ''}
  (${r.workers} worker processes sharing the port, one per core unless BENCH_WORKERS says otherwise;
  ${c.wardPools} pooled database connections in all${c.wardPools < c.wanted ? `, **capped by max_connections** (${c.wanted} wanted)` : ''}; at most ${c.wardPeakOpen} were open to the
  database at once during its runs, background ones included, sampled every 250 ms). All load comes
  from 127.0.0.1, so the per-client connection cap (default 128 per worker) is raised to the highest
  concurrency. A clinician key and purpose \`treatment\`: every request is authenticated, authorized and audited.
  Creates POST a new patient each; gets read by id over 5,000 of the records the creates made.
- **Load**: ${r.clientProcesses} client processes (one per core unless BENCH_CLIENTS says otherwise), each running
  autocannon with an even share of the connections, started together: ${r.warmupSeconds} s of warm-up, then ${r.seconds} s measured.
  Throughput is the sum of the processes' completed requests over ${r.seconds} s. Latency is each request's, from
  its send to its answer as autocannon times it; **p50 and p99 come from the merged histogram** of every
  process's latencies (10 µs buckets), not from per-process percentiles.
- **Raw PostgreSQL**: the same server and database, same run, after Ward has stopped: single-row INSERT
  of the same patient into a plaintext table (\`id uuid PRIMARY KEY\` and one \`text\` column per field,
  as bench/http.mjs; no secondary indexes), and SELECT by primary key over 5,000 of its rows. The same
  concurrency (callers in all) from as many client processes, each with its own node-postgres pool;
  ${c.raw} connections in all at most (fewer callers get one each; more share them, and their
  latency includes the wait for one). Timed per call, merged the same way.
- **Connections**: max_connections ${c.maxConnections}, ${c.reserved} reserved for superusers, ${c.openAtStart} open at the start,
  ${c.headroom} left as headroom (BENCH_PG_HEADROOM): ${c.budget} for this bench, used by Ward and then by raw.
- **Reference**: \`ward serve --workers 1\` with its default pool (as bench/http.mjs runs it), creates at
  ${CONNECTIONS} connections, same load generator.

Load generator, server and PostgreSQL share the machine's cores. "Busy" is how busy the whole
machine was during the measured seconds (from /proc/stat).

| workload | Ward (${r.workers} workers) | raw | ratio | Ward p50 / p99 | raw p50 / p99 | busy Ward / raw |
|---|--:|--:|--:|--:|--:|--:|
${rows.join('\n')}

${one.name}: ${one.ward.rps} req/s (${one.ratio} of raw), p50 / p99 ${lat(one.ward)}.
${r.workers} workers reached **${one.scaling}×** that. Each worker has its own crypto threads, and they share the
cores with the load generator and PostgreSQL: on a machine with few cores this factor shows what
more processes buy there, not what they buy where cores are free.

Ward's concurrent requests share statements, so it opens far fewer database connections than its
pools allow (the peak above); the raw side gives every caller its own connection up to the limit,
so at ${MOST} callers PostgreSQL runs that many backends on the same cores.

## Targets

| target | measured | target | pass |
|---|--:|--:|:-:|
${targets.join('\n')}

The p99 target applies where raw PostgreSQL's own p99 at ${CONNECTIONS} concurrent callers (worst of insert
and select) is under ${TARGETS.rawP99Ms} ms: with the database itself slower, no server in front of it can
answer within it.
`;
}

let failure;
try {
  await main();
} catch (e) {
  failure = e;
}
try {
  await cleanup();
} catch (e) {
  failure ??= e;
}
if (failure) console.error(failure);
process.exit(failure ? 1 : 0);
