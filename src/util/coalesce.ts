/**
 * Coalescing independent operations into one statement: the operations that arrive in one turn
 * of the event loop (up to `max`) run together through `many`, a lone one through `one`. Each
 * caller's promise settles only when the shared statement has finished, so what a caller sees is
 * committed, its audit row included. When the shared statement fails (one operation's unique
 * value, say), nothing of it was written, and each operation is run again alone, so every caller
 * gets its own outcome: the one at fault its error, the others their result.
 */
interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (e: unknown) => void;
}

export class Coalescer<I, O> {
  private queue: Pending<I, O>[] = [];
  private scheduled = false;

  constructor(
    private readonly one: (item: I) => Promise<O>,
    private readonly many: (items: readonly I[]) => Promise<O[]>,
    private readonly max = 64,
  ) {}

  run(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.max) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    const batch = this.queue;
    if (!batch.length) return;
    this.queue = [];
    if (batch.length === 1) {
      this.alone(batch[0] as Pending<I, O>);
      return;
    }
    attempt(() => this.many(batch.map((p) => p.item))).then(
      (out) => {
        for (const [i, p] of batch.entries()) p.resolve(out[i] as O);
      },
      () => {
        for (const p of batch) this.alone(p);
      },
    );
  }

  private alone(p: Pending<I, O>): void {
    attempt(() => this.one(p.item)).then(p.resolve, p.reject);
  }
}

/** `f()`, with a synchronous throw turned into a rejection: a caller is always answered. */
function attempt<T>(f: () => Promise<T>): Promise<T> {
  try {
    return f();
  } catch (e) {
    return Promise.reject(e);
  }
}

/**
 * Reads in flight by key: callers that need the same thing while it is being read share one
 * read instead of each making their own. A read leaves when it settles; `drop` takes one out
 * early, so later callers start a fresh read (after whatever made the one in flight stale).
 */
export class SharedReads<K, V> {
  private readonly inFlight = new Map<K, Promise<V>>();

  has(key: K): boolean {
    return this.inFlight.has(key);
  }

  run(key: K, read: () => Promise<V>): Promise<V> {
    const shared = this.inFlight.get(key);
    if (shared) return shared;
    const p: Promise<V> = read().finally(() => {
      if (this.inFlight.get(key) === p) this.inFlight.delete(key); // not a newer read's
    });
    this.inFlight.set(key, p);
    return p;
  }

  /** Stops sharing the read of `key` (every read when none is given); it still settles for its callers. */
  drop(key?: K): void {
    if (key === undefined) this.inFlight.clear();
    else this.inFlight.delete(key);
  }
}
