/**
 * The yardstick for Ward's HTTP layer: Ward's vault (the same config, keys, encryption, policy
 * check and audited single statement) behind a bare node:http server, with no authentication,
 * request logging, metrics, schemas or framework. Only for the benchmark: every request acts as
 * one clinician with purpose `treatment`. Run in the directory of a ward.yaml, like `ward serve`.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { configPath, loadConfig } from '../../dist/config/load.js';
import { defaultCryptoThreads } from '../../dist/crypto/threads.js';
import { openVault } from '../../dist/vault/open.js';

const port = Number(process.argv[2]);
// ward serve's defaults: pool size and crypto threads
const vault = await openVault(loadConfig(configPath()), { poolSize: 20, cryptoThreads: defaultCryptoThreads() });
const principal = { id: 'key:benchbare0', role: 'clinician' };
const PATH = /^\/v1\/collections\/([a-z_]+)\/records(?:\/([0-9a-f-]{36}))?$/;

function send(res, status, value) {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = createServer((req, res) => {
  const m = PATH.exec(req.url ?? '');
  if (!m) return send(res, 404, { code: 'not_found' });
  const ctx = { principal, purpose: 'treatment', requestId: randomUUID(), client: req.socket.remoteAddress ?? '' };
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      if (req.method === 'POST' && !m[2]) send(res, 201, await vault.create(m[1], JSON.parse(Buffer.concat(chunks).toString('utf8')), ctx));
      else if (req.method === 'GET' && m[2]) send(res, 200, await vault.get(m[1], m[2], {}, ctx));
      else send(res, 405, { code: 'method_not_allowed' });
    } catch (e) {
      send(res, e?.code === 'not_found' ? 404 : 500, { code: typeof e?.code === 'string' ? e.code : 'internal' });
    }
  });
});
server.listen(port, '127.0.0.1', () => console.log('ward server listening (bare vault)'));
process.on('SIGTERM', () => server.close(() => vault.close().then(() => process.exit(0))));
