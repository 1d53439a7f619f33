/** The connection to PostgreSQL requires TLS (sslmode require, verify-ca or verify-full). */
import { alarm, type Check, ok, skip } from '../types.js';

const TLS_MODES = new Set(['require', 'verify-ca', 'verify-full']);

/** The sslmode a URL asks for, or undefined when it asks for none or is not a URL. */
export function sslMode(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.searchParams.get('sslmode') ?? (u.searchParams.get('ssl') === 'true' ? 'require' : undefined);
  } catch {
    return undefined;
  }
}

export const check: Check = {
  id: 'database-tls',
  title: 'The database connection requires TLS',
  citations: ['164.312(e)(1)', '164.312(e)(2)(ii)'],
  severity: 'fail',
  needs: [],
  run({ config }) {
    const db = config.database;
    if (db.kind === 'embedded') return skip('the embedded database runs in this process: no connection to protect');
    const mode = sslMode(db.url);
    if (mode && TLS_MODES.has(mode)) return ok(`the connection requires TLS (sslmode=${mode})`, { sslmode: mode, source: db.source });
    const reason = `database.url (from ${db.source}): the connection must require TLS; add ?sslmode=verify-full (or require, verify-ca)`;
    // A nonproduction space may use a local server without TLS: reported, not refused.
    return config.space.tier === 'production' ? alarm(reason, { sslmode: mode ?? null }) : skip(`nonproduction space: ${reason}`);
  },
};
