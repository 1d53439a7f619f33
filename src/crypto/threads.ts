/**
 * Where field crypto runs: here, or on crypto threads (node:worker_threads) so that a server's
 * main thread, which parses requests, talks to the database and answers, is not also spending a
 * third of its time in AES-GCM and HMAC. Jobs that arrive in one turn of the event loop go to a
 * thread as one message (see store/coalesce). The threads are part of this process: keys and
 * values cross between them in memory, never through a file, socket or log.
 *
 * A thread that fails or exits hands its jobs back: they run here, as does everything after,
 * so a job never fails because of where it ran. A job that throws on a thread is run again here
 * for its real error (none is expected: sealing and MACs do not throw on values, and a blob
 * that does not open is a null result, not an error).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Coalescer } from '../util/coalesce.js';
import { type FieldJob, type JobResult, pack, type Reply, runJob } from './jobs.js';

/** Crypto threads `ward serve` starts by default: one per core beyond the first, at most two. */
export function defaultCryptoThreads(): number {
  return Math.max(0, Math.min(2, availableParallelism() - 1));
}

export interface FieldCrypto {
  run<J extends FieldJob>(job: J): Promise<JobResult<J>>;
  /** Jobs sent to a crypto thread so far (for tests and diagnostics). */
  readonly offloaded: number;
  close(): Promise<void>;
}

/** Field crypto on `threads` crypto threads, or on this thread when 0 (or none can start). */
export function fieldCrypto(threads = 0): FieldCrypto {
  const script = threads > 0 ? workerScript() : undefined;
  return script ? new ThreadedCrypto(script, threads) : INLINE;
}

/**
 * Jobs per message at most. Small batches let a thread start on the first records while the
 * main thread is still reading the rest of a burst of requests: under 50 concurrent creates, 8
 * gave 10-20% more throughput than 64 here.
 */
const BATCH = 8;

const INLINE: FieldCrypto = {
  run: async (job) => runJob(job),
  offloaded: 0,
  close: async () => {},
};

/**
 * The compiled thread script beside this module; under the test runner (which runs sources)
 * the one in dist/, which `npm test` builds first.
 */
function workerScript(): URL | undefined {
  for (const path of ['./worker.js', '../../dist/crypto/worker.js']) {
    const url = new URL(path, import.meta.url);
    if (existsSync(fileURLToPath(url))) return url;
  }
  return undefined;
}

/** A result as it arrives from a thread: blind indexes come back as Uint8Array. */
function revive(job: FieldJob, result: unknown): unknown {
  if (job.op === 'open') return result;
  const r = result as { sealed: string[]; macs: (Uint8Array | string)[] };
  return { sealed: r.sealed, macs: r.macs.map((m) => (typeof m === 'string' ? m : Buffer.from(m.buffer, m.byteOffset, m.byteLength))) };
}

interface Sent {
  jobs: readonly FieldJob[];
  resolve: (results: unknown[]) => void;
  reject: (e: unknown) => void;
}

class Thread {
  readonly sent = new Map<number, Sent>();
  readonly worker: Worker;

  constructor(script: URL, onDown: (t: Thread) => void) {
    // Its output is not ours to print (it writes none): read and dropped, never on our stdout.
    this.worker = new Worker(script, { stdout: true, stderr: true });
    this.worker.stdout.resume();
    this.worker.stderr.resume();
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      const s = this.sent.get(reply?.id);
      if (!s) return;
      this.settle(reply.id);
      if ('failed' in reply) return here(s);
      let results: unknown[];
      try {
        results = s.jobs.map((j, i) => revive(j, reply.results[i]));
      } catch {
        return here(s); // a reply not of this version's shape: run the batch here
      }
      s.resolve(results);
    });
    // A message that cannot be read: stop the thread; its exit hands every batch back.
    this.worker.on('messageerror', () => void this.worker.terminate());
    // A thread that fails or exits: its jobs run here, and it takes no more.
    const down = () => {
      onDown(this);
      for (const [id, s] of this.sent) {
        this.settle(id);
        here(s);
      }
    };
    this.worker.on('error', down).on('exit', down);
  }

  post(id: number, s: Sent): void {
    if (this.sent.size === 0) this.worker.ref(); // in flight: keep the process alive until it answers
    this.sent.set(id, s);
    try {
      this.worker.postMessage(pack(id, s.jobs));
    } catch {
      this.settle(id);
      here(s); // not sent (the thread is gone): run here
    }
  }

  private settle(id: number): void {
    this.sent.delete(id);
    if (this.sent.size === 0) this.worker.unref();
  }
}

/** Runs a batch on this thread: its results, or the error of the job that threw. */
function here(s: Sent): void {
  try {
    s.resolve(s.jobs.map((j) => runJob(j)));
  } catch (e) {
    s.reject(e);
  }
}

class ThreadedCrypto implements FieldCrypto {
  private threads: Thread[] | undefined;
  private next = 0;
  private ids = 0;
  offloaded = 0;
  private readonly batches: Coalescer<FieldJob, unknown>;

  constructor(
    private readonly script: URL,
    private readonly size: number,
  ) {
    this.batches = new Coalescer(
      async (job) => (await this.send([job]))[0],
      (jobs) => this.send(jobs),
      BATCH,
    );
  }

  run<J extends FieldJob>(job: J): Promise<JobResult<J>> {
    return this.batches.run(job) as Promise<JobResult<J>>;
  }

  private send(jobs: readonly FieldJob[]): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      this.threads ??= this.start();
      const s = { jobs, resolve, reject };
      const thread = this.threads[this.next++ % Math.max(1, this.threads.length)];
      if (!thread) return here(s);
      this.offloaded += jobs.length;
      thread.post(++this.ids, s);
    });
  }

  /** The threads, started on first use; none (so everything runs here) if they cannot start. */
  private start(): Thread[] {
    const threads: Thread[] = [];
    try {
      for (let i = 0; i < this.size; i++) threads.push(new Thread(this.script, (t) => this.drop(t)));
    } catch {
      for (const t of threads) void t.worker.terminate();
      return [];
    }
    return threads;
  }

  private drop(t: Thread): void {
    this.threads = this.threads?.filter((x) => x !== t);
  }

  async close(): Promise<void> {
    const threads = this.threads ?? [];
    this.threads = [];
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }
}
