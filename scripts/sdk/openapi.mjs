/**
 * `npm run openapi`: writes the OpenAPI document `ward serve` serves at /openapi.json to
 * packages/sdk/openapi.json (the SDK is generated from it). Runs after a build: opens the example
 * configuration on a throwaway embedded database, builds the app, asks it for its document.
 * Deterministic: the document depends on the routes' schemas only, never on data.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { buildApp } = await import(path.join(root, 'dist/http/app.js'));
const { parseConfig } = await import(path.join(root, 'dist/config/load.js'));
const { EXAMPLE_CONFIG } = await import(path.join(root, 'dist/config/example.js'));
const { openVault } = await import(path.join(root, 'dist/vault/open.js'));
const { createLogger } = await import(path.join(root, 'dist/detect/logger.js'));
const { Writable } = await import('node:stream');

/** The document as JSON text, from an app over the example configuration. */
export async function openapiDocument() {
  const dir = mkdtempSync(path.join(tmpdir(), 'ward-openapi-'));
  try {
    const text = EXAMPLE_CONFIG.replace('embedded: .ward/pgdata', `embedded: ${path.join(dir, 'pgdata')}`);
    const config = parseConfig(text, path.join(dir, 'ward.yaml'), {});
    const vault = await openVault(config, { env: { WARD_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') } });
    try {
      const quiet = createLogger({ level: 'silent' }, new Writable({ write: (_c, _e, done) => done() }));
      const app = await buildApp({ vault, config, logger: quiet });
      await app.ready();
      const doc = app.swagger();
      await app.close();
      return `${JSON.stringify(doc, null, 2)}\n`;
    } finally {
      await vault.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = path.join(root, 'packages', 'sdk', 'openapi.json');
  const doc = await openapiDocument();
  if (process.argv.includes('--check')) {
    // CI: the committed document (and so the SDK generated from it) must be the server's.
    const committed = existsSync(out) ? readFileSync(out, 'utf8') : '';
    if (committed !== doc) {
      process.stderr.write(`${path.relative(root, out)} is not the document ward serve serves: run npm run sdk:generate and commit\n`);
      process.exit(1);
    }
    process.stdout.write(`${path.relative(root, out)} is current\n`);
  } else {
    writeFileSync(out, doc);
    process.stdout.write(`wrote ${path.relative(root, out)}\n`);
  }
}
