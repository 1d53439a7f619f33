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
import { normalHost } from '../util/hosts.js';
import type { Egress } from './client.js';

export interface DrainSpec {
  name: string;
  url: string;
  flushMs: number;
}

/** Lines kept per drain while it cannot deliver. */
export const MAX_LINES = 10_000;
/** Bytes kept per drain while it cannot deliver. */
export const MAX_BUFFER_BYTES = 16 * 1024 * 1024;
/** Bytes per batch at most. */
const MAX_BATCH_BYTES = 512 * 1024;
/** A syslog write not taken by the peer within this long closes the connection. */
const WRITE_TIMEOUT_MS = 30_000;
const MAX_BACKOFF_MS = 60_000;

/** A drain's destination host and port, from its URL (checked by the config schema's pattern). */
export function drainTarget(url: string): { kind: 'https' | 'syslog'; host: string; port: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new WardError('config_invalid', 'logging.drains: a drain URL is not valid');
  }
  if (u.username || u.password)
    throw new WardError('config_invalid', 'logging.drains: a drain URL must not carry credentials; use a token in the path or mutual TLS');
  const host = normalHost(u.hostname);
  if (!host) throw new WardError('config_invalid', 'logging.drains: a drain URL must name a host');
  if (u.protocol === 'https:') return { kind: 'https', host, port: Number(u.port || 443) };
  if (u.protocol === 'syslog+tls:') return { kind: 'syslog', host, port: Number(u.port || 6514) };
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
  /** Lines waiting, oldest first; a batch in flight is taken out and put back if it fails. */
  private lines: string[] = [];
  private bytes = 0;
  /** Lines dropped (buffer full, or a batch the drain refused as malformed) not yet reported. */
  private dropped = 0;
  private failures = 0;
  private nextAttempt = 0;
  private flushing: Promise<void> | undefined;
  private socket: TLSSocket | undefined;
  private closed = false;
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

  /** Queues one line (pino's output: JSON and a newline); after `close`, lines are not kept. */
  write(line: string): void {
    if (this.closed) return;
    const text = line.endsWith('\n') ? line : `${line}\n`;
    this.lines.push(text);
    this.bytes += Buffer.byteLength(text);
    this.trim();
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

  /** Delivers what is waiting (for at most `deadlineMs`: shutdown does not wait on a stalled drain), then stops. */
  async close(deadlineMs = 5_000): Promise<void> {
    clearInterval(this.timer);
    this.nextAttempt = 0;
    const deadline = new Promise<void>((done) => setTimeout(done, deadlineMs).unref());
    await Promise.race([this.flush(), deadline]);
    this.closed = true;
    this.socket?.destroy();
    this.socket = undefined;
  }

  /** Past MAX_LINES or MAX_BUFFER_BYTES, the oldest lines go, counted. */
  private trim(): void {
    while (this.lines.length > MAX_LINES || (this.bytes > MAX_BUFFER_BYTES && this.lines.length > 1)) {
      this.bytes -= Buffer.byteLength(this.lines.shift() as string);
      this.dropped += 1;
    }
  }

  private async deliver(): Promise<void> {
    if (!this.lines.length || Date.now() < this.nextAttempt) return;
    while (this.lines.length) {
      const { batch, taken, dropped } = this.take();
      try {
        await this.send(batch);
      } catch (e) {
        this.socket?.destroy();
        this.socket = undefined;
        if (e instanceof Rejected) {
          // The drain refused the batch itself (malformed, too large): retrying cannot help; counted.
          this.dropped += taken.length;
        } else {
          // Put back before lines written meanwhile; the buffer stays bounded. Egress audited it.
          this.lines.unshift(...taken);
          this.bytes += taken.reduce((n, l) => n + Buffer.byteLength(l), 0);
          this.trim();
        }
        this.failures += 1;
        this.nextAttempt = Date.now() + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (this.failures - 1));
        return;
      }
      this.dropped -= dropped;
      this.failures = 0;
    }
  }

  private async send(batch: string[]): Promise<void> {
    const purpose = `log drain ${this.spec.name}`;
    const egress = this.egress();
    if (this.target.kind === 'https') {
      const res = await egress.send({
        url: this.spec.url,
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson' },
        body: batch.join(''),
        purpose,
        scope: 'phi',
      });
      if (res.status >= 200 && res.status < 300) return;
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new Rejected();
      throw new Error('the drain is not accepting lines now');
    }
    // The connection lasts, so the agreement is checked again for every batch: revoked, it closes.
    if (this.socket && !(await egress.covers(this.target.host, 'phi'))) {
      this.socket.destroy();
      this.socket = undefined;
    }
    if (!this.socket) {
      const socket = await egress.connectTls({ host: this.target.host, port: this.target.port, purpose, scope: 'phi' });
      socket.on('error', () => {});
      socket.on('close', () => {
        if (this.socket === socket) this.socket = undefined;
      });
      // A peer that stops reading would hold the delivery (and shutdown) for ever.
      socket.setTimeout(WRITE_TIMEOUT_MS, () => socket.destroy());
      this.socket = socket;
    }
    const socket = this.socket;
    await new Promise<void>((resolve, reject) => {
      const onClose = () => reject(new Error('the drain closed the connection'));
      socket.once('close', onClose);
      socket.write(batch.map(syslogFrame).join(''), (e) => {
        socket.off('close', onClose);
        if (e) reject(e);
        else resolve();
      });
    });
  }

  /**
   * Takes the next batch out of the waiting lines: a line saying how many were dropped first, if
   * any were, then lines up to MAX_BATCH_BYTES. `taken` are the waiting lines it holds; `dropped`
   * the count its note reports.
   */
  private take(): { batch: string[]; taken: string[]; dropped: number } {
    const batch: string[] = [];
    const dropped = this.dropped;
    if (dropped) {
      const note = { level: 40, time: Date.now(), drain: this.spec.name, dropped, msg: 'log drain dropped lines it could not deliver' };
      batch.push(`${JSON.stringify(note)}\n`);
    }
    let bytes = 0;
    let count = 0;
    for (const line of this.lines) {
      const size = Buffer.byteLength(line);
      if (count && bytes + size > MAX_BATCH_BYTES) break;
      bytes += size;
      count += 1;
    }
    const taken = this.lines.splice(0, count);
    this.bytes -= bytes;
    batch.push(...taken);
    return { batch, taken, dropped };
  }
}

/** A drain's answer that refuses the batch itself (4xx but 408 and 429). */
class Rejected extends Error {}

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
