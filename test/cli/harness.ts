/**
 * The `ward` command line run in-process, as `runCli` with captured streams: what a user sees on
 * stdout and stderr, and the exit code, without a process start per command (tests that need the
 * process boundary run the built `dist/cli/main.js` instead, and say why).
 */
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { inject } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { Output } from '../../src/cli/run.js';
import { scratchDir } from '../scratch.js';

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The test process's environment without anything that would point ward elsewhere. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const { DATABASE_URL: _db, WARD_MASTER_KEY: _key, WARD_CONFIG: _cfg, ...rest } = process.env;
  return rest;
}

function capture(isTTY: boolean): { stream: Output; text: () => string } {
  let text = '';
  const stream: Output = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      done();
    },
  });
  if (isTTY) stream.isTTY = true;
  return { stream, text: () => text };
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** What the command reads on stdin. */
  stdin?: string;
  /** stderr is a terminal (progress bars are drawn there). */
  tty?: boolean;
}

/** Runs `ward <args>` in `cwd`. */
export async function ward(cwd: string, args: string[], o: RunOptions = {}): Promise<Result> {
  const out = capture(false);
  const err = capture(o.tty ?? false);
  const code = await runCli(args, {
    stdout: out.stream,
    stderr: err.stream,
    stdin: Readable.from([o.stdin ?? '']),
    env: { ...cleanEnv(), ...(o.env ?? {}) },
    cwd,
  });
  return { code, stdout: out.text(), stderr: err.text() };
}

/**
 * A directory after `ward init`, its embedded database copied from the run's migrated template
 * (a new one would take seconds to create; `ward init` on an empty directory is tested on its own).
 */
export async function initialized(prefix: string): Promise<string> {
  const dir = scratchDir(prefix);
  const r = await ward(dir, ['init']);
  if (r.code !== 0) throw new Error(`ward init failed: ${r.stderr}`);
  mkdirSync(join(dir, '.ward'), { recursive: true, mode: 0o700 });
  cpSync(inject('liteTemplate'), join(dir, '.ward', 'pgdata'), { recursive: true });
  return dir;
}

/** stdout as JSON, after checking the command succeeded quietly. */
export function json(r: Result) {
  if (r.code !== 0 || r.stderr !== '') throw new Error(`ward failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}
