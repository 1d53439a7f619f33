/**
 * Webhooks: each declared webhook receives its topic's events, one HTTPS POST per event, in log
 * order, signed so the receiver can tell they come from Ward and are fresh:
 *
 *   Ward-Webhook-Id: <event id>            (the same on every attempt: deduplicate on it)
 *   Ward-Webhook-Timestamp: <unix seconds>
 *   Ward-Webhook-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>
 *
 * A receiver recomputes the signature over the raw body and refuses a timestamp more than five
 * minutes from its clock (`verifyWebhook`). A failed delivery (an answer other than 2xx, a refused
 * or failed request) is retried with doubling waits; after `max_attempts` the event goes to the
 * dead letters and the webhook goes on with the next. One sender is active across every process.
 * Requests go out through egress (the receiver's host needs an agreement in force for PHI: events
 * carry tokens, which refer to PHI).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { isWardError } from '../errors.js';
import type { Db } from '../store/db.js';
import * as store from '../store/events.js';
import { Leader } from './leader.js';

export const REPLAY_WINDOW_SECONDS = 300;

export interface Webhook {
  name: string;
  topic: string;
  url: string;
  secret: string;
  maxAttempts: number;
  retryAfterMs: number;
}

/** Sends one signed POST (through egress); resolves with the status, or throws a WardError. */
export type Send = (w: Webhook, body: string, headers: Record<string, string>) => Promise<number>;

export function signature(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The headers of one delivery. */
export function signedHeaders(secret: string, eventId: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    'content-type': 'application/json',
    'ward-webhook-id': eventId,
    'ward-webhook-timestamp': String(timestamp),
    'ward-webhook-signature': signature(secret, timestamp, body),
  };
}

/**
 * For receivers: whether a delivery is Ward's and fresh: its signature matches the raw body under
 * the shared secret and its timestamp is within `toleranceSeconds` of now.
 */
export function verifyWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  rawBody: string,
  toleranceSeconds = REPLAY_WINDOW_SECONDS,
  now = Date.now(),
): boolean {
  const ts = Number(headers['ward-webhook-timestamp']);
  const sig = headers['ward-webhook-signature'];
  if (!Number.isInteger(ts) || typeof sig !== 'string' || Math.abs(now / 1000 - ts) > toleranceSeconds) return false;
  const expected = Buffer.from(signature(secret, ts, rawBody));
  const given = Buffer.from(sig);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

interface Pending {
  /** The event being retried: attempts count for it alone. */
  eventId: string;
  attempts: number;
  notBefore: number;
  lastStatus: number | null;
  lastReason: string | null;
}

/** Delivers every webhook's events in order, one sender active across processes. */
export class WebhookSender {
  private readonly leader: Leader;
  /** The event each webhook is retrying, by webhook name: its attempts so far and when it may go again. */
  private readonly pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;

  constructor(
    private readonly db: Db,
    private readonly hooks: readonly Webhook[],
    private readonly send: Send,
  ) {
    this.leader = new Leader(db, store.WEBHOOK_LOCK);
  }

  /** One pass over every webhook: each sends what it can (up to 100 events) until one fails. Returns how many were delivered. */
  async round(now = Date.now()): Promise<number> {
    if (!this.hooks.length) return 0;
    if (!(await this.leader.lead())) {
      // Another process sends now: what this one knew of attempts is stale.
      this.pending.clear();
      return 0;
    }
    const head = await store.sequence(this.db);
    let delivered = 0;
    for (const w of this.hooks) {
      let after = await store.position(this.db, `webhook:${w.name}`);
      // Events retention removed before this webhook got them: recorded as one dead letter, not skipped silently.
      const floor = await store.position(this.db, `floor:${w.topic}`);
      if (after < floor) {
        await this.db.transaction(async (tx) => {
          await store.insertDeadLetter(tx, {
            webhook: w.name,
            topic: w.topic,
            eventId: null,
            pos: floor,
            attempts: 0,
            lastStatus: null,
            lastReason: `removed_by_retention: positions ${after + 1} to ${floor}`,
          });
          await store.setPosition(tx, `webhook:${w.name}`, floor);
        });
        after = floor;
      }
      const events = await store.readEvents(this.db, [w.topic], after, head, 100);
      for (const e of events) {
        const known = this.pending.get(w.name);
        const p = known?.eventId === e.id ? known : undefined;
        if (p && p.notBefore > now) break;
        const body = JSON.stringify(e.body);
        let status: number | null = null;
        let reason: string | null = null;
        try {
          // Signed at the moment it goes: a slow batch never sends a stale timestamp.
          status = await this.send(w, body, signedHeaders(w.secret, e.id, body));
          if (status < 200 || status > 299) reason = 'status';
        } catch (err) {
          if (!isWardError(err)) throw err;
          reason = err.code;
        }
        if (reason === null) {
          this.pending.delete(w.name);
          await store.setPosition(this.db, `webhook:${w.name}`, e.pos);
          delivered++;
          continue;
        }
        const attempts = (p?.attempts ?? 0) + 1;
        if (attempts < w.maxAttempts) {
          const wait = Math.min(300_000, w.retryAfterMs * 2 ** (attempts - 1));
          this.pending.set(w.name, { eventId: e.id, attempts, notBefore: now + wait, lastStatus: status, lastReason: reason });
          break;
        }
        // Given up: kept as a dead letter (ids and position, never the body); the next event goes.
        await this.db.transaction(async (tx) => {
          await store.insertDeadLetter(tx, {
            webhook: w.name,
            topic: w.topic,
            eventId: e.id,
            pos: e.pos,
            attempts,
            lastStatus: status,
            lastReason: reason,
          });
          await store.setPosition(tx, `webhook:${w.name}`, e.pos);
        });
        this.pending.delete(w.name);
      }
    }
    return delivered;
  }

  /** Delivers in the background every `everyMs` until `stop`; a failed round goes to `onError`. */
  start(onError: (e: unknown) => void, everyMs = 250): void {
    if (!this.stopped || !this.hooks.length) return;
    this.stopped = false;
    const loop = () => {
      this.running = (async () => {
        try {
          await this.round();
        } catch (e) {
          onError(e);
        }
        if (!this.stopped) this.timer = setTimeout(loop, everyMs);
      })();
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.leader.resign();
  }
}
