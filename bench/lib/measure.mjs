/** Throughput measurement: bounded concurrent loops, warm-up, interleaved repeats, medians. */

/**
 * Runs `op` in `workers` concurrent loops until `count` ops have started or `ms` have passed,
 * whichever comes first. Returns how many completed, the rate in ops per second and this
 * process's CPU time (user + system) per op in µs: the client-side cost of one op.
 */
export async function run(op, workers, { ms, count = Number.POSITIVE_INFINITY }) {
  let started = 0;
  let done = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const deadline = start + ms;
  const loop = async () => {
    while (started < count && performance.now() < deadline) {
      started++;
      await op();
      done++;
    }
  };
  await Promise.all(Array.from({ length: workers }, loop));
  const elapsed = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { ops: done, rate: done / elapsed, cpuPerOp: (used.user + used.system) / Math.max(done, 1) };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Warms both sides up, measures each `reps` times and returns the median rates and client CPU
 * per op. Reads run for `ms` each. Writes (`sameCount`) run a fixed op count set from Ward's
 * warm-up rate, so both tables grow by the same number of rows and later reads compare tables
 * of equal size; a time cap of 4 × `ms` keeps a slow side bounded.
 */
export async function compare(ward, raw, { workers, ms, warmupMs, reps, sameCount = false }) {
  const warm = await run(ward, workers, { ms: warmupMs });
  await run(raw, workers, sameCount ? { count: warm.ops, ms: warmupMs * 4 } : { ms: warmupMs });
  const plan = sameCount ? { count: Math.max(workers, Math.round((warm.rate * ms) / 1000)), ms: ms * 4 } : { ms };
  const w = [];
  const r = [];
  for (let i = 0; i < reps; i++) {
    // Alternate which side goes first so drift (table growth, autovacuum) hits both alike.
    if (i % 2 === 0) {
      w.push(await run(ward, workers, plan));
      r.push(await run(raw, workers, plan));
    } else {
      r.push(await run(raw, workers, plan));
      w.push(await run(ward, workers, plan));
    }
  }
  if (process.env.BENCH_VERBOSE) {
    const show = (xs) => xs.map((x) => `${x.rate.toFixed(0)}/s (${x.ops} ops, ${x.cpuPerOp.toFixed(0)} µs CPU/op)`).join(', ');
    console.log(`  ward: ${show(w)}\n  raw:  ${show(r)}`);
  }
  const med = (xs, k) => median(xs.map((x) => x[k]));
  return { ward: med(w, 'rate'), raw: med(r, 'rate'), cpu: { ward: med(w, 'cpuPerOp'), raw: med(r, 'cpuPerOp') } };
}

/** Mean microseconds per call over `n` sequential calls; `fn` gets a fresh index each call. */
export async function microsPer(fn, n, warmup = Math.ceil(n / 10)) {
  let k = 0;
  for (let i = 0; i < warmup; i++) await fn(k++);
  const start = performance.now();
  for (let i = 0; i < n; i++) await fn(k++);
  return ((performance.now() - start) * 1000) / n;
}

/** The same for synchronous CPU-only work, without an await per call to blur the result. */
export function microsPerSync(fn, n) {
  const start = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return ((performance.now() - start) * 1000) / n;
}
