/**
 * One process at a time per embedded database directory: PGlite has no lock of its own, and two
 * processes writing the same files corrupt them. The lock file holds the owner's pid; a lock
 * whose process is gone is stale and taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { WardError } from '../errors.js';

const LOCK = 'ward.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The embedded database is held by another process. */
export class DirLocked extends WardError {
  constructor(dir: string, owner: number) {
    super(
      'database_error',
      `the embedded database in ${dir} is in use by process ${owner} (ward serve or ward demo?); stop it first, or use a PostgreSQL server`,
    );
  }
}

/** Takes the directory's lock or throws naming the process that holds it; returns the release. */
export function lockDir(dir: string): () => void {
  const file = join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) throw new DirLocked(dir, owner);
      rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  throw new WardError('database_error', `cannot lock the embedded database in ${dir}`);
}
