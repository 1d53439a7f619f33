/**
 * Load from several processes (bench/lib/load-client.mjs), so that the load generator is not
 * held to one core: `drive` splits the concurrency evenly over them, starts their runs together
 * and merges what they measured. `killClients` ends any still running, synchronously (for an
 * exit handler).
 */
import { fork } from 'node:child_process';
import { SECONDS, WARMUP_SECONDS } from './ward.mjs';

const CLIENT = new URL('./load-client.mjs', import.meta.url).pathname;
const live = new Set();
/** Each process creates patients with serials from its own range (mrns are unique in Ward). */
const SERIALS_PER_PROCESS = 10_000_000;
let serialRanges = 0;

export function killClients() {
  for (const c of live) c.kill('SIGKILL');
  live.clear();
}

/** `n` split into `parts` integers that differ by at most one, the larger first. */
export const split = (n, parts) => Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));

/** One forked client: `ask(message)` resolves with its next answer, rejects on an error or an exit. */
function client() {
  const child = fork(CLIENT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  live.add(child);
  let waiting;
  const fail = (e) => {
    const w = waiting;
    waiting = undefined;
    w?.reject(e);
  };
  child.on('message', (m) => {
    const w = waiting;
    waiting = undefined;
    if (m.type === 'error') w?.reject(new Error(`load client: ${m.message}`));
    else w?.resolve(m);
  });
  child.on('error', fail);
  child.on('exit', (code, signal) => {
    live.delete(child);
    fail(new Error(`load client exited (${signal ?? code}) before answering`));
  });
  return {
    ask: (m) =>
      new Promise((resolve, reject) => {
        waiting = { resolve, reject };
        child.send(m);
      }),
    close: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.send({ type: 'close' });
      }),
  };
}

/** The latency at quantile `q` of merged sparse histograms (10 µs buckets), in ms to two places. */
function quantile(sorted, total, q) {
  const rank = Math.min(total - 1, Math.floor(q * total));
  let seen = 0;
  for (const [k, n] of sorted) {
    seen += n;
    if (seen > rank) return k / 100;
  }
  return Number.NaN;
}

/**
 * Drives `concurrency` in all, split over `processes` clients (at most one per unit of
 * concurrency): `http` is { base, headers, method, path, ids } for autocannon connections to
 * Ward, `raw` is { url, op: 'insert' | 'select', ids, connections } for node-postgres callers,
 * `connections` of them in all, pooled per process. A warm-up of WARMUP_SECONDS first, then
 * SECONDS measured, all processes started together. Returns { rps, p50, p99 (ms), count,
 * processes, split, cpu }, `cpu` what `probe` (cpu.mjs) measured over the measured run.
 */
export async function drive({ concurrency, processes, http, raw, probe }) {
  const n = Math.max(1, Math.min(processes, concurrency));
  const shares = split(concurrency, n);
  const pools = raw ? split(Math.min(raw.connections, concurrency), n).map((x) => Math.max(1, x)) : [];
  const clients = shares.map(() => client());
  try {
    await Promise.all(
      clients.map((c, i) => {
        const serialStart = ++serialRanges * SERIALS_PER_PROCESS;
        return c.ask(
          http
            ? { type: 'setup', kind: 'http', serialStart, connections: shares[i], ...http }
            : { type: 'setup', kind: 'raw', serialStart, callers: shares[i], poolSize: pools[i], ...raw },
        );
      }),
    );
    const run = (seconds, record) => Promise.all(clients.map((c) => c.ask({ type: 'run', seconds, record })));
    const check = (answers, what) => {
      const non2xx = answers.reduce((a, r) => a + r.non2xx, 0);
      const errors = answers.reduce((a, r) => a + r.errors, 0);
      if (non2xx || errors) throw new Error(`${what}: ${non2xx} non-2xx answers, ${errors} errors`);
    };
    check(await run(WARMUP_SECONDS, false), 'warm-up');
    probe?.start();
    const answers = await run(SECONDS, true);
    const cpu = probe?.stop();
    check(answers, 'measured run');
    const merged = new Map();
    for (const a of answers) for (const [k, c] of a.hist) merged.set(k, (merged.get(k) ?? 0) + c);
    const sorted = [...merged].sort((a, b) => a[0] - b[0]);
    const count = answers.reduce((a, r) => a + r.count, 0);
    return {
      rps: count / SECONDS,
      p50: quantile(sorted, count, 0.5),
      p99: quantile(sorted, count, 0.99),
      count,
      processes: n,
      split: shares,
      ...(raw ? { pools } : {}),
      cpu: cpu ?? null,
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
}
