/**
 * The relay: moves committed events from the outbox to a broker, in log order (so in order per
 * record), one active relay across every process and server (an advisory lock held for each
 * round's transaction). A round publishes a batch and moves the relay's position in the same
 * transaction: killed mid-round, the next relay publishes the batch again and the broker drops
 * the copies by event id (its dedupe window). Failures back off and retry; delivered events
 * leave the outbox after a grace period.
 */
import type { Db } from '../store/db.js';
import type { StoredEvent } from '../store/events.js';
import * as store from '../store/events.js';
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
  /** Creates or updates each topic's stream or topic (retention, compaction, dedupe) and each consumer. */
  prepare(topics: readonly Topic[], consumers: readonly Consumer[]): Promise<void>;
  /** Publishes in the order given; resolves once the broker has stored every one (a copy of one it has is dropped). */
  publish(events: readonly OutboundEvent[]): Promise<void>;
  consumerState(consumer: string, topic: Topic): Promise<ConsumerState | undefined>;
  deleteConsumer(consumer: string, topic: Topic): Promise<void>;
  close(): Promise<void>;
}

export interface RelayStats {
  delivered: number;
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

export function outbound(e: StoredEvent): OutboundEvent {
  return { id: e.id, topic: e.topic, recordId: e.recordId, data: encoder.encode(JSON.stringify(e.body)), headers: eventHeaders(e.topic) };
}

export class Relay {
  readonly stats: RelayStats = { delivered: 0, failures: new Map() };
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private failuresInARow = 0;
  private lastCleanup = 0;

  private broker: BrokerAdapter | undefined;

  constructor(
    private readonly db: Db,
    /** Connects to the broker; called again after a failed connection, at the next round. */
    private readonly connect: () => Promise<BrokerAdapter>,
    private readonly topics: ReadonlyMap<string, Topic>,
    private readonly consumers: readonly Consumer[],
    private readonly options: RelayOptions,
  ) {}

  /**
   * One round: connected (streams and consumers prepared) if not yet, positions given to
   * committed events, then a batch published. Returns how many went (0 also when another relay
   * is active).
   */
  async round(): Promise<number> {
    if (!this.broker) {
      const broker = await this.connect();
      try {
        await broker.prepare([...this.topics.values()], this.consumers);
      } catch (e) {
        await broker.close().catch(() => {});
        throw e;
      }
      this.broker = broker;
    }
    const broker = this.broker;
    await store.sequence(this.db);
    const sent = await this.db.transaction(async (tx) => {
      if (!(await store.tryRelayLock(tx))) return 0;
      const from = await store.position(tx, 'relay');
      const batch = await store.pendingEvents(tx, from, this.options.batch);
      const last = batch.at(-1);
      if (!last) return 0;
      try {
        await broker.publish(batch.map(outbound));
      } catch (e) {
        for (const t of new Set(batch.map((b) => b.topic))) this.stats.failures.set(t, (this.stats.failures.get(t) ?? 0) + 1);
        throw e;
      }
      await store.setPosition(tx, 'relay', last.pos);
      return batch.length;
    });
    this.stats.delivered += sent;
    if (Date.now() - this.lastCleanup > 60_000) await this.cleanup();
    return sent;
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
          if (sent >= this.options.batch) wait = 0;
        } catch (e) {
          this.failuresInARow += 1;
          wait = Math.min(30_000, 100 * 2 ** Math.min(this.failuresInARow, 9));
          this.options.onError(e);
        }
        if (!this.stopped) this.timer = setTimeout(loop, wait);
      })();
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.broker?.close().catch(() => {});
    this.broker = undefined;
  }
}
