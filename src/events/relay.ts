/**
 * The relay: moves committed events from the outbox to a broker, in log order (so in order per
 * record), one active relay across every process and server (an advisory lock held for each
 * round's transaction). A round publishes a batch and moves the relay's position in the same
 * transaction: killed mid-round, the next relay publishes the batch again and the broker drops
 * the copies by event id (its dedupe window). Failures back off and retry; delivered events
 * leave the outbox after a grace period.
 */
import type { Db } from '../store/db.js';
import type { PendingEvent } from '../store/events.js';
import * as store from '../store/events.js';
import { Leader } from './leader.js';
import { type Consumer, eventHeaders, type Topic } from './topics.js';

/** A message as a broker adapter publishes it: the event as JSON, its id for dedupe, fixed headers. */
export interface OutboundEvent {
  id: string;
  topic: string;
  recordId: string;
  data: Uint8Array;
  headers: Record<string, string>;
}

/** What a broker consumer reports, for the stale-consumer listing. */
export interface ConsumerState {
  pending: number;
  lastAck: Date | null;
}

/**
 * A broker behind the relay. NATS JetStream is the one shipped (events/nats); another (Kafka
 * through kafkajs, say) implements the same five calls.
 */
export interface BrokerAdapter {
  readonly kind: string;
  /**
   * Creates or updates each topic's stream or topic (retention, compaction, dedupe) and each
   * consumer; one in `fromNew` (pruned before) is made to start at new events.
   */
  prepare(topics: readonly Topic[], consumers: readonly Consumer[], fromNew: ReadonlySet<string>): Promise<void>;
  /**
   * Publishes in the order given; resolves once the broker has stored every one (a copy of one it
   * has is dropped). Never stores a record's event ahead of an earlier one of the same record,
   * even when the connection fails mid-batch and the batch is sent again.
   */
  publish(events: readonly OutboundEvent[]): Promise<void>;
  consumerState(consumer: string, topic: Topic): Promise<ConsumerState | undefined>;
  deleteConsumer(consumer: string, topic: Topic): Promise<void>;
  close(): Promise<void>;
}

export interface RelayStats {
  delivered: number;
  /** Events of topics no longer declared, passed over. */
  skipped: number;
  /** Publish failures by topic (names from the configuration). */
  failures: Map<string, number>;
}

export interface RelayOptions {
  batch: number;
  graceMs: number;
  /** Wait between rounds when there was nothing to send. */
  idleMs?: number;
  onError(e: unknown): void;
}

const encoder = new TextEncoder();

export function outbound(e: PendingEvent): OutboundEvent {
  return { id: e.id, topic: e.topic, recordId: e.recordId, data: encoder.encode(e.json), headers: eventHeaders(e.topic) };
}

export class Relay {
  readonly stats: RelayStats = { delivered: 0, skipped: 0, failures: new Map() };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private failuresInARow = 0;
  private lastCleanup = 0;
  private broker: BrokerAdapter | undefined;
  /** One relay is active across every process and server. */
  private readonly leader: Leader;
  private loop: () => void = () => {};
  private poked = false;

  constructor(
    private readonly db: Db,
    /** Connects to the broker; called again after a failed connection, at the next round. */
    private readonly connect: () => Promise<BrokerAdapter>,
    private readonly topics: ReadonlyMap<string, Topic>,
    private readonly consumers: readonly Consumer[],
    private readonly options: RelayOptions,
  ) {
    this.leader = new Leader(db, store.RELAY_LOCK);
  }

  /**
   * One round: if this relay is the active one, connected (streams and consumers prepared) if not
   * yet, positions given to committed events, then a batch published in log order, then the
   * relay's position saved. No transaction is held while the broker is waited for. Returns how
   * many events went (0 also when another relay is active).
   */
  async round(): Promise<number> {
    if (!(await this.leader.lead())) return 0;
    if (!this.broker) {
      const broker = await this.connect();
      try {
        await broker.prepare([...this.topics.values()], this.consumers, new Set(await store.prunedConsumers(this.db)));
      } catch (e) {
        await broker.close().catch(() => {});
        throw e;
      }
      this.broker = broker;
    }
    const broker = this.broker;
    await store.sequence(this.db);
    const from = await store.position(this.db, 'relay');
    const batch = await store.pendingEvents(this.db, from, this.options.batch);
    const last = batch.at(-1);
    if (!last) return 0;
    // An event of a topic no longer declared cannot be sent anywhere: it is passed over (and
    // counted), so it never holds up the others.
    const sendable = batch.filter((e) => this.topics.has(e.topic));
    try {
      await broker.publish(sendable.map(outbound));
    } catch (e) {
      for (const t of new Set(sendable.map((b) => b.topic))) this.stats.failures.set(t, (this.stats.failures.get(t) ?? 0) + 1);
      throw e;
    }
    await store.setPosition(this.db, 'relay', last.pos);
    this.stats.delivered += sendable.length;
    this.stats.skipped += batch.length - sendable.length;
    if (Date.now() - this.lastCleanup > 60_000) await this.cleanup();
    return batch.length;
  }

  /** Removes delivered events older than the grace period. */
  async cleanup(): Promise<void> {
    this.lastCleanup = Date.now();
    const delivered = await store.position(this.db, 'relay');
    for (const t of this.topics.values()) await store.removeEvents(this.db, t.name, delivered, this.options.graceMs / 1000);
  }

  /** Runs rounds until `stop`: at once again after a full batch, after `idleMs` when idle, with backoff after a failure. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = () => {
      this.timer = undefined;
      this.running = (async () => {
        let wait = this.options.idleMs ?? 50;
        try {
          const sent = await this.round();
          this.failuresInARow = 0;
          if (sent >= this.options.batch || this.poked) wait = 0;
          this.poked = false;
        } catch (e) {
          this.failuresInARow += 1;
          wait = Math.min(30_000, 100 * 2 ** Math.min(this.failuresInARow, 9));
          // A broker connection that failed is made again at the next round.
          await this.broker?.close().catch(() => {});
          this.broker = undefined;
          this.options.onError(e);
        }
        if (!this.stopped) this.timer = setTimeout(loop, wait);
      })();
    };
    this.loop = loop;
    loop();
  }

  /** Runs the next round now if the relay is waiting out an idle pause (events just committed in this process). */
  poke(): void {
    if (this.stopped || this.failuresInARow > 0) return;
    if (!this.timer) {
      this.poked = true; // a round is running: the next one starts right after it
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(this.loop, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.broker?.close().catch(() => {});
    this.broker = undefined;
    await this.leader.resign();
  }
}
