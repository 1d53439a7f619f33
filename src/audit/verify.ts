/**
 * Verification recomputes the log from the stored events and checks it against the sealed leaves
 * and every signed checkpoint. It names the first problem: the sequence number of the first event
 * that was modified, deleted, inserted or moved, or the first checkpoint that is forged or does
 * not match. With an auditor's exported checkpoint it also proves, by an RFC 9162 consistency
 * proof, that today's log extends the one that checkpoint signed.
 */
import type { Db } from '../store/db.js';
import * as store from '../store/seal.js';
import { checkpointNote, type ExportedCheckpoint, exportedSignatureHolds } from './checkpoint.js';
import { consistencyRanges, Frontier, HASH_BYTES, ProofBuilder, verifyConsistency } from './merkle.js';
import { type SigningKeys, verifySignature } from './signing.js';

export type ProblemKind =
  | 'modified'
  | 'deleted'
  | 'inserted'
  | 'reordered'
  | 'leaf_missing'
  | 'leaf_forged'
  | 'full_verification_failed'
  | 'checkpoint_forged'
  | 'checkpoint_mismatch'
  | 'checkpoint_missing'
  | 'checkpoint_state'
  | 'signing_key_forged'
  | 'since_forged'
  | 'since_unknown_key'
  | 'since_truncated'
  | 'since_mismatch';

export interface VerifyProblem {
  kind: ProblemKind;
  /** The first bad event's sequence number, when one event can be named. */
  seq: string | null;
  /** The checkpoint concerned, by tree size, when the problem is a checkpoint's. */
  treeSize: number | null;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  /** The checkpoint (tree size) the verification started from: 0 for a full one. */
  from: number;
  /** False when it stopped short of the newest checkpoint (`maxEvents`); the next one goes on from `treeSize`. */
  complete: boolean;
  /** The tree size checked up to. */
  treeSize: number;
  rootHash: string | null;
  checkpoints: number;
  /** Events written after the last checkpoint: not covered yet. */
  unsealed: number;
  problem: VerifyProblem | null;
  since: { treeSize: number; proofHashes: number; consistent: boolean } | null;
}

export const VERIFY_BATCH = 20_000;

const problem = (kind: ProblemKind, message: string, at: { seq?: string | null; treeSize?: number | null } = {}): VerifyProblem => ({
  kind,
  seq: at.seq ?? null,
  treeSize: at.treeSize ?? null,
  message,
});

export interface VerifyOptions {
  /** An auditor's exported checkpoint: also prove that the log extends it (from the first event only). */
  since?: ExportedCheckpoint;
  /** Start at the checkpoint of this tree size, found sound by an earlier verification; default the first event. */
  from?: number;
  /** Check about this many events at most, ending at a checkpoint (at least the next one); the rest is for the next call. */
  maxEvents?: number;
}

/**
 * Verifies the sealed log from checkpoint `from` (default the start) to the newest checkpoint, or
 * only part of the way with `maxEvents` (then `complete` is false and `treeSize` says how far it
 * got). The starting checkpoint is trusted for what lies before it, after its signature and its
 * stored frontier are checked again: a full verification (from 0) is what finds an old event
 * changed since.
 */
