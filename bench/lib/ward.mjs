/** `ward serve` in a child process for HTTP benchmarks, and autocannon with the shared settings. */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { EXAMPLE_CONFIG } from '../../dist/config/example.js';

export const CONNECTIONS = 50;
export const SECONDS = 6;
const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname;

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

/**
 * `ward serve` on database `url` with a clinician key; resolves once it listens. `config` is the
 * ward.yaml text (default: the example), `poolSize` its --pool-size (default: serve's),
 * `masterKey` the database's master key (default: a new one, for a new database).
 */
export async function startWard(url, { config = EXAMPLE_CONFIG, poolSize, masterKey = randomBytes(32).toString('base64') } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ward-bench-http-'));
  writeFileSync(join(dir, 'ward.yaml'), config);
  const env = { ...process.env, DATABASE_URL: url, WARD_MASTER_KEY: masterKey };
  const ward = (...args) => execFileSync(process.execPath, [CLI, ...args], { cwd: dir, env, encoding: 'utf8' });
  ward('migrate');
  const { key } = JSON.parse(ward('apikey', 'create', '--role', 'clinician', '--name', 'bench', '--json'));
  const port = await freePort();
  const args = [CLI, 'serve', '--port', String(port), ...(poolSize ? ['--pool-size', poolSize] : [])];
  const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => String(d).includes('ward server listening') && resolve());
    child.once('exit', (code) => reject(new Error(`ward serve exited with ${code}`)));
  });
  child.stdout.resume();
  const peakRssMb = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]) / 1024;
  const stop = () =>
    new Promise((resolve) => {
      child.removeAllListeners('exit');
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  return { base: `http://127.0.0.1:${port}`, key, peakRssMb, stop };
}

export function cannon(opts) {
  return new Promise((resolve, reject) =>
    autocannon({ connections: CONNECTIONS, duration: SECONDS, ...opts }, (err, r) => (err ? reject(err) : resolve(r))),
  );
}
