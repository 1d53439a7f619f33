/**
 * Change events as a service: the writer the record pipeline uses, reads of a topic over HTTP
 * for the roles its declared consumers name (every read audited), the topics' schemas, the
 * relay to a broker when one is configured, retention of the outbox, and the stale-consumer
 * report. Topic names in audit rows, metrics and errors come from the configuration only.
 */
import type { RequestContext } from '../access/actions.js';
import type { Policy } from '../access/policy.js';
import { newRecordId } from '../crypto/derive.js';
import { WardError } from '../errors.js';
import type { BrokerGate } from '../events/nats.js';
import { EventWriter } from '../events/outbox.js';
import { type BrokerAdapter, type ConsumerState, Relay } from '../events/relay.js';
import type { CompiledEvents, Consumer, Topic } from '../events/topics.js';
import { type Send, type Webhook, WebhookSender } from '../events/webhooks.js';
import { selectApiKeys } from '../store/apikeys.js';
import type { Db } from '../store/db.js';
import * as store from '../store/events.js';
import type { AuditTrail } from './trail.js';

export interface EventsOptions {
  space: string;
  /** Webhooks with their secrets resolved (see events/webhooks). */
  webhooks: readonly Webhook[];
  /** Connects to the broker when one is configured (events/nats), let out through `gate` (egress). */
  broker?: ((gate: BrokerGate) => Promise<BrokerAdapter>) | undefined;
  graceMs: number;
  batch: number;
}

/** A read of a topic: after this position, at most `limit` events, waiting up to `waitMs` for the first. */
export interface EventRead {
  after: number;
  limit: number;
  waitMs?: number;
  /** Ends a wait early (the client went away). */
  signal?: AbortSignal;
  /**
   * Audit a read that returns nothing (default true). A stream's idle heartbeats pass false: its
   * opening and every page with events are audited, not each empty wait.
   */
  auditEmpty?: boolean;
}

export interface EventPage {
  /** Each event with its position in the log (`seq`). */
  events: (Record<string, unknown> & { seq: number })[];
  /** The position to read after next time. */
  next: number;
}

export interface ConsumerReport {
  consumer: string;
  role: string;
  topic: string;
  /** Events in the topic the consumer has not read (HTTP) or not acknowledged (broker). */
  lag: number;
  /** The last read over HTTP or acknowledgement on the broker, ISO 8601, or null. */
  lastAck: string | null;
  /** The last use of any API key of the consumer's role, or null. */
  keyLastUsed: string | null;
  via: 'http' | 'broker' | 'none';
  stale: boolean;
}

export const MAX_EVENT_PAGE = 1000;
export const MAX_EVENT_WAIT_MS = 30_000;
const POLL_MS = 100;

export class EventsService {
  readonly writer: EventWriter;
  private relay: Relay | undefined;
  private cleanupTimer: NodeJS.Timeout | undefined;
  private unpoke: (() => void) | undefined;
  private readonly webhooks: WebhookSender;

  constructor(
    private readonly db: Db,
    private readonly policy: Policy,
    private readonly trail: AuditTrail,
    private readonly config: CompiledEvents & EventsOptions,
    /** Sends a webhook delivery (through egress). */
    send: Send,
    /** Lets the broker connection out (through egress). */
    private readonly gate: BrokerGate,
  ) {
    this.writer = new EventWriter(config.topics, config.space, newRecordId);
    this.webhooks = new WebhookSender(db, config.webhooks, send);
  }

  /** One pass of every webhook's deliveries now (tests; `ward serve` runs them in the background). */
  deliverWebhooks(now?: number): Promise<number> {
    return this.webhooks.round(now);
  }

  /** Events webhooks gave up on (ids and positions only). */
  deadLetters(): Promise<store.DeadLetter[]> {
    return store.deadLetters(this.db);
  }

  /** Declared topic names, in declaration order. */
  topicNames(): string[] {
    return [...this.config.topics.keys()];
  }

  consumers(): readonly Consumer[] {
    return this.config.consumers;
  }

  /** Whether events go to a broker (else the outbox is the event log). */
  get brokered(): boolean {
    return this.config.broker !== undefined;
  }

  /** Each topic's JSON Schema. */
  schemas(): Record<string, Record<string, unknown>> {
    return Object.fromEntries([...this.config.topics.values()].map((t) => [t.name, t.schema]));
  }

  /** Topics a role may read: those its declared consumers name. */
  topicsOf(role: string): Set<string> {
    return new Set(this.config.consumers.filter((c) => c.role === role).flatMap((c) => c.topics));
  }

  private topic(name: string): Topic {
    const t = this.config.topics.get(name);
    // The name is what a client typed: not repeated.
    if (!t) throw new WardError('unknown_topic', 'the request names a topic ward.yaml does not declare');
    return t;
  }

