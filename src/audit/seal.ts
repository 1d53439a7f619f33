/**
 * The sealer folds committed audit events into the Merkle tree and signs a checkpoint per round.
 * Writers never wait for it: events are plain inserts. Rounds take a transaction-scoped advisory
 * lock, so any number of Ward processes may run a sealer and the log still grows in one order
 * (txid, seq) that every process and every verifier agrees on.
 */
import { WardError } from '../errors.js';
import type { Db } from '../store/db.js';
import * as store from '../store/seal.js';
import { checkpointNote } from './checkpoint.js';
import { Frontier, HASH_BYTES } from './merkle.js';
import type { SigningKeys } from './signing.js';

export interface SealResult {
  /** Events sealed by this call. */
  sealed: number;
  /** Size of the sealed log afterwards. */
  treeSize: number;
  /** Events written but not sealed yet (their transactions, or older ones, were still open). */
  unsealed: number;
}

export const DEFAULT_BATCH = 10_000;
/** Leaves written (and hashed into the tree) per statement within a round. */
const LEAF_SLICE = 1_000;

/** The longest rest between two slices of a paced round. */
const MAX_REST_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Sealer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  /** Set by `stop`: a paced round still running goes on without rests. */
  private stopping = false;

  constructor(
    private readonly db: Db,
    private readonly keys: SigningKeys,
    private readonly batch = DEFAULT_BATCH,
  ) {}

  /**
   * One round: up to `batch` events, one checkpoint. Returns how many were sealed, or `busy`
   * when another process holds the sealer's lock.
   *
   * A `paced` round (the background sealer's) rests between slices for as long as the last slice
   * took, up to MAX_REST_MS: with slices under that, sealing takes about half of the database's
   * and this process's time while requests are served. Its transaction stays open through the
   * rests (a few seconds for a full round). Not on PGlite, where a transaction holds the only
   * connection and a rest would stall every request; and not once `stop` has been called.
   */
  async round(paced = false): Promise<{ sealed: number; treeSize: number; busy: boolean }> {
    return this.db.transaction(async (tx) => {
      if (!(await store.trySealLock(tx))) return { sealed: 0, treeSize: 0, busy: true };
      const head = await store.latestCheckpoint(tx);
      const frontier = head ? new Frontier(head.treeSize, head.frontier) : new Frontier();
      if (head && !frontier.root().equals(head.root))
        throw new WardError('integrity_error', `the audit checkpoint at tree size ${head.treeSize} does not match its own frontier`);
      const previousSize = frontier.size;
      let last: store.Position | undefined;
      // In slices, each its own statement: the server keeps answering requests between them
      // instead of stalling on one long statement and one long hashing loop.
      for (let read = 0; read < this.batch; ) {
        const limit = Math.min(LEAF_SLICE, this.batch - read);
        const started = performance.now();
        const slice = await store.readSlice(tx, last ?? head?.last ?? store.START, limit);
        if (!slice.last) break;
        for (let at = 0; at < slice.leaves.length; at += HASH_BYTES) frontier.push(slice.leaves.subarray(at, at + HASH_BYTES));
        last = slice.last;
        read += slice.count;
        if (slice.count < limit) break;
        if (paced && this.db.kind === 'pg' && !this.stopping) await sleep(Math.min(MAX_REST_MS, performance.now() - started));
      }
      if (!last) return { sealed: 0, treeSize: frontier.size, busy: false };
      const treeHead = { treeSize: frontier.size, previousSize, root: frontier.root(), sealedAt: new Date().toISOString() };
      const { version, signature } = await this.keys.sign(tx, checkpointNote(treeHead));
      // The database writes the leaves and the checkpoint, having derived them itself (see store/seal commitSeal).
      await store.commitSeal(tx, {
        count: frontier.size - previousSize,
        upTo: last,
        root: treeHead.root,
        sealedAt: treeHead.sealedAt,
        keyVersion: version,
        signature,
      });
      return { sealed: frontier.size - previousSize, treeSize: frontier.size, busy: false };
    });
  }

  /**
   * Seals everything sealable now. With `waitMs`, keeps trying while events remain unsealed
   * (their transactions still open, or another sealer busy) until that much time has passed.
   */
  async sealAll(waitMs = 0, paced = false): Promise<SealResult> {
    const deadline = Date.now() + waitMs;
    let sealed = 0;
    for (;;) {
      const r = await this.round(paced);
      sealed += r.sealed;
      if (r.sealed === this.batch) continue;
      const status = await this.status();
      if (status.unsealed === 0 || Date.now() >= deadline) return { sealed, ...status };
      await sleep(25);
    }
  }

  async status(): Promise<{ treeSize: number; unsealed: number }> {
    const head = await store.latestCheckpoint(this.db);
    return { treeSize: head?.treeSize ?? 0, unsealed: await store.countAfter(this.db, head?.last ?? store.START) };
  }

  /**
   * Seals in the background every `intervalMs`, in paced rounds (see `round`); errors go to
   * `onError` (codes only, never data).
   */
  start(intervalMs: number, onError: (e: unknown) => void): void {
    if (this.timer) return;
    this.stopping = false;
    const tick = () => {
      this.running = this.sealAll(0, true)
        .catch(onError)
        .finally(() => {
          this.running = undefined;
          if (this.timer) this.timer = setTimeout(tick, intervalMs);
        });
    };
    this.timer = setTimeout(tick, intervalMs);
  }

  /**
   * Stops the background sealer once its current run has finished (from now on without rests),
   * then seals what is left, waiting up to `waitMs` for transactions still open on the server
   * (they hold sealing back).
   */
  async stop(waitMs = 5_000): Promise<void> {
    const t = this.timer;
    this.timer = undefined;
    this.stopping = true;
    if (t) clearTimeout(t);
    await this.running;
    if (t) await this.sealAll(waitMs);
  }
}
