/**
 * The sealed audit log of one database: its signing keys, its sealer, verification and the
 * checkpoints an auditor exports. Every verification is recorded, signed, so the next incremental
 * one starts where a sound one ended, and a full one runs at most once at a time across processes.
 */
import type { MasterRing } from '../crypto/masters.js';
import { WardError } from '../errors.js';
import type { Db } from '../store/db.js';
import * as store from '../store/seal.js';
import * as record from '../store/verifications.js';
import { type ExportedCheckpoint, exportCheckpoint } from './checkpoint.js';
import { Sealer, type SealResult } from './seal.js';
import { SigningKeys, verifySignature } from './signing.js';
import { type VerifyReport, verifyLog } from './verify.js';

/** Events an incremental verification checks at most per call (about a second of work). */
export const INCREMENT_EVENTS = 200_000;

/** The newest full verification, as a report carries it. */
export interface LastFull {
  at: string;
  ok: boolean;
  treeSize: number;
}

const note = (v: Omit<record.VerificationRow, 'keyVersion' | 'signature'>) =>
  Buffer.from(`ward-audit-verification/v1\n${v.at}\n${v.kind}\n${v.fromSize}\n${v.treeSize}\n${v.ok}\n${v.problem ?? ''}\n`);

export class AuditLog {
  readonly sealer: Sealer;
  /** A full verification running in this process. */
  private full: Promise<VerifyReport | undefined> | undefined;
  /** An incremental one running in this process: concurrent callers share it. */
  private increment: Promise<VerifyReport> | undefined;
  private verifyTimer: NodeJS.Timeout | undefined;
  private verifying: Promise<unknown> | undefined;

  private constructor(
    private readonly db: Db,
    readonly keys: SigningKeys,
  ) {
    this.sealer = new Sealer(db, keys);
  }

  static async open(db: Db, master: MasterRing): Promise<AuditLog> {
    return new AuditLog(db, await SigningKeys.open(db, master));
  }

  /** Seals what can be sealed; `waitMs` waits that long for open transactions to finish. */
  seal(waitMs = 0): Promise<SealResult> {
    return this.sealer.sealAll(waitMs);
  }

  /**
   * A full verification, from the first event (and against an exported checkpoint, given one).
   * One at a time across every process of the database: while another runs, `busy` is refused.
   */
  async verify(since?: ExportedCheckpoint): Promise<VerifyReport> {
    const report = await this.exclusive(() => this.recorded('full', () => verifyLog(this.db, this.keys, since ? { since } : {})));
    if (!report)
      throw new WardError(
        'database_error',
        'a full verification of the audit log is running in another process; try again when it has finished',
      );
    return report;
  }

  /** Runs a full verification when the newest one is older than `everyMs` and none is running; else nothing. */
  async verifyIfDue(everyMs: number): Promise<VerifyReport | undefined> {
    const last = await this.lastFull();
    if (last && Date.now() - Date.parse(last.at) < everyMs) return undefined;
    return this.exclusive(() => this.recorded('full', () => verifyLog(this.db, this.keys)));
  }

  /**
   * An incremental verification: from the newest checkpoint a recorded (and genuinely signed)
   * verification found sound, at most `maxEvents` further. Cheap enough to offer over HTTP; it
   * does not look again at what earlier verifications covered (the full ones do).
   */
  verifyIncremental(maxEvents = INCREMENT_EVENTS): Promise<VerifyReport> {
    this.increment ??= (async () => {
      const from = await this.soundUpTo();
      return this.recorded('incremental', () => verifyLog(this.db, this.keys, { from, maxEvents }));
    })().finally(() => {
      this.increment = undefined;
    });
    return this.increment;
  }