  /**
   * Events of a topic after position `after`, oldest first; waits up to `waitMs` when there are
   * none yet. For the operator and roles whose consumers name the topic; every read (and every
   * refusal) is audited with the topic's declared name.
   */
  async read(topicName: string, r: EventRead, ctx: RequestContext): Promise<EventPage> {
    let t: Topic;
    try {
      t = this.topic(topicName);
    } catch (e) {
      await this.trail.write(this.trail.row(ctx, 'events.read', null, [], [], 'failed', 'unknown_topic'));
      throw e;
    }
    const detail = `topic ${t.name}`;
    if (ctx.principal.operator !== true && !this.topicsOf(ctx.principal.role).has(t.name)) {
      await this.trail.write({ ...this.trail.row(ctx, 'events.read', null, [], [], 'denied', 'forbidden'), detail });
      throw new WardError('forbidden', `role ${ctx.principal.role} is not a declared consumer of this topic`);
    }
    if (!Number.isSafeInteger(r.after) || r.after < 0) throw new WardError('invalid_request', 'after must be a whole number from 0');
    if (!Number.isInteger(r.limit) || r.limit < 1 || r.limit > MAX_EVENT_PAGE)
      throw new WardError('invalid_request', `limit must be an integer from 1 to ${MAX_EVENT_PAGE}`);
    const head = await store.sequence(this.db);
    const refuse = async (why: string) => {
      await this.trail.write({ ...this.trail.row(ctx, 'events.read', null, [], [], 'failed', 'after_out_of_range'), detail });
      throw new WardError('after_out_of_range', why);
    };
    if (r.after > head) await refuse(`after is beyond the newest position (${head})`);
    const until = Date.now() + Math.min(r.waitMs ?? 0, MAX_EVENT_WAIT_MS);
    let upto = head;
    let found = await store.readEvents(this.db, [t.name], r.after, upto, r.limit);
    while (!found.length && Date.now() < until && !r.signal?.aborted) {
      upto = await this.nextHead();
      found = await store.readEvents(this.db, [t.name], r.after, upto, r.limit);
    }
    // Read after the events: retention that removed some of them meanwhile is caught, not passed over.
    const floor = await store.position(this.db, `floor:${t.name}`);
    if (r.after < floor) await refuse(`events of this topic up to position ${floor} have been removed by retention; read from ${floor}`);
    // The next read starts after the newest event returned, or after everything looked at.
    const next = found.length < r.limit ? upto : (found.at(-1)?.pos ?? upto);
    if (found.length || r.auditEmpty !== false)
      await this.trail.write({
        ...this.trail.row(ctx, 'events.read', null, [...new Set(found.map((e) => e.recordId))], []),
        detail: `${detail}: ${found.length} event(s) after ${r.after}`,
      });
    for (const c of this.config.consumers)
      if (c.role === ctx.principal.role && c.topics.includes(t.name)) await store.saveCursor(this.db, c.name, t.name, next);
    return { events: found.map((e) => ({ seq: e.pos, ...e.body })), next };
  }

  private relayWith(on: { relayFailed(e: unknown): void }): Relay | undefined {
    const broker = this.config.broker;
    if (broker && !this.relay)
      this.relay = new Relay(this.db, () => broker(this.gate), this.config.topics, this.config.consumers, {
        batch: this.config.batch,
        graceMs: this.config.graceMs,
        onError: on.relayFailed,
      });
    return this.relay;
  }

  /**
   * The newest position after the next poll: waiting readers share one call of the sequencer
   * every POLL_MS, however many there are.
   */
  private nextHead(): Promise<number> {
    this.polling ??= (async () => {
      await new Promise((done) => setTimeout(done, POLL_MS));
      try {
        return await store.sequence(this.db);
      } finally {
        this.polling = undefined;
      }
    })();
    return this.polling;
  }
  private polling: Promise<number> | undefined;

  /** Starts relaying to the broker (when one is configured) and removing old events from the outbox. */
  async start(on: { relayFailed(e: unknown): void }): Promise<void> {
    this.webhooks.start(on.relayFailed);
    const relay = this.relayWith(on);
    if (relay && !this.unpoke) {
      relay.start();
      // Events this process commits wake the relay at once; other processes' within its idle pause.
      this.unpoke = this.writer.onCommitted(() => relay.poke());
    }
    if (!this.config.broker && !this.cleanupTimer && this.config.topics.size) {
      const run = () => {
        this.expire().catch(on.relayFailed);
      };
      this.cleanupTimer = setInterval(run, 60_000);
      this.cleanupTimer.unref();
    }
  }

  /** Relays until nothing is left to send (`ward relay --once`, tests); returns how many went. Needs a broker. */
  async drain(): Promise<number> {
    const relay = this.relayWith({ relayFailed: () => {} });
    if (!relay) throw new WardError('config_invalid', 'there is no broker to relay to: set events.broker.nats.url in ward.yaml');
    let total = 0;
    for (let n = await relay.round(); n > 0; n = await relay.round()) total += n;
    return total;
  }

