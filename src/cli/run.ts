/**
 * Shared plumbing for commands: where a command reads and writes (the process's streams, or a
 * test's), loading the config, opening the vault, printing JSON and reporting errors.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import { configPath, loadConfig, type WardConfig } from '../config/load.js';
import { isWardError } from '../errors.js';
import type { Agreements } from '../vault/baa.js';
import { openAgreements, openVault } from '../vault/open.js';
import type { Vault } from '../vault/vault.js';

/** A stream a command writes to; `isTTY` when it is a terminal (progress bars go only there). */
export type Output = Writable & { isTTY?: boolean };

/** Where one run of `ward` reads and writes: the process's own, or a test's. */
export interface CliIo {
  stdout: Output;
  stderr: Output;
  stdin: Readable;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export const processIo = (): CliIo => ({
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
});

export interface GlobalOptions {
  config?: string;
}

/** One run of the command line: its streams, environment and exit code. */
export class Cli {
  /** Set by a command that finishes without an error but wants a non-zero exit (verify, scan). */
  exitCode = 0;

  constructor(
    readonly io: CliIo,
    private readonly program: Command,
  ) {}

  /** The ward.yaml path: --config, then WARD_CONFIG, then ./ward.yaml. */
  configFile(): string {
    return configPath(this.program.opts<GlobalOptions>().config, this.io.env, this.io.cwd);
  }

  config(): WardConfig {
    return loadConfig(this.configFile(), this.io.env);
  }

  /** A path given on the command line, relative to the working directory. */
  path(p: string): string {
    return resolve(this.io.cwd, p);
  }

  async withVault<T>(fn: (v: Vault) => Promise<T>): Promise<T> {
    const vault = await openVault(this.config(), { env: this.io.env });
    try {
      return await fn(vault);
    } finally {
      await vault.close();
    }
  }

  /** Runs `fn` on the agreements registry alone (no master key needed: see openAgreements). */
  async withAgreements<T>(fn: (a: Agreements) => Promise<T>): Promise<T> {
    const { agreements, close } = await openAgreements(this.config());
    try {
      return await fn(agreements);
    } finally {
      await close();
    }
  }

  /** Writes to stdout, waiting when the stream asks to. */
  async write(text: string, out: Writable = this.io.stdout): Promise<void> {
    if (!out.write(text)) await new Promise((resolve) => out.once('drain', resolve));
  }

  printJson(value: unknown): Promise<void> {
    return this.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** The text of `-` (stdin), `@FILE`, or the argument itself; never echoed in errors (it may hold PHI). */
  async text(arg: string, flag: string): Promise<string> {
    if (arg === '-') {
      let text = '';
      for await (const chunk of this.io.stdin) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
      return text;
    }
    if (!arg.startsWith('@')) return arg;
    try {
      return readFileSync(this.path(arg.slice(1)), 'utf8');
    } catch {
      throw new UsageError(`${flag}: cannot read the file named after @`);
    }
  }
}

/** Parses a JSON argument without ever echoing it: it may hold PHI. */
export function parseJsonArg(text: string, flag: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${flag}: not valid JSON`);
  }
}

export class UsageError extends Error {}

/** A whole-number flag within bounds, or a usage error naming the flag. */
export function integer(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new UsageError(`${flag}: expected a whole number from ${min} to ${max}`);
  return n;
}

/** Reports an error on stderr; returns the exit code (2 for usage errors, else 1). Unexpected errors print no detail. */
export function report(e: unknown, stderr: Output): number {
  if (isWardError(e)) stderr.write(`ward: ${e.message} [${e.code}]\n`);
  else if (e instanceof UsageError) stderr.write(`ward: ${e.message}\n`);
  else stderr.write('ward: unexpected internal error (no details are printed, as they might hold PHI)\n');
  return e instanceof UsageError ? 2 : 1;
}

/** Rows as plain text columns under a header, two spaces apart (what `ward baa list` and `ward events consumers` print). */
export function textTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd()}\n`;
  return [line(head), ...rows.map(line)].join('');
}
