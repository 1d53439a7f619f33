/**
 * `/docs`: the API reference (Swagger UI over this server's OpenAPI document), with its assets
 * from the @fastify/swagger-ui package (no CDN) under a strict Content-Security-Policy. Public
 * like /openapi.json (it holds no PHI; the ingress allow list still applies). `ward serve` turns
 * it on outside production, and in production only with `--docs`.
 */
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

export async function docsRoutes(app: FastifyInstance): Promise<void> {
  // Its routes need no API key, like the document they show.
  app.addHook('onRoute', (route) => {
    route.config = { ...(route.config ?? {}), public: true } as NonNullable<typeof route.config>;
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    uiConfig: { deepLinking: true, tryItOutEnabled: false, validatorUrl: null },
  });
}
