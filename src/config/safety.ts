/**
 * Production safety rules, checked once at start-up. A production space refuses to start with
 * a development master key, the embedded database, or a database connection without TLS.
 */
import { WardError } from '../errors.js';
import type { DatabaseSetting, WardConfig } from './load.js';

export interface MasterKeyFacts {
  source: string;
  dev: boolean;
  exposed: boolean;
}

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

function databaseRule(db: DatabaseSetting): string | undefined {
  if (db.kind === 'embedded')
    return 'database: the embedded database is for development; set database.url or DATABASE_URL to a PostgreSQL server';
  const mode = sslMode(db.url);
  if (!mode || !TLS_MODES.has(mode))
    return `database.url (from ${db.source}): the connection must require TLS; add ?sslmode=verify-full (or require, verify-ca)`;
  return undefined;
}

function keyRules(key: MasterKeyFacts, createdWithDevKey: boolean): string[] {
  const out: string[] = [];
  if (key.dev) out.push(`keys: the master key from ${key.source} is a development key made by \`ward init\`; supply a production key`);
  else if (createdWithDevKey)
    out.push("keys: this database's keys were created under a development master key; start production on a new database");
  if (key.exposed) out.push(`keys.file: ${key.source} can be read by other users; run chmod 600 on it`);
  return out;
}

/** Throws `unsafe_production` listing every broken rule; does nothing outside production. */
export function assertProductionSafe(cfg: WardConfig, key: MasterKeyFacts, createdWithDevKey = false): void {
  if (cfg.space.tier !== 'production') return;
  const rules = [
    databaseRule(cfg.database),
    ...keyRules(key, createdWithDevKey),
    cfg.egress.allow_private
      ? 'egress.allow_private: a production space never sends to loopback or private addresses; remove it'
      : undefined,
  ].filter((r): r is string => !!r);
  if (rules.length)
    throw new WardError(
      'unsafe_production',
      `${cfg.file}: space ${cfg.space.name} is production and refuses to start:\n  ${rules.join('\n  ')}`,
    );
}
