/**
 * The sealed audit log, same server, same run:
 * - sealing: 200,000 committed audit events (from 200 transactions) folded into the Merkle tree
 *   and signed, against raw PostgreSQL inserting the same events;
 * - verification: recomputing and checking the whole log, against raw node-postgres reading the
 *   same rows;
 * - the cost of sealing to the API's write throughput: `ward serve` with sealing off and with
 *   sealing every second, HTTP create with 50 connections, alternated (off, on, on, off).
 * Writes bench/results-audit.json and bench/RESULTS-audit.md. Run by `npm run bench`.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { parseConfig } from '../dist/config/load.js';
import { openVault } from '../dist/vault/open.js';
import { createDatabase, machine, startServer } from './lib/server.mjs';
import { BENCH_CONFIG, CONNECTIONS, LOADGEN, loadCreates, SECONDS, startWard } from './lib/ward.mjs';

const WRITE_RUNS = ['off', '1s', '1s', 'off', 'off', '1s', '1s', 'off'];

const EVENTS = 200_000;
const PER_TX = 1_000;
const TARGETS = { seal: 5_000, verify: 200_000, writeCost: 0.1 };

const EVENT_SQL = `INSERT INTO ward_audit_events (actor, role, action, collection, record_ids, fields, purpose, outcome, request_id, client)
  SELECT 'key:' || substr(md5(i::text), 1, 10), 'clinician', 'read', 'patients', ARRAY[gen_random_uuid()],
         '{name,dob,ssn,diagnosis}', 'treatment', 'allowed', gen_random_uuid()::text, '127.0.0.1'
  FROM generate_series(1, ${PER_TX}) AS i`;

const seconds = (start) => Number(process.hrtime.bigint() - start) / 1e9;

/** 200 transactions of 1,000 events each: the writes the sealer then has to catch up with. */
async function seedEvents(pool) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < EVENTS / PER_TX; i++) await pool.query(EVENT_SQL);
  return EVENTS / seconds(start);
}

/** Raw read of every event through node-postgres, in the pages verification uses. */
async function rawRead(pool) {
  const start = process.hrtime.bigint();
  let after = 0;
  let n = 0;
  for (;;) {
    const { rows } = await pool.query('SELECT * FROM ward_audit_events WHERE seq > $1 ORDER BY seq LIMIT 20000', [after]);
    if (!rows.length) break;
    n += rows.length;
    after = rows[rows.length - 1].seq;
  }
  return n / seconds(start);
}

/** HTTP create throughput of a fresh `ward serve` on a fresh database with the given seal_every. */
async function createRate(adminUrl, sealEvery) {
  const config = BENCH_CONFIG.replace('seal_every: 10s', `seal_every: ${sealEvery}`);
  const db = await createDatabase(adminUrl);
  const ward = await startWard(db.url, { config });
  try {
    return (await loadCreates(ward)).rps;
  } finally {
    await ward.stop();
    await db.drop();
  }
}