  async stop(): Promise<void> {
    await this.webhooks.stop();
    this.unpoke?.();
    this.unpoke = undefined;
    if (this.cleanupTimer) clearInterval(this.cleanupTimer);
    this.cleanupTimer = undefined;
    await this.relay?.stop();
    this.relay = undefined;
  }

  /** The newest position in the event log. */
  head(): Promise<number> {
    return store.sequence(this.db);
  }

  /** Without a broker: removes events older than their topic's retention. Returns how many went. */
  async expire(): Promise<number> {
    const head = await store.sequence(this.db);
    let n = 0;
    for (const t of this.config.topics.values()) n += await store.removeEvents(this.db, t.name, head, t.retentionMs / 1000);
    return n;
  }

  /** Per topic: events not yet delivered (or, without a broker, not yet given a position), the oldest one's age, publish failures. */
  async backlog(): Promise<{ topic: string; depth: number; lagSeconds: number; failures: number }[]> {
    const delivered = this.brokered ? await store.position(this.db, 'relay') : await store.position(this.db, 'head');
    const rows = new Map((await store.backlog(this.db, delivered)).map((r) => [r.topic, r]));
    return this.topicNames().map((topic) => ({
      topic,
      depth: rows.get(topic)?.depth ?? 0,
      lagSeconds: rows.get(topic)?.oldestSeconds ?? 0,
      failures: this.relay?.stats.failures.get(topic) ?? 0,
    }));
  }

  /**
   * Each declared consumer of each of its topics: its lag, its last read or acknowledgement,
   * the last use of its role's keys, and whether it is stale (nothing for `staleMs`). For the operator.
   */
  async consumerReport(staleMs: number, broker?: BrokerAdapter): Promise<ConsumerReport[]> {
    await store.sequence(this.db); // committed events counted in the lag
    const cursors = new Map((await store.cursors(this.db)).map((c) => [`${c.consumer}\0${c.topic}`, c]));
    const keys = await selectApiKeys(this.db);
    const declared = await store.declaredAt(
      this.db,
      this.config.consumers.map((c) => c.name),
    );
    const lastUse = (role: string) =>
      keys
        .filter((k) => k.role === role && k.lastUsedAt)
        .map((k) => k.lastUsedAt as Date)
        .sort((a, b) => b.getTime() - a.getTime())[0] ?? null;
    const out: ConsumerReport[] = [];
    for (const c of this.config.consumers)
      for (const name of c.topics) {
        const t = this.topic(name);
        const cursor = cursors.get(`${c.name}\0${name}`);
        const state: ConsumerState | undefined = broker ? await broker.consumerState(c.name, t) : undefined;
        const lastAck = state?.lastAck ?? cursor?.readAt ?? null;
        const used = lastUse(c.role);
        // On the broker: messages not yet acknowledged; over HTTP: the topic's events after the consumer's position.
        const lag = state ? state.pending : await store.countEvents(this.db, name, cursor?.pos ?? 0);
        // A consumer never used is measured from when it was first declared, so a new one is not stale at once.
        const since = declared.get(c.name) ?? new Date();
        const newest = [lastAck, used, since].filter((d): d is Date => d !== null).sort((a, b) => b.getTime() - a.getTime())[0];
        out.push({
          consumer: c.name,
          role: c.role,
          topic: name,
          lag,
          lastAck: lastAck?.toISOString() ?? null,
          keyLastUsed: used?.toISOString() ?? null,
          via: state ? 'broker' : cursor ? 'http' : 'none',
          stale: !newest || Date.now() - newest.getTime() > staleMs,
        });
      }
    return out;
  }

  /** Removes the broker consumer and the HTTP cursor of each stale consumer; audited, one row per consumer. */
  async prune(stale: readonly ConsumerReport[], ctx: RequestContext, broker?: BrokerAdapter): Promise<string[]> {
    if (!this.policy.canAdmin(ctx))
      await this.trail.refuse(ctx, 'events.prune', [], new WardError('forbidden', `role ${ctx.principal.role} may not prune consumers`));
    const names = [...new Set(stale.filter((s) => s.stale).map((s) => s.consumer))];
    for (const name of names) {
      const row = { ...this.trail.row(ctx, 'events.prune', null, [], []), detail: `consumer ${name}` };
      await this.trail.run(row, async (audit) => {
        for (const s of stale.filter((x) => x.consumer === name)) await broker?.deleteConsumer(name, this.topic(s.topic));
        await this.trail.transaction(async (tx, writeAudit) => {
          await store.pruneConsumer(tx, name);
          await writeAudit(audit);
        });
      });
    }
    return names;
  }

  /** Connects to the configured broker (for the consumer report); undefined without one. */
  async connectBroker(): Promise<BrokerAdapter | undefined> {
    return this.config.broker ? this.config.broker(this.gate) : undefined;
  }
}
