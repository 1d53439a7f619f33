/**
 * Prometheus metrics without PHI: labels are only HTTP methods, route templates, status codes
 * and connection states. Each app has its own registry, so several apps (tests) never share counters.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type Db, type Queryable, type Row, type Statement, sqlText } from '../store/db.js';

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
      const s = this.pool?.stats();
      if (!s) return;
      for (const state of ['total', 'idle', 'waiting'] as const) this.poolConnections.set({ state }, s[state]);
    },
  });
  private pool: Pick<Db, 'stats'> | undefined;

  /** Reports this database's pool in `ward_db_pool_connections`, read at each scrape. */
  trackPool(db: Pick<Db, 'stats'>): this {
    this.pool = db;
    return this;
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

const AUDIT_INSERT = /INSERT INTO ward_audit_events/i;
// Most statements are fixed Statement objects: test each one's text once.
const auditStatements = new WeakMap<Statement, boolean>();
function writesAudit(sql: string | Statement): boolean {
  if (typeof sql === 'string') return AUDIT_INSERT.test(sql);
  let hit = auditStatements.get(sql);
  if (hit === undefined) {
    hit = AUDIT_INSERT.test(sqlText(sql));
    auditStatements.set(sql, hit);
  }
  return hit;
}

/**
 * A Db that counts the audit rows it writes. An audit insert is one row (alone or as a CTE of
 * the operation's statement) unless its statement says how many; inside a transaction they
 * count once the commit succeeds.
 */
export function countAuditWrites(db: Db, metrics: Metrics): Db {
  const counting = (q: Queryable, count: (n: number) => void): Queryable => ({
    async query<R extends Row = Row>(sql: string | Statement, params: readonly unknown[] = []) {
      const rows = await q.query<R>(sql, params);
      if (writesAudit(sql)) count(typeof sql === 'string' ? 1 : (sql.auditRows?.(params) ?? 1));
      return rows;
    },
    exec: (sql) => q.exec(sql),
  });
  const direct = counting(db, (n) => metrics.auditWrites.inc(n));
  return {
    kind: db.kind,
    size: db.size,
    query: direct.query,
    exec: direct.exec,
    async transaction(fn) {
      let n = 0;
      const result = await db.transaction((tx) =>
        fn(
          counting(tx, (k) => {
            n += k;
          }),
        ),
      );
      metrics.auditWrites.inc(n);
      return result;
    },
    listen: (channel, handlers) => db.listen(channel, handlers),
    stats: () => db.stats(),
    close: () => db.close(),
  };
}
