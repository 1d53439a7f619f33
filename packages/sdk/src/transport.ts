/**
 * Retries under openapi-fetch: only requests that are safe to repeat (GET, HEAD, PUT, DELETE),
 * only on 503 (the server is starting, shutting down or its database is away) and, for reads,
 * on a connection that failed; waits as Retry-After says, else exponential backoff with jitter.
 */
import { retryAfterSeconds } from './errors.js';

/** The fetch the SDK calls: the global one, or the caller's (a proxy agent, a test seam). */
export type Fetch = (request: Request) => Promise<Response>;

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
/** A failed connection may have delivered the request: repeated only when it changes nothing. */
const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BASE_DELAY_MS = 200;
const MAX_DELAY_MS = 5_000;
/** A longer Retry-After is not waited out: the 503 is the answer (its `retryAfter` says how long). */
const MAX_RETRY_AFTER_S = 30;

/** Exponential backoff with jitter: about base·2^attempt, at most `max`. */
export function backoff(attempt: number, base = BASE_DELAY_MS, max = MAX_DELAY_MS): number {
  const full = Math.min(max, base * 2 ** attempt);
  return Math.round(full / 2 + (Math.random() * full) / 2);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `fetch`, repeating an idempotent request up to `retries` times as described above. */
export function retrying(fetch: Fetch, retries: number): Fetch {
  return async (request) => {
    const idempotent = IDEMPOTENT.has(request.method);
    for (let attempt = 0; ; attempt++) {
      const last = !idempotent || attempt >= retries;
      let response: Response;
      try {
        response = await fetch(last ? request : request.clone());
      } catch (e) {
        if (last || request.signal.aborted || !READS.has(request.method)) throw e;
        await sleep(backoff(attempt), request.signal);
        continue;
      }
      if (last || response.status !== 503) return response;
      const after = retryAfterSeconds(response.headers.get('retry-after'));
      if (after !== undefined && after > MAX_RETRY_AFTER_S) return response;
      await response.body?.cancel().catch(() => {});
      await sleep(after === undefined ? backoff(attempt) : after * 1000, request.signal);
    }
  };
}
