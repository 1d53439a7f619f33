/**
 * Prometheus metrics without PHI: labels are only HTTP methods, route templates, status codes,
 * connection states and topic names from ward.yaml. Each app has its own registry, so several
 * apps (tests) never share counters. Audit writes are heard from the vault's audit trail as they
 * commit; the database pool and the event outbox are read at each scrape.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { PoolStats } from '../store/db.js';
import type { Vault } from '../vault/vault.js';

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'ward_http_requests_total',
    help: 'HTTP requests by method, route template and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'ward_http_request_duration_seconds',
    help: 'HTTP request latency by method and route template',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  /** Sync passes (Connect): rows by mapping (an object name from the mapping file) and outcome; never a value. */
  readonly syncRows = new Counter({
    name: 'ward_sync_rows_total',
    help: 'Source rows sync passes handled, by mapping and outcome (created, updated, unchanged, deleted, failed)',
    labelNames: ['mapping', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly syncPasses = new Histogram({
    name: 'ward_sync_pass_duration_seconds',
    help: 'Sync pass duration by mapping and the state it left the mapping in',
    labelNames: ['mapping', 'state'] as const,
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900],
    registers: [this.registry],
  });

  /** Counts a sync pass's rows and time. */
  syncPass(
    r: { mapping: string; state: string; ms: number } & Record<'created' | 'updated' | 'unchanged' | 'deleted' | 'failed', number>,
  ): void {
    for (const outcome of ['created', 'updated', 'unchanged', 'deleted', 'failed'] as const)
      if (r[outcome]) this.syncRows.inc({ mapping: r.mapping, outcome }, r[outcome]);
    this.syncPasses.observe({ mapping: r.mapping, state: r.state }, r.ms / 1000);
  }

  readonly auditWrites = new Counter({
    name: 'ward_audit_writes_total',
    help: 'Audit events written (counted when their statement or transaction committed)',
    registers: [this.registry],
  });
  readonly authFailures = new Counter({
    name: 'ward_auth_failures_total',
    help: 'Requests refused for a missing, wrong, expired or revoked API key',
    registers: [this.registry],
  });
  readonly poolConnections: Gauge<'state'> = new Gauge({
    name: 'ward_db_pool_connections',
    help: 'Database pool connections at scrape time: open in total, idle, and callers waiting for one',
    labelNames: ['state'] as const,
    registers: [this.registry],
    collect: () => {
      const s = this.pool?.();
      if (!s) return;
      for (const state of ['total', 'idle', 'waiting'] as const) this.poolConnections.set({ state }, s[state]);
    },
  });
  readonly outboxDepth: Gauge<'topic'> = new Gauge({
    name: 'ward_events_outbox_depth',
    help: 'Change events written but not yet delivered to the broker (without a broker: not yet given a position), by topic',
    labelNames: ['topic'] as const,
    registers: [this.registry],
    collect: () => this.collectEvents(),
  });
  readonly relayLag: Gauge<'topic'> = new Gauge({
    name: 'ward_events_relay_lag_seconds',
    help: 'Age of the oldest change event not yet delivered, by topic',
    labelNames: ['topic'] as const,
    registers: [this.registry],
    collect: () => this.collectEvents(),
  });
  readonly publishFailures: Gauge<'topic'> = new Gauge({
    name: 'ward_events_publish_failures',
    help: 'Failed publish batches to the broker since this process started, by topic',
    labelNames: ['topic'] as const,
    registers: [this.registry],
    collect: () => this.collectEvents(),
  });
  /** The outbox query of the scrape in progress, shared by the three event gauges. */
  private scrape: Promise<void> | undefined;
  private pool: (() => PoolStats) | undefined;
  private backlog: Vault['events'] | undefined;
  private stopHearing: (() => void) | undefined;

  /**
   * Reports a vault: its audit rows as they commit, its database pool and its event outbox at
   * each scrape. `untrack` stops hearing it.
   */
  track(vault: Vault): this {
    this.stopHearing?.();
    this.pool = () => vault.poolStats();
    this.backlog = vault.events;
    this.stopHearing = vault.onAudit((n) => this.auditWrites.inc(n));
    return this;
  }

  untrack(): void {
    this.stopHearing?.();
    this.stopHearing = undefined;
  }

  private collectEvents(): Promise<void> {
    // prom-client calls every collect of a scrape in the same turn: the three gauges share the query in flight.
    if (this.scrape) return this.scrape;
    this.scrape = (async () => {
      const rows = await this.backlog?.backlog().catch(() => undefined);
      for (const r of rows ?? []) {
        this.outboxDepth.set({ topic: r.topic }, r.depth);
        this.relayLag.set({ topic: r.topic }, r.lagSeconds);
        this.publishFailures.set({ topic: r.topic }, r.failures);
      }
    })().finally(() => {
      this.scrape = undefined;
    });
    return this.scrape;
  }

  /** Adds the process metrics (CPU, memory, event loop lag) under the `ward_` prefix. */
  withProcessMetrics(): this {
    collectDefaultMetrics({ register: this.registry, prefix: 'ward_' });
    return this;
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.latency.observe({ method, route }, seconds);
  }
}
