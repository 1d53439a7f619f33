/**
 * Temp directories and server databases a test file makes, removed when the file's tests end
 * (test/setup.ts calls `cleanUp` after all), whether or not a test got to its own clean-up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dirs = new Set<string>();
const drops = new Map<string, () => Promise<void>>();

/** A new directory under the temp dir whose name starts with `prefix`; removed after the file's tests. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(dir);
  return dir;
}

/** Runs `drop` after the file's tests unless `forget(key)` was called first (the test dropped it itself). */
export function dropLater(key: string, drop: () => Promise<void>): void {
  drops.set(key, drop);
}

export function forget(key: string): void {
  drops.delete(key);
}

export async function cleanUp(): Promise<void> {
  for (const drop of drops.values()) await drop().catch(() => {});
  drops.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}