export async function verifyLog(db: Db, keys: SigningKeys, options: VerifyOptions = {}): Promise<VerifyReport> {
  const { since } = options;
  const head = await store.latestCheckpoint(db);
  const fromCp = options.from ? await store.checkpointAt(db, options.from) : undefined;
  const from = fromCp?.treeSize ?? 0;
  const checkpoints = await store.selectCheckpoints(db, from, options.maxEvents === undefined ? undefined : from + options.maxEvents);
  const target = checkpoints.filter((c) => c.treeSize > from).at(-1) ?? (await store.checkpointAfter(db, from)) ?? fromCp;
  const toCheck = checkpoints.filter((c) => c.treeSize > from && c.treeSize <= (target?.treeSize ?? 0));
  if (target && !toCheck.includes(target) && target !== fromCp) toCheck.push(target);
  const complete = !head || target?.treeSize === head.treeSize;
  const report: VerifyReport = {
    ok: true,
    from,
    complete,
    treeSize: target?.treeSize ?? 0,
    rootHash: target ? target.root.toString('base64') : null,
    checkpoints: toCheck.length,
    unsealed: await store.countAfter(db, head?.last ?? store.START),
    problem: null,
    since: null,
  };
  const fail = (p: VerifyProblem) => ({ ...report, ok: false, problem: p });

  const forged = await keys.forged();
  if (forged.length)
    return fail(
      problem(
        'signing_key_forged',
        `audit signing key version ${forged[0]} was not created by Ward (it does not unwrap with the master key)`,
      ),
    );
  // The starting checkpoint is checked again: its signature, and that its stored frontier is its root.
  if (fromCp) {
    const key = keys.publicKey(fromCp.keyVersion);
    if (!key || !verifySignature(key, checkpointNote(fromCp), fromCp.signature))
      return fail(problem('checkpoint_forged', `the checkpoint at tree size ${from} has no valid signature`, { treeSize: from }));
    if (!new Frontier(from, fromCp.frontier).root().equals(fromCp.root))
      return fail(problem('checkpoint_state', `the sealer's state stored with checkpoint ${from} was altered`, { treeSize: from }));
  }
  let previous = from;
  for (const c of toCheck) {
    const key = keys.publicKey(c.keyVersion);
    if (!key || !verifySignature(key, checkpointNote(c), c.signature))
      return fail(
        problem('checkpoint_forged', `the checkpoint at tree size ${c.treeSize} has no valid signature`, { treeSize: c.treeSize }),
      );
    // Each signed checkpoint names the one before it: a gap means a checkpoint was deleted.
    if (c.previousSize !== previous)
      return fail(
        problem('checkpoint_missing', `the checkpoint at tree size ${c.previousSize}, before the one at ${c.treeSize}, was deleted`, {
          treeSize: c.previousSize,
        }),
      );
    previous = c.treeSize;
  }
  if (since) {
    if (from > 0) throw new Error('a verification against an exported checkpoint starts at the first event');
    if (!exportedSignatureHolds(since))
      return fail(problem('since_forged', 'the given checkpoint has no valid signature', { treeSize: since.treeSize }));
    const pinned = keys.publicKey(since.keyVersion);
    if (!pinned || pinned.toString('base64') !== since.publicKey)
      return fail(
        problem('since_unknown_key', `the given checkpoint was signed by a key this vault does not hold (version ${since.keyVersion})`),
      );
    if (since.treeSize > report.treeSize)
      return fail(
        problem(
          'since_truncated',
          `the given checkpoint covers ${since.treeSize} events but the sealed log now holds only ${report.treeSize}`,
          {
            treeSize: since.treeSize,
          },
        ),
      );
  }

  // Walk events (in sealed order) and leaves (by index) side by side, recomputing the tree.
  const frontier = fromCp ? new Frontier(from, fromCp.frontier) : new Frontier();
  // The consistency proof's subtrees are hashed as the leaves stream past: memory stays O(log n).
  const proof = since && target ? new ProofBuilder(consistencyRanges(since.treeSize, target.treeSize)) : undefined;
  let next = 0; // index in toCheck of the next checkpoint to reach
  const upTo = target?.last ?? store.START;
  const total = target?.treeSize ?? 0;
  // The database recomputes and compares each batch. Two batches are in flight at once, each
  // starting where the leaves say the previous one ends; a batch whose start turns out not to
  // be where the previous one really ended is checked again from there.
  const sizeAt = (at: number) => Math.min(VERIFY_BATCH, total - at);
  const start = async (at: number) => {
    const after = at === 0 ? store.START : await store.leafPosition(db, at - 1);
    return { after, batch: after ? await store.checkBatch(db, after, at, sizeAt(at)) : undefined };
  };
  const inFlight = new Map<number, ReturnType<typeof start>>();
  const launch = (at: number) => {
    if (at >= total || inFlight.has(at)) return;
    const p = start(at);
    p.catch(() => {}); // awaited in turn; not left unhandled when verification stops early
    inFlight.set(at, p);
  };
  let after: store.Position = fromCp?.last ?? store.START;
  for (let at = from; at < total; at += VERIFY_BATCH) {
    launch(at);
    launch(at + VERIFY_BATCH);
    const want = sizeAt(at);
    const guess = await (inFlight.get(at) as ReturnType<typeof start>);
    inFlight.delete(at);
    const batch =
      guess.batch && guess.after?.txid === after.txid && guess.after.seq === after.seq
        ? guess.batch
        : await store.checkBatch(db, after, at, want);
    if (batch.bad > 0 || batch.leaves.length !== want * HASH_BYTES || !batch.last) return fail(await locate(db, after, upTo, at, want));
    after = batch.last;
    for (let i = 0; i < want; i++) {
      const leaf = batch.leaves.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
      frontier.push(leaf);
      proof?.push(at + i, leaf);
      if (since && frontier.size === since.treeSize && frontier.root().toString('base64') !== since.rootHash)
        return fail(
          problem('since_mismatch', `the first ${since.treeSize} sealed events no longer match the given checkpoint`, {
            treeSize: since.treeSize,
          }),
        );
      const c = toCheck[next];
      if (c && frontier.size === c.treeSize) {
        if (!frontier.root().equals(c.root))
          return fail(
            problem(
              'checkpoint_mismatch',
              `events at positions ${c.previousSize} to ${c.treeSize - 1} do not hash to the signed root of checkpoint ${c.treeSize}: events were rewritten together with their leaves`,
              { treeSize: c.treeSize },
            ),
          );
        const stored = c.frontier;
        if (stored.length !== frontier.hashes.length || frontier.hashes.some((h, k) => !h.equals(stored[k] as Buffer)))
          return fail(
            problem('checkpoint_state', `the sealer's state stored with checkpoint ${c.treeSize} was altered`, { treeSize: c.treeSize }),
          );
        next++;
      }
    }
  }
  if (next < toCheck.length) {
    const c = toCheck[next] as store.CheckpointRow;
    return fail(
      problem('checkpoint_mismatch', `checkpoint ${c.treeSize} is not at an event boundary of the log`, { treeSize: c.treeSize }),
    );
  }
  if (complete) {
    const tail = await checkTail(db, head, after, upTo, report.treeSize);
    if (tail) return fail(tail);
  }
  if (since && target && proof) {
    const hashes = proof.proof();
    const consistent = verifyConsistency(since.treeSize, target.treeSize, Buffer.from(since.rootHash, 'base64'), target.root, hashes);
    report.since = { treeSize: since.treeSize, proofHashes: hashes.length, consistent };
    if (!consistent) return fail(problem('since_mismatch', 'the log does not extend the given checkpoint', { treeSize: since.treeSize }));
  }
  return report;
}

