/**
 * One record's field crypto as plain data (a job), so the same code can run it on this thread or
 * on a crypto thread (see threads.ts): sealing its encrypted fields and keying its blind indexes
 * and deterministic tokens, or opening its sealed fields. A job holds the keys it needs; nothing
 * in it is looked up elsewhere.
 */
import { keyVersionOf, openWith, sealWith } from './aead.js';
import { blindIndex, deterministicToken } from './derive.js';

/**
 * A keyed MAC of a normalized value: a blind index (16 bytes) or a deterministic token. `K` is
 * how keys are held: Buffers, or positions in a packed batch's key list.
 */
export interface MacInput<K = Buffer> {
  kind: 'index' | 'token';
  key: K;
  value: string;
}

export interface SealJob<K = Buffer> {
  op: 'seal';
  key: K;
  version: number;
  /** [additional data, JSON text of the value] per encrypted field */
  seal: [aad: string, plaintext: string][];
  macs: MacInput<K>[];
}

export interface OpenJob<K = Buffer> {
  op: 'open';
  key: K;
  /** The key version the record says sealed it; a blob claiming another fails to open. */
  version: number;
  /** [additional data, base64 envelope] per sealed field */
  open: [aad: string, blob: unknown][];
}

export type FieldJob<K = Buffer> = SealJob<K> | OpenJob<K>;

export interface SealResult {
  /** base64 envelopes, in the order of `seal` */
  sealed: string[];
  /** blind indexes (Buffer) and tokens (string), in the order of `macs` */
  macs: (Buffer | string)[];
}

/** UTF-8 plaintexts in the order of `open`; null where the envelope did not open. */
export type OpenResult = (string | null)[];

export type JobResult<J extends FieldJob> = J extends SealJob ? SealResult : OpenResult;

export function runJob<J extends FieldJob>(job: J): JobResult<J>;
export function runJob(job: FieldJob): SealResult | OpenResult {
  if (job.op === 'seal')
    return {
      sealed: job.seal.map(([aad, text]) => sealWith(job.key, job.version, Buffer.from(aad), Buffer.from(text)).toString('base64')),
      macs: job.macs.map(runMac),
    };
  return job.open.map(([aad, b64]) => openOne(job, aad, b64));
}

/** One MAC: a blind index (Buffer) or a deterministic token (string). */
export function runMac(m: MacInput): Buffer | string {
  return m.kind === 'index' ? blindIndex(m.key, m.value) : deterministicToken(m.key, m.value);
}

function openOne(job: OpenJob, aad: string, b64: unknown): string | null {
  try {
    if (typeof b64 !== 'string') return null;
    const blob = Buffer.from(b64, 'base64');
    // The row says which key sealed it; a blob claiming another version was moved or altered.
    if (keyVersionOf(blob) !== job.version) return null;
    return openWith(
      (v) => (v === job.version ? job.key : undefined),
      () => Buffer.from(aad),
      blob,
    ).toString('utf8');
  } catch {
    return null;
  }
}

/** A batch as it crosses to a thread: each distinct key once, jobs naming keys by position. */
export interface PackedBatch {
  id: number;
  keys: Uint8Array[];
  jobs: FieldJob<number>[];
}

/** A thread's answer: the jobs' results in order, or `failed` when one threw. */
export type Reply = { id: number; results: unknown[] } | { id: number; failed: true };

/**
 * Puts each distinct key (by identity) in the batch once, as a copy: a Buffer may be a view into
 * a shared pool, and cloning a view clones all of the memory behind it.
 */
export function pack(id: number, jobs: readonly FieldJob[]): PackedBatch {
  const index = new Map<Buffer, number>();
  const keys: Uint8Array[] = [];
  const at = (key: Buffer): number => {
    let i = index.get(key);
    if (i === undefined) {
      i = keys.push(new Uint8Array(key)) - 1;
      index.set(key, i);
    }
    return i;
  };
  const packed = jobs.map(
    (j): FieldJob<number> =>
      j.op === 'seal' ? { ...j, key: at(j.key), macs: j.macs.map((m) => ({ ...m, key: at(m.key) })) } : { ...j, key: at(j.key) },
  );
  return { id, keys, jobs: packed };
}

/** The jobs of a packed batch with their keys back in place (one Buffer per distinct key). */
export function unpack(batch: PackedBatch): FieldJob[] {
  const keys = batch.keys.map((k) => Buffer.from(k.buffer, k.byteOffset, k.byteLength));
  const key = (i: number) => keys[i] as Buffer;
  return batch.jobs.map(
    (j): FieldJob =>
      j.op === 'seal' ? { ...j, key: key(j.key), macs: j.macs.map((m) => ({ ...m, key: key(m.key) })) } : { ...j, key: key(j.key) },
  );
}
