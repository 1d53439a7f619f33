/**
 * A topic's Server-Sent Events as an async iterable that survives disconnections: after a
 * dropped connection, a server restart or an idle timeout it reconnects with exponential backoff
 * (Retry-After honoured), resuming after the last event received (Last-Event-ID), so each event
 * is yielded once and in order. It ends when the signal aborts or the loop breaks, and throws a
 * WardError for a refusal that retrying cannot fix (a 4xx other than 429).
 */
import { errorFromResponse, WardError } from './errors.js';
import { backoff, type Fetch, sleep } from './transport.js';
import type { WardEvent } from './types.js';

export interface StreamOptions {
  /** The position to start after: 0 (the default) for the topic's oldest event kept, or an event's `seq`. */
  after?: number | undefined;
  /** Ends the iteration (without an error) when it aborts. */
  signal?: AbortSignal | undefined;
  /** Reconnection delays: about `initialMs` (default 500) doubling up to `maxMs` (default 30 000). */
  backoff?: { initialMs?: number | undefined; maxMs?: number | undefined } | undefined;
  /** Reconnects when nothing arrives for this long, not even the server's 15 s keep-alive; default 45 000. */
  idleTimeoutMs?: number | undefined;
}

interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/** An incremental text/event-stream parser: feed text, get the complete messages. */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | undefined;

  push(text: string): SseMessage[] {
    this.buffer += text;
    const out: SseMessage[] = [];
    // A trailing \r may be half of \r\n: keep it for the next chunk.
    const lines = this.buffer.split(/\r\n|\r(?!$)|\n/);
    this.buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === '') {
        if (this.data.length) out.push({ id: this.id, event: this.event || 'message', data: this.data.join('\n') });
        this.data = [];
        this.event = '';
        this.id = undefined;
        continue;
      }
      if (line.startsWith(':')) continue; // a comment: the server's keep-alive
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') this.data.push(value);
      else if (field === 'event') this.event = value;
      else if (field === 'id') this.id = value;
    }
    return out;
  }
}

const badEvent = () => new WardError({ code: 'unexpected_response', status: 200, title: 'An event of the stream is not a JSON object' });

/** Parses one message's data as an event, or throws (a stream that is not Ward's). */
function eventOf(m: SseMessage): WardEvent {
  let data: unknown;
  try {
    data = JSON.parse(m.data);
  } catch {
    throw badEvent();
  }
  if (!data || typeof data !== 'object' || typeof (data as { seq?: unknown }).seq !== 'number') throw badEvent();
  return data as WardEvent;
}

/**
 * Reads one connection's events, calling `seen` with each position. Returns the delay the server
 * asked for (Retry-After) when it refused for now; throws a WardError when it refused for good.
 */
async function* connection(fetch: Fetch, request: Request, idleMs: number, ac: AbortController): AsyncGenerator<WardEvent, number> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  // An abort (the caller's, or the idle timeout's) also cancels the body, whatever fetch made it.
  const cancel = () => void reader?.cancel().catch(() => {});
  ac.signal.addEventListener('abort', cancel, { once: true });
  let idle: ReturnType<typeof setTimeout> | undefined;
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => ac.abort(), idleMs);
  };
  try {
    touch();
    const response = await fetch(request);
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {}
      const error = errorFromResponse(response, body);
      if (response.status >= 400 && response.status < 500 && response.status !== 429) throw error;
      return (error.retryAfter ?? 0) * 1000;
    }
    if (!response.headers.get('content-type')?.startsWith('text/event-stream'))
      throw new WardError({ code: 'unexpected_response', status: response.status, title: 'The stream is not text/event-stream' });
    if (!response.body) return 0;
    reader = response.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return 0;
      touch();
      for (const m of parser.push(decoder.decode(value, { stream: true }))) {
        // `event: error` ends the stream on the server's side; the reconnection finds out why.
        if (m.event === 'error') continue;
        yield eventOf(m);
      }
    }
  } finally {
    clearTimeout(idle);
    ac.signal.removeEventListener('abort', cancel);
    cancel();
  }
}

/** The events of `url` (a topic's /stream) as described above. */
export async function* eventStream(fetch: Fetch, url: string, headers: Record<string, string>, options: StreamOptions = {}) {
  const { signal } = options;
  const initial = options.backoff?.initialMs ?? 500;
  const max = options.backoff?.maxMs ?? 30_000;
  let last = options.after;
  let attempt = 0;
  while (!signal?.aborted) {
    const ac = new AbortController();
    const abort = () => ac.abort();
    signal?.addEventListener('abort', abort, { once: true });
    let asked = 0;
    let events: AsyncGenerator<WardEvent, number> | undefined;
    try {
      const request = new Request(url, {
        headers: { ...headers, accept: 'text/event-stream', ...(last === undefined ? {} : { 'last-event-id': String(last) }) },
        signal: ac.signal,
      });
      events = connection(fetch, request, options.idleTimeoutMs ?? 45_000, ac);
      for (;;) {
        const next = await events.next();
        if (next.done) {
          asked = next.value;
          break;
        }
        last = next.value.seq;
        attempt = 0;
        yield next.value;
      }
    } catch (e) {
      if (e instanceof WardError) throw e;
      // No answer, a cut connection or an idle timeout: reconnect, unless the caller stopped.
      if (signal?.aborted) return;
    } finally {
      signal?.removeEventListener('abort', abort);
      ac.abort();
      // A loop that broke out leaves the connection suspended at an event: close it.
      await events?.return(0).catch(() => {});
    }
    try {
      await sleep(Math.max(asked, backoff(attempt++, initial, max)), signal);
    } catch {
      return;
    }
  }
}
