/**
 * Log drains: Ward's JSON log lines shipped, through egress, to a service covered by a Business
 * Associate Agreement for PHI (`logging.drains`). The lines are scrubbed by Ward's logger, but a
 * detector cannot promise that a line holds no PHI, so a drain needs a `phi` agreement, like any
 * sink the platform's guidance calls out of scope unless the BAA covers it; start-up refuses an
 * uncovered drain.
 * - `https://...`: batches of lines POSTed as NDJSON (`application/x-ndjson`), each batch audited
 *   by egress (host, bytes, status), retried with backoff while the lines wait.
 * - `syslog+tls://host[:6514]`: RFC 5424 messages over TLS with octet-counting framing (RFC 5425),
 *   on one connection, reopened after a failure; the connection is audited when it opens.
 * Lines wait in a bounded buffer: past MAX_LINES the oldest are dropped, and the next delivery
 * starts with a line that says how many.
 */
import { hostname } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { WardError } from '../errors.js';
import type { Egress } from './client.js';

export interface DrainSpec {
  name: string;
  url: string;
  flushMs: number;
}

/** Lines kept per drain while it cannot deliver. */
export const MAX_LINES = 10_000;
/** Bytes per HTTPS batch at most. */
const MAX_BATCH_BYTES = 512 * 1024;
const MAX_BACKOFF_MS = 60_000;

/** A drain's destination host and port, from its URL (checked by the config schema's pattern). */
export function drainTarget(url: string): { kind: 'https' | 'syslog'; host: string; port: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new WardError('config_invalid', 'logging.drains: a drain URL is not valid');
  }
  if (u.protocol === 'https:') return { kind: 'https', host: u.hostname, port: Number(u.port || 443) };
  if (u.protocol === 'syslog+tls:') return { kind: 'syslog', host: u.hostname, port: Number(u.port || 6514) };
  throw new WardError('config_invalid', 'logging.drains: a drain URL must be https:// or syslog+tls://');
}

/** RFC 5424 severity of a pino level (10 trace … 60 fatal). */
function severity(level: unknown): number {
  const l = typeof level === 'number' ? level : 30;
  if (l >= 60) return 2;
  if (l >= 50) return 3;
  if (l >= 40) return 4;
  if (l >= 30) return 6;
  return 7;
}

const FACILITY_LOCAL0 = 16;
const HOST =
  hostname()
    .replace(/[^\x21-\x7e]/g, '')
    .slice(0, 255) || '-';

/** One log line as an RFC 5424 message, octet-counted (RFC 5425 framing). */
export function syslogFrame(line: string): string {
  let parsed: { level?: unknown; time?: unknown } = {};
  try {
    parsed = JSON.parse(line);
  } catch {
    // not JSON: sent as it is, at info
  }
  const time = typeof parsed.time === 'number' ? new Date(parsed.time) : new Date();
  const msg = `<${FACILITY_LOCAL0 * 8 + severity(parsed.level)}>1 ${time.toISOString()} ${HOST} ward ${process.pid} - - ${line.trimEnd()}`;
  return `${Buffer.byteLength(msg)} ${msg}`;
}

export class LogDrain {
  private lines: string[] = [];
  private dropped = 0;
  private failures = 0;
  private nextAttempt = 0;
  private flushing: Promise<void> | undefined;
  private socket: TLSSocket | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly target: ReturnType<typeof drainTarget>;

  constructor(
    private readonly spec: DrainSpec,
    private readonly egress: () => Egress,
  ) {
    this.target = drainTarget(spec.url);
    this.timer = setInterval(() => void this.flush(), spec.flushMs);
    this.timer.unref();
  }

  /** Queues one line (pino's output: JSON and a newline). */
  write(line: string): void {
    this.lines.push(line.endsWith('\n') ? line : `${line}\n`);
    if (this.lines.length > MAX_LINES) {
      const over = this.lines.length - MAX_LINES;
      this.lines.splice(0, over);
      this.dropped += over;
    }
  }

  /** Lines waiting to be delivered. */
  get pending(): number {
    return this.lines.length;
  }

  /** Delivers what is waiting (one delivery at a time); failures wait for the backoff. */
  flush(): Promise<void> {
    this.flushing ??= this.deliver().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /** Delivers what is waiting, then stops. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.nextAttempt = 0;
    await this.flush();
    this.socket?.end();
    this.socket = undefined;
  }

  private async deliver(): Promise<void> {
    if (!this.lines.length || Date.now() < this.nextAttempt) return;
    const purpose = `log drain ${this.spec.name}`;
    try {
      while (this.lines.length) {
        const { batch, count } = this.take();
        if (this.target.kind === 'https') {
          const res = await this.egress().send({
            url: this.spec.url,
            method: 'POST',
            headers: { 'content-type': 'application/x-ndjson' },
            body: batch.join(''),
            purpose,
            scope: 'phi',
          });
          if (res.status < 200 || res.status > 299) throw new Error('drain answered with an error status');
        } else {
          this.socket ??= await this.egress().connectTls({ host: this.target.host, port: this.target.port, purpose, scope: 'phi' });
          const socket = this.socket;
          socket.once('error', () => {
            if (this.socket === socket) this.socket = undefined;
          });
          await new Promise<void>((resolve, reject) => socket.write(batch.map(syslogFrame).join(''), (e) => (e ? reject(e) : resolve())));
        }
        this.lines.splice(0, count);
        this.dropped = 0;
        this.failures = 0;
      }
    } catch {
      // Egress audited the refusal or failure; the lines wait (bounded) for the next attempt.
      this.socket?.destroy();
      this.socket = undefined;
      this.failures += 1;
      this.nextAttempt = Date.now() + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.failures - 1));
    }
  }

  /**
   * The next batch: a line saying how many were dropped first, if any were, then waiting lines up
   * to MAX_BATCH_BYTES; `count` is how many waiting lines it holds.
   */
  private take(): { batch: string[]; count: number } {
    const batch: string[] = [];
    if (this.dropped) {
      const note = {
        level: 40,
        time: Date.now(),
        drain: this.spec.name,
        dropped: this.dropped,
        msg: 'log drain dropped lines it could not deliver',
      };
      batch.push(`${JSON.stringify(note)}\n`);
    }
    let bytes = 0;
    let count = 0;
    for (const line of this.lines) {
      bytes += Buffer.byteLength(line);
      if (count && bytes > MAX_BATCH_BYTES) break;
      batch.push(line);
      count += 1;
    }
    return { batch, count };
  }
}

/** Every configured drain, as one destination for the logger. */
export class LogDrains {
  constructor(readonly drains: readonly LogDrain[]) {}

  /** pino's destination interface: one call per line. */
  write(line: string): void {
    for (const d of this.drains) d.write(line);
  }

  flush(): Promise<void> {
    return Promise.all(this.drains.map((d) => d.flush())).then(() => {});
  }

  close(): Promise<void> {
    return Promise.all(this.drains.map((d) => d.close())).then(() => {});
  }
}
