/**
 * The Merkle tree of RFC 6962 / RFC 9162 §2.1 over SHA-256: leaf hash H(0x00 || data), node hash
 * H(0x01 || left || right), the tree of n leaves split at the largest power of two below n.
 * A frontier (the roots of the perfect subtrees that make up the first n leaves) lets the sealer
 * append without re-reading old leaves; consistency proofs show one tree head extends another.
 */
import { createHash, hash } from 'node:crypto';

export const HASH_BYTES = 32;

const LEAF = Buffer.from([0]);

export const leafHash = (data: Buffer | string): Buffer => createHash('sha256').update(LEAF).update(data).digest();

const scratch = Buffer.alloc(1 + 2 * HASH_BYTES);
scratch[0] = 1;

/** H(0x01 || left || right), through one reused buffer: the verifier hashes a node per event. */
export function nodeHash(left: Buffer, right: Buffer): Buffer {
  if (left.length !== HASH_BYTES || right.length !== HASH_BYTES) throw new Error('a Merkle node hashes two 32-byte hashes');
  left.copy(scratch, 1);
  right.copy(scratch, 1 + HASH_BYTES);
  return hash('sha256', scratch, 'buffer') as unknown as Buffer;
}

/** The root of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT = createHash('sha256').digest();

/** Largest power of two strictly below n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Appends leaves to a tree of `size` leaves, keeping only the frontier. */
export class Frontier {
  /** Perfect-subtree roots, left to right; their sizes are the set bits of `size`, largest first. */
  private readonly nodes: Buffer[];
  private n: number;

  constructor(size = 0, nodes: readonly Buffer[] = []) {
    if (nodes.length !== popcount(size)) throw new Error(`a frontier of ${size} leaves has ${popcount(size)} nodes, not ${nodes.length}`);
    if (nodes.some((h) => h.length !== HASH_BYTES)) throw new Error('a frontier holds 32-byte hashes');
    this.n = size;
    this.nodes = [...nodes];
  }

  get size(): number {
    return this.n;
  }

  /** The stored form: the subtree roots, left to right. */
  get hashes(): Buffer[] {
    return [...this.nodes];
  }

  push(leaf: Buffer): void {
    let node = leaf;
    // Merge while the lowest bits of the new size are 0: equal-sized neighbours combine.
    for (let size = this.n; size & 1; size >>= 1) node = nodeHash(this.nodes.pop() as Buffer, node);
    this.nodes.push(node);
    this.n++;
  }

  root(): Buffer {
    if (!this.nodes.length) return EMPTY_ROOT;
    let acc = this.nodes[this.nodes.length - 1] as Buffer;
    for (let i = this.nodes.length - 2; i >= 0; i--) acc = nodeHash(this.nodes[i] as Buffer, acc);
    return acc;
  }
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}

/** MTH(D[start:end]) over leaf hashes. */
export function subtreeRoot(leaves: readonly Buffer[], start = 0, end = leaves.length): Buffer {
  const n = end - start;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[start] as Buffer;
  const k = split(n);
  return nodeHash(subtreeRoot(leaves, start, start + k), subtreeRoot(leaves, start + k, end));
}

/**
 * The leaf ranges [start, end) whose subtree hashes make up the consistency proof from a tree of
 * `m` leaves to one of `n` (RFC 9162 §2.1.4.1), in proof order. They are disjoint, so one pass
 * over the leaves can hash them all.
 */
export function consistencyRanges(m: number, n: number): [number, number][] {
  if (m < 1 || m > n) throw new Error(`no consistency proof from ${m} to ${n} leaves`);
  const ranges: [number, number][] = [];
  const sub = (m: number, start: number, end: number, whole: boolean): void => {
    const size = end - start;
    if (m === size) {
      if (!whole) ranges.push([start, end]);
      return;
    }
    const k = split(size);
    if (m <= k) {
      sub(m, start, start + k, whole);
      ranges.push([start + k, end]);
    } else {
      sub(m - k, start + k, end, false);
      ranges.push([start, start + k]);
    }
  };
  if (m < n) sub(m, 0, n, true);
  return ranges;
}

/** The consistency proof from the tree of the first `m` leaves to the tree of all of them. */
export function consistencyProof(leaves: readonly Buffer[], m: number): Buffer[] {
  return consistencyRanges(m, leaves.length).map(([a, b]) => subtreeRoot(leaves, a, b));
}

/** Hashes the ranges of a consistency proof while the leaves stream past, in index order. */
export class ProofBuilder {
  private readonly order: number[];
  private readonly trees: Frontier[];
  private at = 0;

  constructor(private readonly ranges: [number, number][]) {
    this.order = ranges.map((_, i) => i).sort((x, y) => (ranges[x] as [number, number])[0] - (ranges[y] as [number, number])[0]);
    this.trees = ranges.map(() => new Frontier());
  }

  /** The leaf at index `idx` (called for every index in order). */
  push(idx: number, leaf: Buffer): void {
    let i = this.order[this.at];
    while (i !== undefined && idx >= (this.ranges[i] as [number, number])[1]) i = this.order[++this.at];
    if (i !== undefined && idx >= (this.ranges[i] as [number, number])[0]) (this.trees[i] as Frontier).push(leaf);
  }

  proof(): Buffer[] {
    return this.trees.map((t) => t.root());
  }
}

/** Checks a consistency proof between two tree heads (RFC 9162 §2.1.4.2). */
export function verifyConsistency(m: number, n: number, oldRoot: Buffer, newRoot: Buffer, proof: readonly Buffer[]): boolean {
  if (m < 1 || m > n) return false;
  if (m === n) return proof.length === 0 && oldRoot.equals(newRoot);
  if (!proof.length) return false;
  const path = [...proof];
  // A power-of-two old tree is itself a node of the new one: its root starts the path.
  if (Number.isInteger(Math.log2(m))) path.unshift(oldRoot);
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  if (!fr || !sr) return false;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(oldRoot) && sr.equals(newRoot);
}
