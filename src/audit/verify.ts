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
  /** Sealed events checked. */
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

export async function verifyLog(db: Db, keys: SigningKeys, since?: ExportedCheckpoint): Promise<VerifyReport> {
  const checkpoints = await store.selectCheckpoints(db);
  const head = checkpoints.at(-1);
  const report: VerifyReport = {
    ok: true,
    treeSize: head?.treeSize ?? 0,
    rootHash: head ? head.root.toString('base64') : null,
    checkpoints: checkpoints.length,
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
  let previous = 0;
  for (const c of checkpoints) {
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
  const frontier = new Frontier();
  // The consistency proof's subtrees are hashed as the leaves stream past: memory stays O(log n).
  const proof = since && head ? new ProofBuilder(consistencyRanges(since.treeSize, head.treeSize)) : undefined;
  let next = 0; // index of the next checkpoint to reach
  const upTo = head?.last ?? store.START;
  const total = head?.treeSize ?? 0;
  // The database recomputes and compares each batch. Two batches are in flight at once, each
  // starting where the leaves say the previous one ends; a batch whose start turns out not to
  // be where the previous one really ended is checked again from there.
  const sizeAt = (from: number) => Math.min(VERIFY_BATCH, total - from);
  const start = async (from: number) => {
    const after = from === 0 ? store.START : await store.leafPosition(db, from - 1);
    return { after, batch: after ? await store.checkBatch(db, after, from, sizeAt(from)) : undefined };
  };
  const inFlight = new Map<number, ReturnType<typeof start>>();
  const launch = (from: number) => {
    if (from >= total || inFlight.has(from)) return;
    const p = start(from);
    p.catch(() => {}); // awaited in turn; not left unhandled when verification stops early
    inFlight.set(from, p);
  };
  let after: store.Position = store.START;
  for (let from = 0; from < total; from += VERIFY_BATCH) {
    launch(from);
    launch(from + VERIFY_BATCH);
    const want = sizeAt(from);
    const guess = await (inFlight.get(from) as ReturnType<typeof start>);
    inFlight.delete(from);
    const batch =
      guess.batch && guess.after?.txid === after.txid && guess.after.seq === after.seq
        ? guess.batch
        : await store.checkBatch(db, after, from, want);
    if (batch.bad > 0 || batch.leaves.length !== want * HASH_BYTES || !batch.last) return fail(await locate(db, after, upTo, from, want));
    after = batch.last;
    for (let i = 0; i < want; i++) {
      const leaf = batch.leaves.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
      frontier.push(leaf);
      proof?.push(from + i, leaf);
      if (since && frontier.size === since.treeSize && frontier.root().toString('base64') !== since.rootHash)
        return fail(
          problem('since_mismatch', `the first ${since.treeSize} sealed events no longer match the given checkpoint`, {
            treeSize: since.treeSize,
          }),
        );
      const c = checkpoints[next];
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
  if (next < checkpoints.length) {
    const c = checkpoints[next] as store.CheckpointRow;
    return fail(
      problem('checkpoint_mismatch', `checkpoint ${c.treeSize} is not at an event boundary of the log`, { treeSize: c.treeSize }),
    );
  }
  // The sealer's stored position must be the last sealed event (checked first: the range below
  // relies on it).
  if (head) {
    const end = await store.leafPosition(db, head.treeSize - 1);
    if (!end || end.txid !== head.last.txid || end.seq !== head.last.seq)
      return fail(
        problem('checkpoint_state', `the sealer's position stored with checkpoint ${head.treeSize} was altered`, {
          treeSize: head.treeSize,
        }),
      );
  }
  // Anything in the sealed range beyond the tree, or leaves no checkpoint covers, was added later.
  const [extra] = head ? await store.selectEventRange(db, after, upTo, 1) : [];
  if (extra) return fail(problem('inserted', `event ${extra.seq} was inserted into the sealed log`, { seq: extra.seq }));
  // Leaves no checkpoint covers: the newest checkpoints were deleted. (Leaves are counted before
  // the newest checkpoint is read again, so a round sealed meanwhile is not taken for one.)
  const leafCount = await store.leafCount(db);
  const newest = (await store.latestCheckpoint(db))?.treeSize ?? 0;
  if (leafCount > Math.max(newest, report.treeSize))
    return fail(
      problem('checkpoint_missing', `${leafCount - newest} sealed events have no checkpoint (the newest checkpoints were deleted)`, {
        seq: await store.leafSeq(db, newest),
      }),
    );

  if (since && head && proof) {
    const hashes = proof.proof();
    const consistent = verifyConsistency(since.treeSize, head.treeSize, Buffer.from(since.rootHash, 'base64'), head.root, hashes);
    report.since = { treeSize: since.treeSize, proofHashes: hashes.length, consistent };
    if (!consistent) return fail(problem('since_mismatch', 'the log does not extend the given checkpoint', { treeSize: since.treeSize }));
  }
  return report;
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
