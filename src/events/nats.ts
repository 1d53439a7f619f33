/**
 * The NATS JetStream broker adapter: one stream per topic (`max_age` from the topic's retention,
 * `duplicate_window` for dedupe, one message per subject when the topic compacts), each event
 * published on the subject equal to the topic name (a compacting topic: `<topic>.<record id>`,
 * so the broker keeps the newest per record) with `Nats-Msg-Id` = event id, and a durable
 * pull consumer with explicit acks for each declared consumer of each topic.
 */
import { readFileSync } from 'node:fs';
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import {
  type Authenticator,
  connect,
  credsAuthenticator,
  headers,
  type NatsConnection,
  nanos,
  nkeyAuthenticator,
} from '@nats-io/transport-node';
import { WardError } from '../errors.js';
import type { BrokerAdapter, ConsumerState, OutboundEvent } from './relay.js';
import type { Consumer, Topic } from './topics.js';

/**
 * How the broker connection is let out: through egress (vault/egress), which checks each server's
 * host against the agreements (the events carry tokens and record ids: references to PHI) and its
 * address against the space's rules, audits it, and pins the address; and checks the server's
 * certificate against the host names admitted.
 */
export interface BrokerGate {
  /** Admits (and audits) a connection to `host`; refuses plain TCP to a public address. */
  admit(host: string, tls: boolean): Promise<{ address: string }>;
  /** Whether an agreement in force still covers `host` (checked while the connection lasts). */
  covers(host: string): Promise<boolean>;
  identity(hosts: readonly string[]): (servername: string, cert: unknown) => Error | undefined;
}

export interface NatsSettings {
  url: string;
  credentials?: string | undefined;
  nkey?: string | undefined;
  tls?: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined } | undefined;
  dedupeWindowMs: number;
}

/** A JetStream stream name for a topic (stream names may not hold dots). */
export const streamName = (topic: string) => `WARD_${topic.replace(/\./g, '_')}`;
/** The subject an event of a topic goes out on. */
export const subjectOf = (topic: Topic, recordId: string) => (topic.compact ? `${topic.name}.${recordId}` : topic.name);
const subjectsOf = (topic: Topic) => (topic.compact ? [`${topic.name}.*`] : [topic.name]);

function authenticator(s: NatsSettings): Authenticator | undefined {
  try {
    if (s.credentials) return credsAuthenticator(readFileSync(s.credentials));
    if (s.nkey) return nkeyAuthenticator(new TextEncoder().encode(readFileSync(s.nkey, 'utf8').trim()));
  } catch {
    throw new WardError('config_invalid', 'events.broker.nats: cannot read the credentials or nkey file named; check the path');
  }
  return undefined;
}

const isIpAddress = (h: string) => /^[\d.]+$/.test(h) || h.includes(':');

