/**
 * Start-up's production safety rules are the `fail` checks (checks/index.ts STARTUP_CHECKS): the
 * same code `ward check` reports, so the report and the refusal to start can never disagree.
 * Outside production every one of them is skipped.
 */
import type { WardConfig } from '../config/load.js';
import { STARTUP_CHECKS } from './checks/index.js';
import { assertStartupChecks } from './run.js';
import type { MasterFacts, TransportFacts } from './types.js';

/** The master key as start-up knows it before (createdWithDevKey unknown) and after opening the database. */
export type StartupKey = Omit<MasterFacts, 'createdWithDevKey'>;

/** Throws `unsafe_production` listing every start-up rule the configuration and master key break. */
export function assertProductionSafe(config: WardConfig, key: StartupKey, createdWithDevKey?: boolean, now = new Date()): void {
  assertStartupChecks({ now, config, master: { ...key, createdWithDevKey } }, OPENING);
}

/** Throws `unsafe_production` when a production server would run without TLS or with a debugger. */
export function assertSafeServing(config: WardConfig, transport: TransportFacts, now = new Date()): void {
  assertStartupChecks({ now, config, transport }, SERVING);
}

/** Opening a vault checks the rules over the configuration and the master key; serving, those over the transport. */
const OPENING = STARTUP_CHECKS.filter((c) => !c.needs.includes('transport'));
const SERVING = STARTUP_CHECKS.filter((c) => c.needs.includes('transport'));

/** The Node inspector is on: from a flag or NODE_OPTIONS. */
export const inspectorOn = (execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): boolean =>
  [...execArgv, ...nodeOptions.split(/\s+/)].some((a) => /^--inspect(-brk|-port|-wait)?(=|$)/.test(a));

/** What the checks know of a server's transport: HTTPS itself, trusted TLS proxies, the inspector. */
export const transportFacts = (o: { tls?: unknown; trustProxy?: readonly string[] | undefined }): TransportFacts => ({
  tls: !!o.tls,
  trustProxy: o.trustProxy?.length ?? 0,
  inspector: inspectorOn(),
});
