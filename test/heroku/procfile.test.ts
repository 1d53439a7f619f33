/**
 * The Procfile's commands, run as Heroku runs them (`sh -c`, with PORT, DATABASE_URL and
 * WEB_CONCURRENCY set): `release` migrates, `web` serves with two workers sharing the port, and
 * SIGTERM stops every worker gracefully. Needs `npm run build` (it runs dist/cli/main.js).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { assertNoDebugger } from '../../src/http/server.js';
import { initialized, ward } from '../cli/harness.js';
import { freePort } from '../free-port.js';
import { canaryPatient, freshDb, newMasterKey, type TestDb } from '../helpers.js';

const ROOT = join(import.meta.dirname, '../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function procfile(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(ROOT, 'Procfile'), 'utf8').split('\n')) {
    const m = /^([a-z]+):\s*(.+)$/.exec(line.trim());
    if (m) out[m[1] as string] = m[2] as string;
  }
  return out;
}

describe('the Procfile and app.json', () => {
  let t: TestDb | undefined;
  let web: ChildProcess | undefined;
  afterAll(async () => {
    if (web && web.exitCode === null) web.kill('SIGKILL');
    await t?.dispose();
  });

  it('app.json names the Postgres add-on, a web formation and the variables Ward needs; heroku/ward.yaml loads', () => {
    const app = JSON.parse(readFileSync(join(ROOT, 'app.json'), 'utf8'));
    expect(app.addons.map((a: { plan: string }) => a.plan.split(':')[0])).toContain('heroku-postgresql');
    expect(app.formation.web.quantity).toBeGreaterThan(0);
    expect(app.env.WARD_MASTER_KEY.required).toBe(true);
    expect(app.env.WARD_CONFIG.value).toBe('heroku/ward.yaml');
    const cfg = parseConfig(readFileSync(join(ROOT, 'heroku/ward.yaml'), 'utf8'), join(ROOT, 'heroku/ward.yaml'), {
      DATABASE_URL: 'postgres://h/d',
    });
    expect([cfg.keys.provider, cfg.database.kind]).toEqual(['env', 'url']);
  });

  it('release migrates; web serves on $PORT with $WEB_CONCURRENCY workers; SIGTERM stops them all', async () => {
    const { release, web: webCommand } = procfile();
    expect(release && webCommand).toBeTruthy();
    t = await freshDb('pg', { empty: true });
    const port = await freePort();
    const { DATABASE_URL: _d, WARD_CONFIG: _c, NATS_URL: _n, ...rest } = process.env;
    const env = {
      ...rest,
      DATABASE_URL: t.location,
      WARD_CONFIG: 'heroku/ward.yaml',
      WARD_MASTER_KEY: newMasterKey(),
      PORT: String(port),
      WEB_CONCURRENCY: '2',
      WARD_METRICS_PORT: String(await freePort()),
      WARD_LOG_LEVEL: 'info',
    };
    const migrated = await promisify(execFile)('sh', ['-c', release as string], { cwd: ROOT, env });
    expect(migrated.stdout).toMatch(/^applied 0001_init\.sql, /);
    const { stdout: created } = await promisify(execFile)(
      process.execPath,
      ['dist/cli/main.js', 'apikey', 'create', '--role', 'clinician', '--name', 'procfile', '--json'],
      {
        cwd: ROOT,
        env,
      },
    );
    const { key } = JSON.parse(created);
    web = spawn('sh', ['-c', `exec ${webCommand}`], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    web.stdout?.on('data', (c) => {
      out += c;
    });
    web.stderr?.on('data', () => {});
    const listening = () => out.split('\n').filter((l) => l.includes('"ward server listening"'));
    for (let i = 0; i < 200 && listening().length < 2; i++) await sleep(50);
    expect(new Set(listening().map((l) => JSON.parse(l).pid)).size).toBe(2);
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`http://127.0.0.1:${port}/v1/collections/patients/records`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'ward-purpose': 'treatment',
          'content-type': 'application/json',
          'x-forwarded-proto': 'https',
        },
        body: JSON.stringify(canaryPatient()),
      });
      expect(res.status).toBe(201);
    }
    const exited = new Promise<number | null>((done) => web?.once('exit', (code) => done(code)));
    web.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('every worker has stopped');
    const [row] = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM ward_records');
    expect(row?.n).toBe(10);
  }, 30_000);
});

describe('the runtime in a production space', () => {
  const production = () => {
    const cfg = parseConfig(readFileSync(join(ROOT, 'heroku/ward.yaml'), 'utf8'), join(ROOT, 'heroku/ward.yaml'), {
      DATABASE_URL: 'postgres://h/d?sslmode=verify-full',
    });
    return { ...cfg, space: { name: 'prod', tier: 'production' as const } };
  };

  it('rule: a production space refuses to run with the Node inspector, from a flag or NODE_OPTIONS', () => {
    for (const [argv, options] of [
      [['--inspect'], ''],
      [['--inspect-brk=0.0.0.0:9229'], ''],
      [[], '--max-old-space-size=512 --inspect=9229'],
    ] as const)
      expect(() => assertNoDebugger(production(), argv, options)).toThrow(/refuses to run with the Node inspector/);
    expect(() => assertNoDebugger(production(), ['--enable-source-maps'], '--max-old-space-size=512')).not.toThrow();
    expect(() => assertNoDebugger({ ...production(), space: { name: 'dev', tier: 'nonproduction' } }, ['--inspect'], '')).not.toThrow();
  });

  it('--workers above 1 is refused on the embedded database, which one process holds', async () => {
    const dir = await initialized('ward-workers-');
    const r = await ward(dir, ['serve', '--workers', '2', '--port', '0']);
    expect(r).toMatchObject({ code: 1, stderr: expect.stringContaining('--workers: the embedded database is held by one process') });
  });
});
