/**
 * `ward serve` in a child process for HTTP benchmarks, and the HTTP load generators with the
 * shared settings: wrk (a C program: it takes less of the machine's CPU from the server) when
 * it is on the PATH, else autocannon; WARD_BENCH_LOADGEN=autocannon|wrk chooses.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { EXAMPLE_CONFIG } from '../../dist/config/example.js';
import { patient } from './data.mjs';

/**
 * The example config with its events section removed (no topic: creates write no outbox rows),
 * which the library, HTTP and audit benchmarks use so their ratios compare with earlier runs;
 * bench/events.mjs measures what events cost.
 */
export const withoutEvents = (text) => {
  const at = text.indexOf('\n# Change events');
  if (at < 0) throw new Error('bench: the example config has no events section to remove; update withoutEvents');
  return `${text.slice(0, at)}\n`;
};
export const BENCH_CONFIG = withoutEvents(EXAMPLE_CONFIG);

export const CONNECTIONS = 50;
/** Extra `ward serve` options from WARD_BENCH_SERVE_ARGS (e.g. "--crypto-threads 0"), to compare settings. */
export const SERVE_ARGS = process.env.WARD_BENCH_SERVE_ARGS?.split(' ').filter(Boolean) ?? [];
export const SECONDS = 6;
const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;
const BARE = new URL('./bare-vault.mjs', import.meta.url).pathname;

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/**
 * `ward serve` on database `url` with a clinician key; resolves once it listens (with `workers`
 * above 1, once every worker listens). `config` is the ward.yaml text (default: the example),
 * `masterKey` the database's master key (default: a new one, for a new database), `serveArgs`
 * more `ward serve` options (before WARD_BENCH_SERVE_ARGS, which win). With `bare`, the process
 * is bench/lib/bare-vault.mjs instead: the same vault behind bare node:http. `kill()` ends the
 * server at once and removes its directory, synchronously (for an exit handler).
 */
export async function startWard(
  url,
  { config = BENCH_CONFIG, masterKey = randomBytes(32).toString('base64'), bare = false, workers = 1, serveArgs = [] } = {},
) {
  const dir = mkdtempSync(join(tmpdir(), 'ward-bench-http-'));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  try {
    writeFileSync(join(dir, 'ward.yaml'), config);
    const env = { ...process.env, DATABASE_URL: url, WARD_MASTER_KEY: masterKey };
    const ward = (...args) => execFileSync(process.execPath, [CLI, ...args], { cwd: dir, env, encoding: 'utf8' });
    ward('migrate');
    const { key } = JSON.parse(ward('apikey', 'create', '--role', 'clinician', '--name', 'bench', '--json'));
    const port = await freePort();
    // WARD_BENCH_NODE_FLAGS passes Node flags to the server (e.g. --cpu-prof to profile it).
    const flags = process.env.WARD_BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
    // Metrics on a port of their own, any free one: servers of one run may overlap.
    const args = bare
      ? [...flags, BARE, String(port)]
      : [...flags, CLI, 'serve', '--workers', String(workers), '--port', String(port), '--metrics-port', '0', ...serveArgs, ...SERVE_ARGS];
    const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve, reject) => {
        // Each worker logs its own line; the primary's stdout is theirs too.
        let listening = 0;
        let partial = '';
        const onData = (d) => {
          const lines = (partial + d).split('\n');
          partial = lines.pop() ?? '';
          listening += lines.filter((l) => l.includes('ward server listening')).length;
          if (listening >= (bare ? 1 : workers)) {
            child.stdout.off('data', onData);
            resolve();
          }
        };
        child.stdout.on('data', onData);
        child.once('exit', (code) => reject(new Error(`ward serve exited with ${code}`)));
      });
    } catch (e) {
      child.kill('SIGKILL');
      throw e;
    }
    if (process.env.WARD_BENCH_SERVER_LOG) child.stdout.pipe(createWriteStream(process.env.WARD_BENCH_SERVER_LOG, { flags: 'a' }));
    else child.stdout.resume();
    const peakRssMb = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024;
    // Stops the server and removes its directory (its ward.yaml); at once if it has exited already.
    const stop = () =>
      new Promise((resolve) => {
        child.removeAllListeners('exit');
        if (child.exitCode !== null || child.signalCode !== null) {
          removeDir();
          resolve();
          return;
        }
        child.once('exit', () => {
          removeDir();
          resolve();
        });
        child.kill('SIGTERM');
      });
    const kill = () => {
      child.kill('SIGKILL'); // workers of a cluster leave when their primary's channel closes
      removeDir();
    };
    return { base: `http://127.0.0.1:${port}`, key, pid: child.pid, peakRssMb, stop, kill };
  } catch (e) {
    removeDir();
    throw e;
  }
}

export function cannon(opts) {
  return new Promise((resolve, reject) =>
    autocannon({ connections: CONNECTIONS, duration: SECONDS, ...opts }, (err, r) => (err ? reject(err) : resolve(r))),
  );
}

function hasWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (e) {
    return e.code !== 'ENOENT'; // wrk --version exits 1 after printing its version
  }
}

/** The load generator `load` uses: `wrk` or `autocannon`. */
export const LOADGEN = process.env.WARD_BENCH_LOADGEN ?? (hasWrk() ? 'wrk' : 'autocannon');

/**
 * Drives `base` with CONNECTIONS connections for SECONDS (after a short warm-up): GET `paths()`
 * each time, or POST `bodies()` to `path`. Returns { rps, p50, p99 (ms), requests, non2xx, tool },
 * and `cpu`, what `probe` (see cpu.mjs) measured over the measured run, when one is given.
 */
export async function load(opts) {
  // A short unmeasured run first: connections, JIT and caches warm, as in a running service.
  // Both runs' request lines are written before either starts, so the measured run follows the
  // warm-up at once: an idle pause between them would let the server cool down again (V8 shrinks
  // an idle process's heap, and the first seconds after it collect garbage much more often).
  const warm = prepare({ ...opts, seconds: WARMUP_SECONDS });
  const measured = prepare({ ...opts, seconds: SECONDS });
  try {
    const w = await warm.run();
    if (w.non2xx) throw new Error(`${w.non2xx} warm-up requests failed`);
    opts.probe?.start();
    const r = await measured.run();
    return opts.probe ? { ...r, cpu: opts.probe.stop() } : r;
  } finally {
    warm.dispose();
    measured.dispose();
  }
}

/** The unmeasured run before each measured one, in seconds. */
export const WARMUP_SECONDS = 2;

function prepare({ base, headers, method = 'GET', path, paths, bodies, seconds }) {
  if (LOADGEN === 'wrk') return wrk({ base, headers, method, path, paths, bodies, seconds });
  const run = async () => {
    const r = await cannon({
      url: base,
      duration: seconds,
      headers,
      requests: [
        {
          setupRequest: (req) => (method === 'POST' ? { ...req, method, path, body: bodies() } : { ...req, method, path: paths() }),
        },
      ],
    });
    return {
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      requests: r.requests.total,
      non2xx: r.non2xx,
      tool: 'autocannon',
    };
  };
  return { run, dispose: () => {} };
}

/** Distinct request lines per second of a wrk run: more than any rate seen here (wrk cycles them). */
const LINES_PER_SECOND = 20_000;

/** A wrk run, its request lines and script written; `run` starts it, `dispose` removes the files. */
function wrk({ base, headers, method, path, paths, bodies, seconds }) {
  const dir = mkdtempSync(join(tmpdir(), 'ward-bench-wrk-'));
  const data = join(dir, 'lines');
  const lines = Array.from({ length: LINES_PER_SECOND * seconds }, () => (method === 'POST' ? bodies() : paths()));
  if (lines.some((l) => l.includes('\n'))) throw new Error('request lines must not contain newlines');
  writeFileSync(data, `${lines.join('\n')}\n`);
  const lua = join(dir, 'script.lua');
  writeFileSync(
    lua,
    `local lines, i = {}, 0
for line in io.lines(${JSON.stringify(data)}) do lines[#lines + 1] = line end
${Object.entries(headers)
  .map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
  .join('\n')}
request = function()
  i = i % #lines + 1
  ${method === 'POST' ? `return wrk.format("POST", ${JSON.stringify(path)}, nil, lines[i])` : 'return wrk.format("GET", lines[i])'}
end
`,
  );
  const count = lines.length;
  const run = async () => {
    const out = await new Promise((resolve, reject) =>
      execFile('wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', '-s', lua, base], { encoding: 'utf8' }, (e, stdout) =>
        e ? reject(e) : resolve(stdout),
      ),
    );
    const requests = Number(/(\d+) requests in/.exec(out)?.[1]);
    if (requests >= count) throw new Error('wrk ran out of distinct request lines; raise LINES_PER_SECOND');
    const socketErrors = /Socket errors: (.*)/.exec(out)?.[1];
    if (socketErrors) throw new Error(`wrk: socket errors (${socketErrors})`);
    return {
      rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
      p50: ms(/\s50%\s+([\d.]+)(us|ms|s)/.exec(out)),
      p99: ms(/\s99%\s+([\d.]+)(us|ms|s)/.exec(out)),
      requests,
      non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
      tool: 'wrk',
    };
  };
  return { run, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

const ms = (m) => (m ? Math.round(Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]] * 100) / 100 : Number.NaN);

/**
 * Creates of patients against a running `ward` (startWard) as its clinician, for treatment: `body`
 * makes each request's record (default a new synthetic patient). Fails when any create failed.
 */
export async function loadCreates(ward, body = patient) {
  const headers = { authorization: `Bearer ${ward.key}`, 'ward-purpose': 'treatment', 'content-type': 'application/json' };
  const r = await load({
    base: ward.base,
    headers,
    method: 'POST',
    path: '/v1/collections/patients/records',
    bodies: () => JSON.stringify(body()),
  });
  if (r.non2xx) throw new Error(`${r.non2xx} create requests failed`);
  return r;
}
