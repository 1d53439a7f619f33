/** A throwaway PKI for tests of outbound HTTPS: a CA, and server certificates it signed or not. */
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

/** A CA and a server certificate it signed for `names` (and 127.0.0.1), as PEM. */
export function testPki(names: string[]) {
  const keys = () => {
    const k = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return {
      privateKey: forge.pki.privateKeyFromPem(k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey,
      publicKey: forge.pki.publicKeyFromPem(k.publicKey.export({ type: 'spki', format: 'pem' }).toString()),
      pem: k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  };
  const cert = (
    subject: string,
    k: ReturnType<typeof keys>,
    issuer: forge.pki.Certificate | undefined,
    signer: forge.pki.rsa.PrivateKey,
    extensions: object[],
  ) => {
    const c = forge.pki.createCertificate();
    c.publicKey = k.publicKey;
    c.serialNumber = `0${Math.floor(Math.random() * 1e9).toString(16)}`;
    c.validity.notBefore = new Date(Date.now() - 60_000);
    c.validity.notAfter = new Date(Date.now() + 86_400_000);
    c.setSubject([{ name: 'commonName', value: subject }]);
    c.setIssuer(issuer ? issuer.subject.attributes : [{ name: 'commonName', value: subject }]);
    c.setExtensions(extensions);
    c.sign(signer, forge.md.sha256.create());
    return c;
  };
  const caKeys = keys();
  const ca = cert('Ward Test CA', caKeys, undefined, caKeys.privateKey, [
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true },
  ]);
  const leafKeys = keys();
  const leaf = cert(names[0] as string, leafKeys, ca, caKeys.privateKey, [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...names.map((value) => ({ type: 2, value })), { type: 7, ip: '127.0.0.1' }] },
  ]);
  const selfKeys = keys();
  const self = cert(names[0] as string, selfKeys, undefined, selfKeys.privateKey, [
    { name: 'subjectAltName', altNames: names.map((value) => ({ type: 2, value })) },
  ]);
  return {
    ca: forge.pki.certificateToPem(ca),
    cert: forge.pki.certificateToPem(leaf),
    key: leafKeys.pem,
    selfCert: forge.pki.certificateToPem(self),
    selfKey: selfKeys.pem,
  };
}

/** What an HTTPS receiver got: the headers and the raw body of each request. */
export interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/**
 * An HTTPS server on 127.0.0.1 with a certificate from `pki`, answering each request with the
 * status `answer` gives (default 200) and keeping the requests it answered 2xx.
 */
export async function httpsReceiver(
  pki: { cert: string; key: string },
  answer: (path: string) => number = () => 200,
): Promise<{ port: number; received: Received[]; close(): Promise<void> }> {
  const { createServer } = await import('node:https');
  const received: Received[] = [];
  const server = createServer({ cert: pki.cert, key: pki.key }, (req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const status = answer(req.url ?? '');
      if (status >= 200 && status < 300) received.push({ path: req.url ?? '', headers: req.headers, body });
      res.writeHead(status);
      res.end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  return { port, received, close: () => new Promise((ok) => server.close(() => ok())) };
}
