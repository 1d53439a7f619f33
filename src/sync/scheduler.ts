/**
 * The mappings `ward serve` runs (`sync.mappings` in ward.yaml), each on its polling interval
 * (`sf_polling_seconds`), by one active runner across processes and servers: every few seconds
 * the runner's lock is tried, and the process holding it runs the passes that are due. A pass's
 * report (counts, timings, state; never a value) goes to `onPass`, a failure to `onFailed`.
 * When a pass was last finished is read from the database, not only remembered: a runner that
 * takes the lock over from another does not run again what the other has just run.
 */
import { Leader } from '../events/leader.js';
import { selectStates } from '../store/sync.js';
import type { Vault } from '../vault/vault.js';
import type { Mapping } from './mapping.js';
import { type PassReport, type RunOptions, runPass, SYNC_LOCK } from './runner.js';

const TICK_MS = 5_000;

export class SyncScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly last = new Map<string, number>();
  private readonly leader: Leader;

  constructor(
    private readonly vault: Vault,
    private readonly mappings: readonly Mapping[],
    private readonly on: { onPass: (r: PassReport) => void; onFailed: (m: Mapping, e: unknown) => void },
    private readonly options: Omit<RunOptions, 'source' | 'only' | 'onProgress'> = {},
    private readonly tickMs = TICK_MS,
  ) {
    this.leader = new Leader(vault.syncPort().db, SYNC_LOCK);
  }

  start(): void {
    if (this.timer || !this.mappings.length) return;
    this.timer = setInterval(() => {
      this.running ??= this.tick().finally(() => {
        this.running = undefined;
      });
    }, this.tickMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    await this.leader.resign();
  }

  /** Runs the passes that are due, when this process holds the runner's lock. */
  private async tick(): Promise<void> {
    if (!(await this.leader.lead().catch(() => false))) return;
    const finished = new Map<string, number>();
    for (const st of await selectStates(this.vault.syncPort().db))
      if (st.lastPass !== null && st.lastPass !== undefined) finished.set(st.mapping, st.updatedAt.getTime());
    for (const m of this.mappings) {
      if (!this.timer) return; // stopping
      const due = Math.max(this.last.get(m.name) ?? 0, finished.get(m.name) ?? 0) + m.pollingSeconds * 1000;
      if (Date.now() < due) continue;
      this.last.set(m.name, Date.now());
      try {
        this.on.onPass(await runPass(this.vault, m, this.options));
      } catch (e) {
        this.on.onFailed(m, e);
      }
    }
  }
}
