/**
 * The audit trail for roles with `audit: true`: filtered by record, actor and time, paged by
 * sequence number; the accounting of disclosures of one record; verification of the sealed log and
 * its newest signed checkpoint. Every read is audited too.
 */
import type { FastifyInstance } from 'fastify';
import { WardError } from '../../errors.js';
import type { AuditFilter, DisclosureFilter, StoredAuditEvent } from '../../store/audit.js';
import type { Vault } from '../../vault/vault.js';
import { ctxOf } from '../context.js';
import { routeRateLimit } from '../rate-limits.js';
import {
  auditEventSchema,
  auditQuery,
  checkpointSchema,
  disclosureQuery,
  incrementalReportSchema,
  problems,
  ref,
  subjectParams,
} from '../schemas.js';
import type { Scopes } from './records.js';

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
  const f: AuditFilter = pageFilter(q);
  if (q.recordId) f.recordId = q.recordId.toLowerCase();
  if (q.actor) f.actor = q.actor;
  return f;
}

function pageFilter(q: Omit<AuditQuery, 'recordId' | 'actor'>): DisclosureFilter {
  const limit = q.limit === undefined ? 100 : Number(q.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
    throw new WardError('invalid_request', `limit must be from 1 to ${MAX_PAGE}`);
  const f: DisclosureFilter = { limit };
  if (q.since) f.since = instant('since', q.since);
  if (q.until) f.until = instant('until', q.until);
  if (q.after) f.after = q.after;
  return f;
}

/** A date-time the schema let through that is still no instant (a leap second, 23:59:60) is bad input, not a database fault. */
function instant(name: string, value: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new WardError('invalid_request', `${name} must be an ISO 8601 date-time`);
  return d;
}

const page = (events: StoredAuditEvent[], limit: number) => {
  const last = events.at(-1);
  return { events: events.map(toJson), next: events.length === limit && last ? last.seq : null };
};

const pageSchema = {
  type: 'object',
  properties: {
    events: { type: 'array', items: ref(auditEventSchema.$id) },
    next: { type: ['string', 'null'], description: 'sequence number to pass as `after`; null on the last page' },
  },
} as const;

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
        response: { 200: pageSchema, ...problems(503) },
      },
    },
    async (request) => {
      const filter = auditFilter(request.query);
      return page(await vault.auditEvents(filter, ctxOf(request)), filter.limit);
    },
  );

  app.get<{ Params: { recordId: string }; Querystring: Omit<AuditQuery, 'recordId' | 'actor'> }>(
    '/v1/audit/subjects/:recordId/disclosures',
    {
      schema: {
        summary: "Accounting of disclosures (45 CFR 164.528): every touch of one record's PHI, oldest first",
        description:
          'who accessed the record, when, which fields, for which purpose, with what outcome; reads of the audit trail are not listed',
        tags: ['audit'],
        security: [{ apiKey: [] }],
        params: subjectParams,
        querystring: disclosureQuery,
        response: { 200: pageSchema, ...problems(400, 503) },
      },
    },
    async (request) => {
      const filter = pageFilter(request.query);
      return page(await vault.disclosures(request.params.recordId, filter, ctxOf(request)), filter.limit);
    },
  );

  app.get(
    '/v1/audit/verify',
    {
      config: routeRateLimit(6, 60_000),
      schema: {
        summary: 'Verify the sealed log incrementally (from where the last sound verification ended); names the first bad event',
        description:
          'Checks at most 200,000 events per call, ending at a checkpoint (`complete` false: call again). A full verification is ' +
          "`ward audit verify` or the server's background task (audit.verify_every); `lastFull` reports the newest one. " +
          'At most 6 calls a minute per API key.',
        tags: ['audit'],
        security: [{ apiKey: [] }],
        response: { 200: incrementalReportSchema, ...problems(429, 503) },
      },
    },
    async (request) => vault.verifyAuditIncremental(ctxOf(request)),
  );

  app.get(
    '/v1/audit/checkpoint',
    {
      schema: {
        summary: 'The newest signed checkpoint of the audit log, for an auditor to keep',
        tags: ['audit'],
        security: [{ apiKey: [] }],
        response: { 200: checkpointSchema, ...problems(404, 503) },
      },
    },
    async (request) => {
      const c = await vault.auditCheckpoint(ctxOf(request));
      if (!c) throw new WardError('not_found', 'the audit log has not been sealed yet');
      return c;
    },
  );
}

const breakGlassUseSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    actor: { type: 'string' },
    role: { type: 'string' },
    reason: { type: 'string', description: 'the stated reason, with any PHI the detector finds masked' },
    startedAt: { type: 'string' },
    endsAt: { type: 'string' },
    accesses: { type: 'integer', description: 'audit events written under the use' },
    reviewed: {
      type: ['object', 'null'],
      properties: { at: { type: 'string' }, by: { type: 'string' }, note: { type: ['string', 'null'] } },
    },
  },
} as const;

/** Break-glass uses for roles with `audit: true`: listed until someone other than who declared them reviews them. */
export function breakGlassRoutes({ plain, json }: Scopes, vault: Vault): void {
  plain.get<{ Querystring: { unreviewed?: 'true' | 'false'; limit?: string } }>(
    '/v1/audit/break-glass',
    {
      schema: {
        summary: 'Break-glass uses (emergency access), newest first, with their reasons, accesses and reviews',
        tags: ['audit'],
        security: [{ apiKey: [] }],
        querystring: {
          type: 'object',
          properties: {
            unreviewed: { type: 'string', enum: ['true', 'false'], description: 'true: only uses not yet reviewed' },
            limit: { type: 'string', pattern: '^[0-9]{1,5}$', description: 'at most this many uses (1 to 10000; default 1000)' },
          },
          additionalProperties: false,
        },
        response: { 200: { type: 'object', properties: { uses: { type: 'array', items: breakGlassUseSchema } } }, ...problems(400, 503) },
      },
    },
    async (request) => {
      const { unreviewed, limit } = request.query;
      const o = { unreviewed: unreviewed === 'true', ...(limit === undefined ? {} : { limit: Number(limit) }) };
      return { uses: await vault.breakGlassUses(o, ctxOf(request)) };
    },
  );

  json.post<{ Params: { id: string }; Body: { note?: string } }>(
    '/v1/audit/break-glass/:id/review',
    {
      schema: {
        summary: 'Mark a break-glass use reviewed (by someone other than who declared it)',
        tags: ['audit'],
        security: [{ apiKey: [] }],
        params: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'] },
        body: {
          type: 'object',
          properties: { note: { type: 'string', maxLength: 500, description: 'what the review found (PHI the detector finds is masked)' } },
          additionalProperties: false,
        },
        response: { 200: breakGlassUseSchema, ...problems(400, 404, 413, 415) },
      },
    },
    async (request) => vault.reviewBreakGlass(request.params.id, request.body?.note, ctxOf(request)),
  );
}
