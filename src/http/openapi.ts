/** Options for @fastify/swagger: an OpenAPI 3.1 document built from the route schemas. */
import type { SwaggerOptions } from '@fastify/swagger';

export function openapiOptions(): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Ward',
        version: '1',
        description:
          'A self-hosted PHI vault. Send `Authorization: Bearer <api key>`, and `Ward-Purpose: <purpose>` on any request ' +
          'that touches identifier or clinical fields. In an emergency, a role with break_glass may send `Ward-Break-Glass: <reason>` ' +
          '(20 to 500 characters): granted beyond its rules for a bounded window, audited and alerted, reviewed afterwards. ' +
          'Errors are application/problem+json with a stable `code`.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'a Ward API key (ward_...)' } } },
      tags: [
        { name: 'records', description: 'encrypted records' },
        { name: 'tokens', description: 'tokens standing in for values' },
        { name: 'audit', description: 'the audit trail' },
        { name: 'compliance', description: 'the HIPAA checks, for roles with audit: true or admin: true' },
        { name: 'admin', description: 'API keys, for roles with admin: true' },
        { name: 'operations', description: 'health, readiness, this document (metrics have a listener of their own)' },
      ],
    },
    // Shared schemas keep their $id as their component name.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  };
}
