/**
 * The audit trail for roles with `audit: true`: filtered by record, actor and time, paged by
 * sequence number. Reading it is audited too. (`GET /v1/audit/verify` comes with sealing.)
 */
import type { FastifyInstance } from 'fastify';
import { WardError } from '../../errors.js';
import type { AuditFilter, StoredAuditEvent } from '../../store/audit.js';
import type { Vault } from '../../vault/vault.js';
import { ctxOf } from '../context.js';
import { auditEventSchema, auditQuery, problems, ref } from '../schemas.js';

const MAX_PAGE = 1000;

interface AuditQuery {
  recordId?: string;
  actor?: string;
  since?: string;
  until?: string;
  after?: string;
  limit?: string;
}

/** The query string as a store filter; the schema has checked each parameter's shape. */
export function auditFilter(q: AuditQuery): AuditFilter {
  const limit = q.limit === undefined ? 100 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
    throw new WardError('invalid_request', `limit must be from 1 to ${MAX_PAGE}`);
  const f: AuditFilter = { limit };
  if (q.recordId) f.recordId = q.recordId.toLowerCase();
  if (q.actor) f.actor = q.actor;
  if (q.since) f.since = new Date(q.since);
  if (q.until) f.until = new Date(q.until);
  if (q.after) f.after = q.after;
  return f;
}

const toJson = (e: StoredAuditEvent) => ({ ...e, at: e.at.toISOString() });

export function auditRoutes(app: FastifyInstance, vault: Vault): void {
  app.get<{ Querystring: AuditQuery }>(
    '/v1/audit/events',
    {
      schema: {
        summary: 'Audit events, oldest first; pass `next` as `after` for the following page',
        tags: ['audit'],
        security: [{ apiKey: [] }],
        querystring: auditQuery,
        response: {
          200: {
            type: 'object',
            properties: {
              events: { type: 'array', items: ref(auditEventSchema.$id) },
              next: { type: ['string', 'null'], description: 'sequence number to pass as `after`; null on the last page' },
            },
          },
          ...problems(503),
        },
      },
    },
    async (request) => {
      const filter = auditFilter(request.query);
      const events = await vault.auditEvents(filter, ctxOf(request));
      const last = events.at(-1);
      return { events: events.map(toJson), next: events.length === filter.limit && last ? last.seq : null };
    },
  );
}
