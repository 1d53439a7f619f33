/**
 * What gets hashed and signed. A leaf is one audit event in a fixed JSON rendering; a checkpoint
 * is a signed note in the manner of the C2SP tlog-checkpoint format: origin, tree size, root hash
 * (base64) and seal time, one per line. An exported checkpoint carries its public key so an
 * auditor can check it on its own and pin the key.
 */
import { z } from 'zod';
import { WardError } from '../errors.js';
import { leafHash } from './merkle.js';
import { verifySignature } from './signing.js';

export const ORIGIN = 'ward-audit/v1';
/**
 * The leaf formats, by the number each event records (`leaf_format`): 1 for events written before
 * formats were recorded (detail only when set), 2 since (every column, detail always). A column
 * added to events later gets format 3, so leaves sealed before stay verifiable.
 */
export const LEAF_FORMATS = { 1: 'ward-audit/v1', 2: 'ward-audit/v2' } as const;
export const CURRENT_LEAF_FORMAT = 2;
export const EXPORT_FORMAT = 'ward-audit-checkpoint/v1';

/** An event's columns in their PostgreSQL text forms, as `ward audit export` and the table hold them. */
export interface EventText {
  seq: string;
  txid: string;
  /** UTC, microseconds: 2026-11-26T14:21:53.698006Z */
  at: string;
  actor: string;
  role: string | null;
  action: string;
  collection: string | null;
  /** Array text form: {uuid,uuid} */
  recordIds: string;
  fields: string;
  purpose: string | null;
  outcome: string;
  reason: string | null;
  requestId: string | null;
  client: string | null;
  /** Present on few events (a lockout's counts). */
  detail?: string | null;
  /** The event's leaf format (see LEAF_FORMATS); 1 when absent. */
  leafFormat?: string | number | null;
}

/** PostgreSQL's quote_nullable: NULL, or a literal with quotes doubled (E'' when it holds a backslash). */
function quoteNullable(v: string | null): string {
  if (v === null) return 'NULL';
  const body = v.replace(/'/g, "''");
  return v.includes('\\') ? `E'${body.replace(/\\/g, '\\\\')}'` : `'${body}'`;
}

/**
 * The leaf data the database hashes for an event (store/seal LEAF_HASH), in TypeScript: the
 * format's origin, seq and txid, then every other column through quote_nullable, joined by
 * commas (format 1: detail only when set; format 2: always).
 */
export function leafData(e: EventText): string {
  const format = Number(e.leafFormat ?? 1);
  if (format !== 1 && format !== 2)
    throw new WardError('integrity_error', `an audit event names leaf format ${format}, which this version does not know`);
  const quoted = [
    e.at,
    e.actor,
    e.role,
    e.action,
    e.collection,
    e.recordIds,
    e.fields,
    e.purpose,
    e.outcome,
    e.reason,
    e.requestId,
    e.client,
  ].map(quoteNullable);
  if (format === 2) quoted.push(quoteNullable(e.detail ?? null));
  else if (e.detail !== null && e.detail !== undefined) quoted.push(quoteNullable(e.detail));
  return [LEAF_FORMATS[format], e.seq, e.txid, ...quoted].join(',');
}

/** The leaf hash of an event: SHA-256(0x00 || leaf data). */
export const eventLeaf = (e: EventText): Buffer => leafHash(leafData(e));

export interface TreeHead {
  treeSize: number;
  /** The tree size of the checkpoint before (0 for the first): a deleted checkpoint leaves a gap. */
  previousSize: number;
  root: Buffer;
  sealedAt: string;
}

/** The signed text: origin, tree size, base64 root, then extension lines for the time and the previous size. */
export function checkpointNote(h: TreeHead): Buffer {
  return Buffer.from(`${ORIGIN}\n${h.treeSize}\n${h.root.toString('base64')}\ntime ${h.sealedAt}\nprevious ${h.previousSize}\n`);
}

/** A checkpoint as an auditor keeps it. */
export interface ExportedCheckpoint {
  format: typeof EXPORT_FORMAT;
  origin: string;
  treeSize: number;
  previousSize: number;
  rootHash: string;
  sealedAt: string;
  keyVersion: number;
  publicKey: string;
  signature: string;
}

const b64 = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64')
    .refine((s) => Buffer.from(s, 'base64').length === bytes, `must be base64 of ${bytes} bytes`);

const exportedSchema = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  origin: z.literal(ORIGIN),
  treeSize: z.number().int().positive(),
  previousSize: z.number().int().nonnegative(),
  rootHash: b64(32),
  sealedAt: z.string().min(1).max(64),
  keyVersion: z.number().int().positive(),
  publicKey: b64(32),
  signature: b64(64),
});

/** Parses an exported checkpoint file's text; the message names the first problem. */
export function parseExported(text: string, source: string): ExportedCheckpoint {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WardError('invalid_request', `${source}: not a JSON checkpoint`);
  }
  const r = exportedSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new WardError('invalid_request', `${source}: ${issue?.path.join('.') || 'checkpoint'} ${issue?.message ?? 'is invalid'}`);
  }
  return r.data as ExportedCheckpoint;
}

export function exportCheckpoint(h: TreeHead & { keyVersion: number; signature: Buffer }, publicKey: Buffer): ExportedCheckpoint {
  return {
    format: EXPORT_FORMAT,
    origin: ORIGIN,
    treeSize: h.treeSize,
    previousSize: h.previousSize,
    rootHash: h.root.toString('base64'),
    sealedAt: h.sealedAt,
    keyVersion: h.keyVersion,
    publicKey: publicKey.toString('base64'),
    signature: h.signature.toString('base64'),
  };
}

/** True when an exported checkpoint's signature holds under the public key it names. */
export function exportedSignatureHolds(c: ExportedCheckpoint): boolean {
  const note = checkpointNote({
    treeSize: c.treeSize,
    previousSize: c.previousSize,
    root: Buffer.from(c.rootHash, 'base64'),
    sealedAt: c.sealedAt,
  });
  return verifySignature(Buffer.from(c.publicKey, 'base64'), note, Buffer.from(c.signature, 'base64'));
}
