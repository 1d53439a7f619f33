/**
 * The one database interface: node-postgres or PGlite behind it, the same SQL for both.
 * Driver errors are translated here so no driver message (which may quote a value) escapes.
 */
import { WardError } from '../errors.js';

export type Row = Record<string, unknown>;

/**
 * A statement the pg driver prepares once per connection under its name, so the server plans
 * it once (planning a lookup cost four times its execution). Only for fixed SQL text.
 */
export interface Statement {
  name: string;
  text: string;
}

export const statement = (name: string, text: string): Statement => ({ name, text });

export const sqlText = (sql: string | Statement) => (typeof sql === 'string' ? sql : sql.text);

export interface Queryable {
  query<R extends Row = Row>(sql: string | Statement, params?: readonly unknown[]): Promise<R[]>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** A channel name for LISTEN/NOTIFY: a plain lowercase identifier. */
export const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

/** What a listener hears: each notification's payload, and when listening starts or stops. */
export interface ListenHandlers {
  message(payload: string): void;
  /** Listening: from now on every notification is delivered. */
  up(): void;
  /** Not listening (connection lost): notifications may be missed until `up` again. */
  down(): void;
}

export interface Subscription {
  close(): Promise<void>;
}

/** Connection pool figures for the metrics. */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/** A connection of its own (see Db.session): `lost` once it has dropped. */
export interface Session extends Queryable {
  readonly lost: boolean;
  release(): Promise<void>;
}

export interface Db extends Queryable {
  readonly kind: 'pg' | 'pglite';
  /** Connections at most (the pool's size; 1 for PGlite). */
  readonly size: number;
  /** Runs `fn` in one transaction: commit on return, rollback and rethrow on throw. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * A connection of its own outside the pool, for a session-level advisory lock that must end
   * with the process (the relay's); on PGlite, its one connection.
   */
  session(): Promise<Session>;
  /** Listens on a channel on a dedicated connection, reconnecting when it drops. */
  listen(channel: string, handlers: ListenHandlers): Subscription;
  stats(): PoolStats;
  close(): Promise<void>;
}

/** A unique constraint on a blind index was hit; `field` names the field, never the value. */
export class UniqueViolation extends WardError {
  constructor(readonly field: string | undefined) {
    super('unique_violation', field ? `field ${field}: another record already holds this value` : undefined);
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  '57P01',
  '57P03',
  '08006',
  '08001',
  '08004',
  '28P01',
  '28000',
  '3D000',
]);

/** Maps a driver error to a WardError that carries the SQLSTATE, not the driver's message. */
export function storeError(e: unknown): WardError {
  if (e instanceof WardError) return e;
  const err = e as { code?: unknown; detail?: unknown; constraint?: unknown; table?: unknown; where?: unknown };
  // A failed write to the audit trail fails the operation it belongs to, whatever the cause.
  if (err.table === 'ward_audit_events' || (typeof err.where === 'string' && err.where.includes('ward_audit_events')))
    return new WardError('audit_failed');
  const code = typeof err.code === 'string' ? err.code : 'unknown';
  // Ward's own functions raise WAnnn with messages that name positions and counts, never values.
  const own = (e as { message?: unknown }).message;
  if (code === 'WA410') return new WardError('subject_shredded', "the record's subject was shredded while it was written");
  if (/^WA\d{3}$/.test(code) && typeof own === 'string') return new WardError('integrity_error', own.replace(/^ward: /, ''));
  if (code === '23505' && typeof err.detail === 'string' && err.constraint === 'ward_unique_pkey') {
    return new UniqueViolation(/=\([^,]+, ([a-z][a-z0-9_]*),/.exec(err.detail)?.[1]);
  }
  if (CONNECTION_CODES.has(code))
    return new WardError('database_error', `cannot reach or log in to the database (${code}): check database.url or DATABASE_URL`);
  return new WardError('database_error', `database operation failed (SQLSTATE ${code})`);
}

export async function translated<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    throw storeError(e);
  }
}

/** bytea comes back as Buffer from pg and Uint8Array from PGlite. */
export function asBuffer(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw new WardError('integrity_error');
}
