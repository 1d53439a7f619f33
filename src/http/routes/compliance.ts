/**
 * `GET /v1/compliance/checks`: the HIPAA checks over this server's configuration, master key,
 * transport and database, for a role with `audit: true` or `admin: true` (audited as
 * `compliance.check`). The same checks as `ward check` and start-up; no record is sampled here.
 */
import type { FastifyInstance } from 'fastify';
import { runChecks } from '../../compliance/run.js';
import type { Facts, TransportFacts } from '../../compliance/types.js';
import type { WardConfig } from '../../config/load.js';
import type { Vault } from '../../vault/vault.js';
import { ctxOf } from '../context.js';
import { problems } from '../schemas.js';

const str = { type: 'string' } as const;
const findingSchema = {
  type: 'object',
  properties: {
    id: str,
    title: str,
    severity: { type: 'string', enum: ['fail', 'high', 'medium', 'low'] },
    status: { type: 'string', enum: ['ok', 'alarm', 'skip', 'info', 'error'] },
    reason: str,
    citations: { type: 'array', items: str, description: 'sections of 45 CFR Part 164, e.g. 164.312(e)(1)' },
    evidence: { type: 'object', additionalProperties: true, description: 'PHI-free facts: counts, setting names, ids, dates' },
  },
} as const;

const reportSchema = {
  type: 'object',
  properties: {
    format: str,
    edition: str,
    space: { type: 'object', properties: { name: str, tier: str } },
    at: str,
    gathered: { type: 'array', items: str },
    summary: { type: 'object', additionalProperties: { type: 'integer' } },
    findings: { type: 'array', items: findingSchema },
  },
} as const;

export function complianceRoutes(app: FastifyInstance, vault: Vault, config: WardConfig, transport: TransportFacts): void {
  app.get(
    '/v1/compliance/checks',
    {
      schema: {
        summary: 'Run the HIPAA checks (auditor or admin roles): status ok, alarm, skip, info or error per check, with citations',
        tags: ['compliance'],
        security: [{ apiKey: [] }],
        response: { 200: reportSchema, ...problems(503) },
      },
    },
    async (request) => {
      const database = await vault.complianceFacts(ctxOf(request));
      const facts: Facts = { now: new Date(), config, transport, database };
      if (vault.master) facts.master = vault.master;
      return runChecks(facts);
    },
  );
}