  /**
   * Verifies the whole log in the background whenever the newest full verification is older than
   * `everyMs` (checked hourly at most, first a minute after start); one process at a time.
   */
  startVerifying(everyMs: number, done: (r: VerifyReport) => void, onError: (e: unknown) => void): void {
    if (this.verifyTimer) return;
    const tick = () => {
      this.verifying = this.verifyIfDue(everyMs)
        .then((r) => r && done(r), onError)
        .finally(() => {
          this.verifying = undefined;
          if (this.verifyTimer) this.verifyTimer = setTimeout(tick, Math.min(everyMs, 3_600_000)).unref();
        });
    };
    this.verifyTimer = setTimeout(tick, Math.min(everyMs, 60_000)).unref();
  }

  /** Stops the background verification, after the one running (if any) has finished. */
  async stopVerifying(): Promise<void> {
    clearTimeout(this.verifyTimer);
    this.verifyTimer = undefined;
    await this.verifying;
  }

  /** Signs a statement (a destruction certificate) with the newest audit signing key; its version and public half too. */
  async signStatement(message: Buffer): Promise<{ version: number; signature: Buffer; publicKey: Buffer }> {
    const { version, signature } = await this.keys.sign(this.db, message);
    return { version, signature, publicKey: this.keys.publicKey(version) as Buffer };
  }

  /** The public halves of the audit signing keys (to check a signed statement against). */
  async publicKeys(): Promise<Buffer[]> {
    await this.keys.refresh();
    return this.keys.list().map((k) => Buffer.from(k.publicKey, 'base64'));
  }

  /** The newest full verification on record (genuinely signed), if any. */
  async lastFull(): Promise<LastFull | undefined> {
    const rows = await record.recentVerifications(this.db, 20, 'full');
    const v = rows.find((r) => this.genuine(r));
    return v && { at: v.at, ok: v.ok, treeSize: v.treeSize };
  }

  /** The newest signed checkpoint, in the form an auditor keeps; undefined before the first seal. */
  async checkpoint(): Promise<ExportedCheckpoint | undefined> {
    const head = await store.latestCheckpoint(this.db);
    if (!head) return undefined;
    if (!this.keys.publicKey(head.keyVersion)) await this.keys.refresh(); // rotated by another process
    const key = this.keys.publicKey(head.keyVersion);
    return key && exportCheckpoint(head, key);
  }

  /** The tree size up to which the newest genuine verification found the log sound; 0 when none did. */
  private async soundUpTo(): Promise<number> {
    // A failed one is passed over: the next incremental checks again from the sound point before it.
    for (const r of await record.recentVerifications(this.db, 50)) if (r.ok && this.genuine(r)) return r.treeSize;
    return 0;
  }

  private genuine(r: record.VerificationRow): boolean {
    const key = this.keys.publicKey(r.keyVersion);
    return !!key && verifySignature(key, note(r), r.signature);
  }

  /** Runs a verification and records its outcome, signed. */
  private async recorded(kind: record.VerificationRow['kind'], run: () => Promise<VerifyReport>): Promise<VerifyReport> {
    const report = await run();
    const v = {
      at: new Date().toISOString(),
      kind,
      fromSize: report.from,
      treeSize: report.treeSize,
      ok: report.ok,
      problem: report.problem ? `${report.problem.kind}${report.problem.seq ? ` seq ${report.problem.seq}` : ''}` : null,
    };
    const { version, signature } = await this.keys.sign(this.db, note(v));
    await record.insertVerification(this.db, { ...v, keyVersion: version, signature });
    return report;
  }

  /**
   * Runs `fn` unless a full verification is running, here or (on PostgreSQL) in another process:
   * the lock is held by a transaction that only waits, so it holds back neither sealing nor vacuum.
   */
  private exclusive(fn: () => Promise<VerifyReport>): Promise<VerifyReport | undefined> {
    if (this.full) return Promise.resolve(undefined);
    const run = this.db.kind === 'pg' ? this.db.transaction(async (tx) => ((await record.tryVerifyLock(tx)) ? fn() : undefined)) : fn();
    this.full = run.finally(() => {
      this.full = undefined;
    });
    return this.full;
  }
}