/**
 * What lies past the newest checkpoint: the sealer's stored position must be the last sealed event,
 * nothing may have entered the sealed range, and leaves no checkpoint covers are either those of
 * deleted checkpoints (they match their events) or leaves the sealer never wrote (named by position).
 */
async function checkTail(
  db: Db,
  head: store.CheckpointRow | undefined,
  after: store.Position,
  upTo: store.Position,
  treeSize: number,
): Promise<VerifyProblem | undefined> {
  if (head) {
    const end = await store.leafPosition(db, head.treeSize - 1);
    if (!end || end.txid !== head.last.txid || end.seq !== head.last.seq)
      return problem('checkpoint_state', `the sealer's position stored with checkpoint ${head.treeSize} was altered`, {
        treeSize: head.treeSize,
      });
    const [extra] = await store.selectEventRange(db, after, upTo, 1);
    if (extra) return problem('inserted', `event ${extra.seq} was inserted into the sealed log`, { seq: extra.seq });
  }
  // Leaves are counted before the newest checkpoint is read again, so a round sealed meanwhile is not taken for one.
  const leafCount = await store.leafCount(db);
  const newest = (await store.latestCheckpoint(db))?.treeSize ?? 0;
  if (leafCount <= Math.max(newest, treeSize)) return undefined;
  const [stray] = await store.strayLeaves(db, newest, head?.last ?? store.START, 1);
  if (stray)
    return problem(
      'leaf_forged',
      `the audit leaf at position ${stray.idx} was not written by the sealer: it is not the leaf of the event at that position`,
      { seq: stray.seq },
    );
  return problem('checkpoint_missing', `${leafCount - newest} sealed events have no checkpoint (the newest checkpoints were deleted)`, {
    seq: await store.leafSeq(db, newest),
  });
}

/**
 * Names the first problem in a batch that did not check out, comparing event by event: the
 * event at each position against the leaf sealed there.
 */
async function locate(db: Db, after: store.Position, upTo: store.Position, from: number, want: number): Promise<VerifyProblem> {
  const [events, leaves] = await Promise.all([store.selectEventRange(db, after, upTo, want), store.selectLeaves(db, from, want)]);
  let prevSeq = after.seq === store.START.seq ? undefined : after.seq;
  for (let i = 0; i < want; i++) {
    const idx = from + i;
    const e = events[i];
    const l = leaves[i];
    if (!l || l.idx !== idx) {
      if (!e) return problem('deleted', `the sealed log ends early: events and leaves after event ${prevSeq ?? 'none'} are gone`);
      return problem('leaf_missing', `the sealed leaf of event ${e.seq} (position ${idx}) is gone`, { seq: e.seq });
    }
    if (!e) return problem('deleted', `event ${l.seq} was deleted`, { seq: l.seq });
    if (e.seq !== l.seq) return misplaced(db, l.seq, e.seq);
    if (!e.leaf.equals(l.hash)) return problem('modified', `event ${e.seq} was modified after it was sealed`, { seq: e.seq });
    prevSeq = e.seq;
  }
  return problem('modified', `events after position ${from} do not match their sealed leaves`);
}

/** The event at a position is not the one sealed there: deleted, inserted or moved. */
async function misplaced(db: Db, sealedSeq: string, foundSeq: string): Promise<VerifyProblem> {
  if (!(await store.eventExists(db, sealedSeq))) return problem('deleted', `event ${sealedSeq} was deleted`, { seq: sealedSeq });
  if (!(await store.leafExists(db, foundSeq)))
    return problem('inserted', `event ${foundSeq} was inserted into the sealed log`, { seq: foundSeq });
  return problem('reordered', `event ${sealedSeq} is no longer in its sealed position`, { seq: sealedSeq });
}
