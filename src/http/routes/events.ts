/**
 * Change events over HTTP, for consumers that cannot speak to the broker: a page of a topic
 * after a position (long-polling with `wait`), the same as Server-Sent Events resuming from
 * `Last-Event-ID`, and each topic's JSON Schema. A role reads only the topics its declared
 * consumers name; every read is audited.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WardError } from '../../errors.js';
import type { EventPage } from '../../vault/events.js';
import type { Vault } from '../../vault/vault.js';
import { ctxOf } from '../context.js';
import { problems } from '../schemas.js';

const topicParams = {
  type: 'object',
  properties: { topic: { type: 'string', pattern: '^[a-z0-9][a-z0-9.-]{0,199}$', description: 'a topic declared in ward.yaml' } },
  required: ['topic'],
} as const;

const eventsQuery = {
  type: 'object',
  properties: {
    after: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'the position to read after: 0, or the `next` of the previous page' },
    limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: 'events per page, 1 to 1000 (default 100)' },
    wait: {
      type: 'string',
      pattern: '^[0-9]{1,2}$',
      description: 'seconds to wait for an event when there is none yet, 0 to 30 (default 0)',
    },
  },
  additionalProperties: false,
} as const;

const streamQuery = {
  type: 'object',
  properties: { after: eventsQuery.properties.after },
  additionalProperties: false,
} as const;

const eventSchema = {
  type: 'object',
  description: "one change event as its topic's schema (GET /v1/events/schemas) draws it, with its position `seq`",
  additionalProperties: true,
} as const;

interface Query {
  after?: string;
  limit?: string;
  wait?: string;
}

const HEARTBEAT_MS = 15_000;

/** Checks a request's caller again (the authentication hook), updating `request.ward`, or throws. */
type Recheck = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export function eventRoutes(app: FastifyInstance, vault: Vault, recheck: Recheck): void {
  // Open streams end when the server begins to close, so shutdown does not wait for them.
  const streams = new Set<AbortController>();
  app.addHook('preClose', async () => {
    for (const s of streams) s.abort();
  });

  app.get(
    '/v1/events/schemas',
    {
      schema: {
        summary: "Each declared topic's JSON Schema: what its events may carry",
        tags: ['events'],
        security: [{ apiKey: [] }],
        response: {
          200: {
            type: 'object',
            properties: { topics: { type: 'object', additionalProperties: { type: 'object', additionalProperties: true } } },
          },
          ...problems(),
        },
      },
    },
    async () => ({ topics: vault.events.schemas() }),
  );

  app.get<{ Params: { topic: string }; Querystring: Query }>(
    '/v1/events/:topic',
    {
      schema: {
        summary: 'Events of a topic after a position, oldest first (long-poll with wait)',
        tags: ['events'],
        security: [{ apiKey: [] }],
        params: topicParams,
        querystring: eventsQuery,
        response: {
          200: {
            type: 'object',
            properties: { events: { type: 'array', items: eventSchema }, next: { type: 'integer' } },
            required: ['events', 'next'],
          },
          ...problems(400, 403, 404),
        },
      },
    },
    async (request) => {
      const q = request.query;
      const wait = Number(q.wait ?? 0);
      if (wait > 30) throw new WardError('invalid_request', 'wait must be from 0 to 30 seconds');
      const signal = abortOnClose(request);
      return vault.readEvents(
        request.params.topic,
        { after: Number(q.after ?? 0), limit: Number(q.limit ?? 100), waitMs: wait * 1000, signal },
        ctxOf(request),
      );
    },
  );

  app.get<{ Params: { topic: string }; Querystring: { after?: string } }>(
    '/v1/events/:topic/stream',
    {
      schema: {
        summary: 'Events of a topic as Server-Sent Events (each with its position as id), resuming after Last-Event-ID',
        tags: ['events'],
        security: [{ apiKey: [] }],
        params: topicParams,
        querystring: streamQuery,
        headers: { type: 'object', properties: { 'last-event-id': { type: 'string', pattern: '^[0-9]{1,15}$' } } },
        response: { 200: { type: 'string', description: 'text/event-stream' }, ...problems(400, 403, 404) },
      },
    },
    async (request, reply) => {
      const header = request.headers['last-event-id'];
      const after = Number((typeof header === 'string' ? header : undefined) ?? request.query.after ?? 0);
      const topic = request.params.topic;
      // The first page is read before the stream opens: a refusal is still a problem+json answer.
      const first = await vault.readEvents(topic, { after, limit: 100 }, ctxOf(request));
      const ac = new AbortController();
      streams.add(ac);
      try {
        await stream(reply, first, ac, async (from, signal) => {
          // Revoked, expired or locked out since: the stream ends, checked again after the wait
          // so that nothing read during it is sent to a caller no longer allowed.
          await recheck(request, reply);
          const page = await vault.readEvents(
            topic,
            { after: from, limit: 100, waitMs: HEARTBEAT_MS, signal, auditEmpty: false },
            ctxOf(request),
          );
          await recheck(request, reply);
          return page;
        });
      } finally {
        streams.delete(ac);
      }
    },
  );
}

/** Aborts when the client goes away. */
function abortOnClose(request: FastifyRequest): AbortSignal {
  const ac = new AbortController();
  request.raw.once('close', () => ac.abort());
  return ac.signal;
}

/** Writes pages as Server-Sent Events until the client goes away; a comment line keeps an idle stream alive. */
async function stream(
  reply: FastifyReply,
  first: EventPage,
  ac: AbortController,
  next: (after: number, signal: AbortSignal) => Promise<EventPage>,
): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  raw.on('close', () => ac.abort());
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-request-id': String(reply.request.id),
  });
  const write = (page: EventPage) => {
    for (const e of page.events) raw.write(`id: ${e.seq}\nevent: ${String(e.action)}\ndata: ${JSON.stringify(e)}\n\n`);
    if (!page.events.length) raw.write(': idle\n\n');
  };
  write(first);
  let after = first.next;
  try {
    while (!ac.signal.aborted) {
      const page = await next(after, ac.signal);
      if (ac.signal.aborted) break;
      write(page);
      after = page.next;
    }
  } catch (e) {
    // The stream is open: the error ends it (the client reconnects with Last-Event-ID).
    const code = e instanceof WardError ? e.code : 'internal_error';
    if (!ac.signal.aborted) raw.write(`event: error\ndata: ${JSON.stringify({ code })}\n\n`);
  } finally {
    raw.end();
  }
}
