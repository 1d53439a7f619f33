/** Shared plumbing for commands: load config, open the vault, print JSON, report errors. */
import { configPath, loadConfig, type WardConfig } from '../config/load.js';
import { isWardError } from '../errors.js';
import { openVault } from '../vault/open.js';
import type { Vault } from '../vault/vault.js';

export interface GlobalOptions {
  config?: string;
}

export function config(opts: GlobalOptions): WardConfig {
  return loadConfig(configPath(opts.config));
}

export async function withVault<T>(opts: GlobalOptions, fn: (v: Vault) => Promise<T>): Promise<T> {
  const vault = await openVault(config(opts));
  try {
    return await fn(vault);
  } finally {
    await vault.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
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

/** Reports an error on stderr and sets the exit code; unexpected errors print no detail. */
export function report(e: unknown): void {
  if (isWardError(e)) process.stderr.write(`ward: ${e.message} [${e.code}]\n`);
  else if (e instanceof UsageError) process.stderr.write(`ward: ${e.message}\n`);
  else process.stderr.write('ward: unexpected internal error (no details are printed, as they might hold PHI)\n');
  process.exitCode = e instanceof UsageError ? 2 : 1;
}
