/**
 * Log-in monitoring (45 CFR 164.308(a)(5)(ii)(C)). Failed authentications are counted per client
 * address (IPv6: per /64) and per API key, in the database so every process of a server counts
 * together. Past `maxFailures` within `windowMs` the client is locked out for `lockoutMs`: each of
 * its requests gets 429 with Retry-After, answered from memory without touching the database, and
 * a key under lockout has every failed attempt answered that way (its right secret still works).
 * A lockout is audited once, with its counts, not one row per attempt; every process learns of it
 * through `NOTIFY ward_lockouts` when it commits.
 */
import type { AuthLimits } from '../config/load.js';
import { WardError } from '../errors.js';
import type { AuditRow } from '../store/audit.js';
import type { Db, Subscription } from '../store/db.js';
import * as store from '../store/logins.js';
import type { AuditTrail } from './trail.js';

/**
 * How a counter moves on one more failure at `now`: counted in its window; the one past
 * `maxFailures` starts a lockout (and the count starts again); under a lockout nothing is counted.
 */
export function step(
  t: store.Throttle,
  now: Date,
  limits: AuthLimits,
): { next: store.Throttle; failures: number; lockedNow: boolean; locked: boolean } {
  if (t.lockedUntil && t.lockedUntil > now) return { next: t, failures: t.failures, lockedNow: false, locked: true };
  const fresh = now.getTime() - t.windowStart.getTime() >= limits.windowMs;
  const failures = (fresh ? 0 : t.failures) + 1;
  const windowStart = fresh ? now : t.windowStart;
  const lockedNow = failures > limits.maxFailures;
  const lockedUntil = lockedNow ? new Date(now.getTime() + limits.lockoutMs) : null;
  return { next: { ...t, windowStart, failures: lockedNow ? 0 : failures, lockedUntil }, failures, lockedNow, locked: false };
}

/** The 429 for a lockout that ends at `until` (ms since epoch), carrying how long to wait. */
export const lockedError = (until: number): LockedOut => {
  const e = new WardError('too_many_failures', 'too many failed authentications from this client or for this key; retry later');
  return Object.assign(e, { retryAfterSeconds: Math.max(1, Math.ceil((until - Date.now()) / 1000)) });
};

/** An error carrying how long the client should wait: sent as Retry-After. */
export type LockedOut = WardError & { retryAfterSeconds: number };

/** A lockout that has just started: who (a client address or `key:` prefix), after how many failures, until when. */
export interface Lockout {
  kind: 'client' | 'key';
  subject: string;
  failures: number;
  until: Date;
}

export class LoginGuard {
  /** `client <address>` or `key <prefix>` → locked until (ms since epoch). */
  private readonly locked = new Map<string, number>();
  private subscription: Subscription | undefined;
  private lastPrune = 0;

  /** Hears each lockout as it starts (alerts). */
  private onLockout: ((l: Lockout) => void) | undefined;

  constructor(
    private readonly db: Db,
    private readonly trail: AuditTrail,
    readonly limits: AuthLimits,
  ) {}

  /** Calls `listener` after each lockout that starts in this process has committed. */
  onLockoutStarted(listener: (l: Lockout) => void): void {
    this.onLockout = listener;
  }

  /** Learns of lockouts from every process: those in force now, and each new one as it commits. */
  async start(): Promise<void> {
    if (this.subscription) return;
    await new Promise<void>((ready) => {
      this.subscription = this.db.listen(store.LOCKOUTS_CHANNEL, {
        message: (payload) => {
          const [kind, subject, until] = payload.split(' ');
          if ((kind === 'client' || kind === 'key') && subject && Number(until) > Date.now()) this.remember(kind, subject, Number(until));
        },
        up: ready,
        down: ready,
      });
    });
    for (const t of await store.activeLockouts(this.db)) if (t.lockedUntil) this.remember(t.kind, t.subject, t.lockedUntil.getTime());
  }

  async close(): Promise<void> {
    const s = this.subscription;
    this.subscription = undefined;
    await s?.close();
  }

  /** Throws 429 `too_many_failures` when the client is locked out; no database work. */
  checkClient(client: string | null): void {
    const until = client === null ? undefined : this.lockedUntil('client', client);
    if (until) throw lockedError(until);
  }

  /** When failed attempts with this key are being refused: until then (ms since epoch). */
  keyLocked(prefix: string | undefined): number | undefined {
    return prefix === undefined ? undefined : this.lockedUntil('key', prefix);
  }

  /**
   * Counts one failed authentication for its client and (when it named a real key) that key, and
   * audits it: the failure itself (unless `auditAttempt` is false, or a lockout was already in
   * force), and a lockout when this failure starts one, with its counts. Returns the lockout
   * error to answer with, if any.
   */
  async failure(client: string | null, prefix: string | undefined, row: AuditRow, auditAttempt = true): Promise<LockedOut | undefined> {
    const subjects = [
      ...(client === null ? [] : [{ kind: 'client' as const, subject: client }]),
      ...(prefix === undefined ? [] : [{ kind: 'key' as const, subject: prefix }]),
    ];
    if (!subjects.length) {
      if (auditAttempt) await this.trail.write(row);
      return undefined;
    }
    // Every subject that is locked, with when its lockout ends.
    const begun: Lockout[] = [];
    const until = await this.trail.transaction(async (tx, writeAudit) => {
      begun.length = 0;
      const { now, rows } = await store.lockThrottles(tx, subjects);
      const moves = rows.map((t) => ({ t, ...step(t, now, this.limits) }));
      const started = moves.filter((m) => m.lockedNow);
      await store.saveThrottles(
        tx,
        moves.map((m) => m.next),
        started.map((m) => m.next),
      );
      // The failure itself, unless a lockout was already in force or begins with it (then its row says so).
      if (auditAttempt && !moves.some((m) => m.locked || m.lockedNow)) await writeAudit(row);
      for (const m of started)
        begun.push({ kind: m.next.kind, subject: m.next.subject, failures: m.failures, until: m.next.lockedUntil ?? new Date() });
      for (const m of started)
        await writeAudit({
          ...row,
          outcome: 'denied',
          reason: 'too_many_failures',
          detail: `locked ${m.next.kind}: ${m.failures} failures within ${this.limits.windowMs / 1000}s; lockout ${this.limits.lockoutMs / 1000}s`,
        });
      return moves
        .filter((m) => m.locked || m.lockedNow)
        .map((m) => ({ kind: m.next.kind, subject: m.next.subject, at: m.next.lockedUntil?.getTime() ?? 0 }));
    });
    for (const l of begun) this.onLockout?.(l);
    if (Date.now() - this.lastPrune > this.limits.windowMs) {
      this.lastPrune = Date.now();
      await store.pruneThrottles(this.db, Math.max(this.limits.windowMs, this.limits.lockoutMs)).catch(() => {});
    }
    if (!until.length) return undefined;
    for (const t of until) this.remember(t.kind, t.subject, t.at);
    return lockedError(Math.max(...until.map((t) => t.at)));
  }

  private remember(kind: store.ThrottleKind, subject: string, until: number): void {
    const key = `${kind} ${subject}`;
    if ((this.locked.get(key) ?? 0) < until) this.locked.set(key, until);
  }

  private lockedUntil(kind: store.ThrottleKind, subject: string): number | undefined {
    const key = `${kind} ${subject}`;
    const until = this.locked.get(key);
    if (until === undefined) return undefined;
    if (until > Date.now()) return until;
    this.locked.delete(key);
    return undefined;
  }
}
