/**
 * Agreements stay current: none that a configured destination relies on ends within 30 days
 * without a successor, and expired agreements are revoked (info: they already cover nothing).
 */
import { type AgreementFact, alarm, type Check, info, ok, skip } from '../types.js';
import { coverers, destinations } from './egress-covered.js';

/** vault/baa's EXPIRY_WARNING_DAYS: an agreement ending within 30 days is `expiring`. */
export const EXPIRY_WARNING_DAYS = 30;

/** Whole days from `now`'s date (UTC) to an agreement's end date (YYYY-MM-DD), as vault/baa counts them. */
const daysTo = (expires: string, now: Date): number => {
  const end = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(expires) ? `${expires}T00:00:00Z` : expires);
  return Math.round((end - Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())) / 86_400_000);
};

export const check: Check = {
  id: 'agreements-current',
  title: 'No agreement a destination relies on expires within 30 days',
  citations: ['164.314(a)(1)'],
  severity: 'medium',
  needs: ['database'],
  run({ database, config, now }) {
    if (!database) return skip('needs the database');
    const all = destinations(config);
    // A destination is at risk when every agreement covering it is expiring (a renewed one, active, covers it on).
    const ending = new Map<string, AgreementFact>();
    const atRisk: string[] = [];
    for (const d of all) {
      const by = coverers(d, database.agreements);
      if (!by.length || by.some((a) => a.status === 'active')) continue;
      atRisk.push(d.host as string);
      for (const a of by) ending.set(a.id, a);
    }
    const expired = database.agreements.filter((a) => a.status === 'expired');
    const evidence = {
      destinations: all.length,
      atRiskHosts: [...new Set(atRisk)],
      expiring: [...ending.values()].map((a) => `${a.id} (ends ${a.expires})`),
      expiredNotRevoked: expired.map((a) => a.id),
      warningDays: EXPIRY_WARNING_DAYS,
    };
    if (ending.size) {
      const soonest = [...ending.values()].sort((a, b) => a.expires.localeCompare(b.expires))[0] as AgreementFact;
      return alarm(
        `${ending.size} agreement(s) covering ${[...new Set(atRisk)].join(', ')} end within ${EXPIRY_WARNING_DAYS} days ` +
          `(the first in ${daysTo(soonest.expires, now)} days, ${soonest.expires}): record the renewed agreement with \`ward baa add\` before then`,
        evidence,
      );
    }
    if (expired.length)
      return info(
        `${expired.length} agreement(s) expired but were never revoked (${expired.map((a) => a.id).join(', ')}): they cover nothing; revoke each with \`ward baa revoke <id>\``,
        evidence,
      );
    if (!all.length) return skip('no destination is configured and no agreement has expired');
    return ok(`no agreement covering the ${all.length} configured destination(s) ends within ${EXPIRY_WARNING_DAYS} days`, evidence);
  },
};