/** Each server of `settings.url` admitted by the gate, as a URL to the admitted address (credentials kept). */
async function admitted(settings: NatsSettings, gate: BrokerGate): Promise<{ url: string; host: string; tls: boolean }[]> {
  const out = [];
  const raws = settings.url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  // TLS for every server when the settings or any URL ask for it (the client applies one setting to all).
  const tls = settings.tls !== undefined || raws.some((r) => /^tls:\/\//i.test(r));
  for (const raw of raws) {
    let u: URL;
    try {
      u = new URL(raw.includes('://') ? raw : `nats://${raw}`);
    } catch {
      throw new WardError('config_invalid', 'events.broker.nats.url: a server is not a URL such as nats://host:4222 or tls://host:4222');
    }
    if (u.username || u.password)
      throw new WardError(
        'config_invalid',
        'events.broker.nats.url: put no credentials in the URL; use events.broker.nats.credentials or nkey',
      );
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (!host) throw new WardError('config_invalid', 'events.broker.nats.url: a server names no host');
    const { address } = await gate.admit(host, tls);
    const at = address.includes(':') ? `[${address}]` : address;
    out.push({ url: `${u.protocol}//${at}:${u.port || 4222}`, host, tls });
  }
  if (!out.length) throw new WardError('config_invalid', 'events.broker.nats.url: name at least one server');
  return out;
}

export class NatsBroker implements BrokerAdapter {
  readonly kind = 'nats';
  private readonly byName: Map<string, Topic>;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamClient,
    private readonly settings: NatsSettings,
    topics: ReadonlyMap<string, Topic>,
  ) {
    this.byName = new Map(topics);
  }

  /**
   * Connects to the servers in `settings.url`, each admitted by `gate` first and reached at the
   * address it was admitted at (gossiped cluster members are ignored: they were not admitted).
   * TLS (1.2 or later, certificate verified) is required unless every server is on a private
   * address the space allows.
   */
  static async connect(settings: NatsSettings, topics: ReadonlyMap<string, Topic>, gate: BrokerGate): Promise<NatsBroker> {
    const auth = authenticator(settings);
    const servers = await admitted(settings, gate);
    const wantTls = servers.some((s) => s.tls);
    const names = [...new Set(servers.map((s) => s.host))];
    const named = names.filter((h) => !isIpAddress(h));
    const tls = wantTls && {
      ...(settings.tls?.ca ? { caFile: settings.tls.ca } : {}),
      ...(settings.tls?.cert ? { certFile: settings.tls.cert } : {}),
      ...(settings.tls?.key ? { keyFile: settings.tls.key } : {}),
      minVersion: 'TLSv1.2',
      rejectUnauthorized: true,
      ...(named.length === 1 ? { servername: named[0] } : {}),
      checkServerIdentity: gate.identity(names),
    };
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: servers.map((s) => s.url),
        ignoreClusterUpdates: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        timeout: 5_000,
        name: 'ward-relay',
        ...(auth ? { authenticator: auth } : {}),
        ...(tls ? { tls: tls as never } : {}),
      });
    } catch {
      // The URL may carry a password: it is not repeated.
      throw new WardError('broker_unavailable', 'cannot connect to the NATS server named in events.broker.nats.url');
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: 10_000 });
      const broker = new NatsBroker(nc, jsm, jetstream(nc, { timeout: 10_000 }), settings, topics);
      broker.watch(gate, names, wantTls);
      return broker;
    } catch {
      // A server without JetStream (or an account without it): the connection is not kept.
      await nc.close().catch(() => {});
      throw new WardError('broker_unavailable', 'the NATS server named in events.broker.nats.url has no JetStream for this account');
    }
  }

  async prepare(topics: readonly Topic[], consumers: readonly Consumer[], fromNew: ReadonlySet<string> = new Set()): Promise<void> {
    for (const t of topics) {
      this.byName.set(t.name, t);
      const config = {
        subjects: subjectsOf(t),
        max_age: nanos(t.retentionMs),
        duplicate_window: nanos(Math.min(this.settings.dedupeWindowMs, t.retentionMs)),
        max_msgs_per_subject: t.compact ? 1 : -1,
      };
      const name = streamName(t.name);
      const exists = await this.jsm.streams.info(name).then(
        () => true,
        () => false,
      );
      if (exists) await this.jsm.streams.update(name, config);
      else await this.jsm.streams.add({ name, ...config, storage: StorageType.File, retention: RetentionPolicy.Limits });
    }
    for (const c of consumers)
      for (const name of c.topics) {
        const t = this.byName.get(name);
        if (!t) continue;
        const exists = await this.jsm.consumers.info(streamName(t.name), c.name).then(
          () => true,
          () => false,
        );
        // A consumer pruned before and still declared starts at new events, not the whole stream again.
        if (!exists)
          await this.jsm.consumers.add(streamName(t.name), {
            durable_name: c.name,
            ack_policy: AckPolicy.Explicit,
            deliver_policy: fromNew.has(c.name) ? DeliverPolicy.New : DeliverPolicy.All,
          });
      }
  }

  /**
   * Sends in order on one connection, many at a time, in waves in which no record appears twice:
   * a record's next event goes only after the broker has stored the one before. So if the
   * connection fails mid-wave (some messages lost, later ones stored after a reconnect), the
   * batch sent again can put a record's event after another record's, never after its own later one.
   */
  async publish(events: readonly OutboundEvent[]): Promise<void> {
    const topics = events.map((e) => {
      const t = this.byName.get(e.topic);
      if (!t) throw new WardError('config_invalid', 'an event names a topic that is not declared; nothing was sent');
      return t;
    });
    let wave: Promise<unknown>[] = [];
    let inWave = new Set<string>();
    for (const [i, e] of events.entries()) {
      if (inWave.has(e.recordId)) {
        await Promise.all(wave);
        wave = [];
        inWave = new Set();
      }
      const t = topics[i] as Topic;
      const h = headers();
      for (const [k, v] of Object.entries(e.headers)) h.set(k, v);
      const ack = this.js.publish(subjectOf(t, e.recordId), e.data, {
        msgID: e.id,
        headers: h,
        expect: { streamName: streamName(t.name) },
      });
      ack.catch(() => {}); // awaited below with its wave; this keeps a failure before then from going unhandled
      wave.push(ack);
      inWave.add(e.recordId);
    }
    await Promise.all(wave);
  }

  async consumerState(consumer: string, topic: Topic): Promise<ConsumerState | undefined> {
    try {
      const info = await this.jsm.consumers.info(streamName(topic.name), consumer);
      const last = info.ack_floor.last_active;
      return { pending: info.num_pending + info.num_ack_pending, lastAck: last ? new Date(last) : null };
    } catch {
      return undefined;
    }
  }

  async deleteConsumer(consumer: string, topic: Topic): Promise<void> {
    try {
      await this.jsm.consumers.delete(streamName(topic.name), consumer);
    } catch (e) {
      // Already gone is done; anything else is the broker's failure, reported.
      if (!(e instanceof Error && /consumer not found/i.test(e.message)))
        throw new WardError('broker_unavailable', 'the broker did not delete the consumer');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.recheck);
    await this.nc.drain().catch(() => this.nc.close());
  }

  private recheck: NodeJS.Timeout | undefined;

  /**
   * The connection lasts and reconnects by itself, so egress is asked again: each reconnect is
   * admitted (and audited) anew, and the agreements are checked every minute. Refused, the
   * connection closes; the relay then connects again through the gate, which refuses it, audited.
   */
  private watch(gate: BrokerGate, hosts: readonly string[], tls: boolean): void {
    const end = () => void this.nc.close().catch(() => {});
    void (async () => {
      for await (const s of this.nc.status()) if (s.type === 'reconnect') for (const h of hosts) await gate.admit(h, tls).catch(end);
    })().catch(() => {});
    this.recheck = setInterval(() => {
      void (async () => {
        for (const h of hosts) if (!(await gate.covers(h).catch(() => false))) return end();
      })();
    }, RECHECK_MS);
    this.recheck.unref();
  }
}

/** How often a lasting broker connection's agreements are checked again. */
const RECHECK_MS = 60_000;