async function main() {
  const server = await startServer();
  const db = await createDatabase(server.url);
  const masterKey = randomBytes(32).toString('base64');
  const env = { DATABASE_URL: db.url, WARD_MASTER_KEY: masterKey };
  const vault = await openVault(parseConfig(BENCH_CONFIG, '/bench/ward.yaml', env), { env, migrations: 'auto' });
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  try {
    const insertRate = await seedEvents(pool);
    let start = process.hrtime.bigint();
    const sealed = await vault.sealAudit(60_000);
    const sealRate = sealed.sealed / seconds(start);
    if (sealed.sealed < EVENTS) throw new Error(`sealed only ${sealed.sealed} of ${EVENTS} events`);

    start = process.hrtime.bigint();
    const report = await vault.verifyAudit();
    const verifyRate = report.treeSize / seconds(start);
    if (!report.ok) throw new Error(`verification failed: ${report.problem?.message}`);
    const readRate = await rawRead(pool);

    // Sealing's cost to writers: each run on a fresh database (so table growth favours neither
    // side), alternating so that drift in the machine's speed does not either.
    const off = [];
    const on = [];
    for (const mode of WRITE_RUNS) (mode === 'off' ? off : on).push(await createRate(server.url, mode));
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const cost = 1 - mean(on) / mean(off);
    const after = await vault.verifyAudit();
    if (!after.ok) throw new Error(`verification after the HTTP load failed: ${after.problem?.message}`);

    const round = (x, d = 0) => Math.round(x * 10 ** d) / 10 ** d;
    const results = {
      machine: machine(),
      date: new Date().toISOString(),
      server: server.kind,
      results: [
        {
          name: `seal ${EVENTS} committed events`,
          unit: 'events/s',
          value: round(sealRate),
          baseline: round(insertRate),
          baselineName: 'raw INSERT of the same events',
          ratio: round(sealRate / insertRate, 3),
          target: TARGETS.seal,
          pass: sealRate >= TARGETS.seal,
        },
        {
          name: `verify the log of ${report.treeSize} events`,
          unit: 'events/s',
          value: round(verifyRate),
          baseline: round(readRate),
          baselineName: 'raw SELECT of the same rows',
          ratio: round(verifyRate / readRate, 3),
          target: TARGETS.verify,
          pass: verifyRate >= TARGETS.verify,
        },
        {
          name: `HTTP create, ${CONNECTIONS} connections, sealing every 1 s vs off`,
          unit: 'req/s',
          value: round(mean(on)),
          baseline: round(mean(off)),
          baselineName: 'the same server with sealing off',
          ratio: round(mean(on) / mean(off), 3),
          cost: round(cost, 3),
          runs: { on: on.map((x) => round(x)), off: off.map((x) => round(x)) },
          target: TARGETS.writeCost,
          pass: cost < TARGETS.writeCost,
        },
      ],
    };
    writeFileSync(new URL('results-audit.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(new URL('RESULTS-audit.md', import.meta.url), markdown(results));
    for (const r of results.results)
      console.log(`${r.name}: ${r.value} ${r.unit} (${r.baselineName}: ${r.baseline}, ratio ${r.ratio}) ${r.pass ? 'pass' : 'MISS'}`);
  } finally {
    await vault.close();
    await pool.end();
    await db.drop();
    await server.stop();
  }
}

function markdown(r) {
  const [seal, verify, write] = r.results;
  const yes = (x) => (x.pass ? 'yes' : '**no**');
  return `# Ward's sealed audit log

Generated by \`npm run bench\` (bench/audit.mjs) on ${r.date}; ${r.machine.cpus} × ${r.machine.cpuModel}, Node ${r.machine.node}, PostgreSQL from ${r.server}.

| measure | Ward | baseline | ratio | target | pass |
|---|--:|--:|--:|--:|:-:|
| ${seal.name} | ${seal.value} events/s | ${seal.baseline} (${seal.baselineName}) | ${seal.ratio} | ≥ ${seal.target} events/s | ${yes(seal)} |
| ${verify.name} | ${verify.value} events/s | ${verify.baseline} (${verify.baselineName}) | ${verify.ratio} | ≥ ${verify.target} events/s | ${yes(verify)} |
| ${write.name} | ${write.value} req/s | ${write.baseline} (${write.baselineName}) | ${write.ratio} | cost < ${write.target * 100}% | ${yes(write)} (cost ${round1(write.cost * 100)}%) |

Method. Sealing: ${EVENTS} audit events committed by ${EVENTS / PER_TX} transactions, then one
\`ward audit seal\` (rounds of 10,000 events: read in (txid, seq) order, hash, insert the leaves,
sign one Ed25519 checkpoint per round). Verification: \`ward audit verify\` over the whole log
(reads every event and leaf, recomputes every leaf hash and the tree, checks every checkpoint's
signature and root). Write cost: a fresh \`ward serve\` on a fresh database for each of ${WRITE_RUNS.length} ${SECONDS} s runs
of ${LOADGEN} (${CONNECTIONS} connections, HTTP create, after a 2 s warm-up), with \`audit.seal_every\` ${WRITE_RUNS.join(', ')}; runs
with sealing on: ${write.runs.on.join(', ')} req/s; off: ${write.runs.off.join(', ')} req/s. A
negative cost means the difference is within this machine's run-to-run noise.
`;
}

const round1 = (x) => Math.round(x * 10) / 10;

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
