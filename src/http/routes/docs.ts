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
    // Everything from this server: no https: sources, and no upgrade-insecure-requests (which would
    // break the page over plain HTTP on a nonproduction host; TLS deployments send HSTS anyway).
    staticCSP:
      "default-src 'self'; base-uri 'self'; font-src 'self' data:; frame-ancestors 'self'; img-src 'self' data:; object-src 'none'; " +
      "script-src 'self'; script-src-attr 'none'; style-src 'self'; connect-src 'self'; form-action 'self'",
    uiConfig: { deepLinking: true, tryItOutEnabled: false, validatorUrl: null },
  });
}
