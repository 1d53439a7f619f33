/**
 * Single-active background work across processes and servers: a PostgreSQL advisory lock held on
 * a connection of its own, so it ends with the process (one killed with SIGKILL frees it at once)
 * and no transaction stays open while the work waits on the network.
 */
import type { Db, Session } from '../store/db.js';
import { releaseSessionLock, trySessionLock } from '../store/events.js';

export class Leader {
  private session: Session | undefined;
  private leading = false;

  constructor(
    private readonly db: Db,
    private readonly lock: number,
  ) {}

  /** Whether this process is the active one now (taking the lock when it is free). */
  async lead(): Promise<boolean> {
    try {
      if (this.session?.lost) await this.resign();
      this.session ??= await this.db.session();
      if (!this.leading) this.leading = await trySessionLock(this.session, this.lock);
      else await this.session.query('SELECT 1'); // the lock is only as alive as its connection
      return this.leading;
    } catch (e) {
      await this.resign();
      throw e;
    }
  }

  /** Lets the lock go and closes its connection. */
  async resign(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (!s) return;
    if (this.leading && !s.lost) await releaseSessionLock(s, this.lock).catch(() => {});
    this.leading = false;
    await s.release();
  }
}
