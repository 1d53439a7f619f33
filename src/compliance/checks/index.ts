/** Every check, in report order: start-up rules first, then the rest by file (checks/set-*.ts). */

import type { Check } from '../types.js';
import { check as databaseProductionKey } from './database-production-key.js';
import { check as databaseServer } from './database-server.js';
import { check as databaseTls } from './database-tls.js';
import { check as egressPublicOnly } from './egress-public-only.js';
import { check as ingressTls } from './ingress-tls.js';
import { check as masterKeyFilePrivate } from './master-key-file-private.js';
import { check as masterKeyProduction } from './master-key-production.js';
import { check as noDebugger } from './no-debugger.js';
import { CONFIG_CHECKS } from './set-config.js';
import { DATABASE_CHECKS } from './set-database.js';

/** The production safety rules: `fail` severity, run at start-up, which refuses to run while one alarms. */
export const STARTUP_CHECKS: readonly Check[] = [
  masterKeyProduction,
  databaseProductionKey,
  masterKeyFilePrivate,
  databaseServer,
  databaseTls,
  egressPublicOnly,
  ingressTls,
  noDebugger,
];

export const ALL_CHECKS: readonly Check[] = [...STARTUP_CHECKS, ...CONFIG_CHECKS, ...DATABASE_CHECKS];
