/**
 * Every host Ward sends to is covered by a Business Associate Agreement in force: webhooks, log
 * drains and the NATS broker carry PHI or references to it, and so does an AWS KMS master key
 * (wrapped keys); alerts carry no PHI and need an agreement of either scope, as egress asks at run time.
 */
import type { WardConfig } from '../../config/load.js';
import { hostMatches, normalHost } from '../../util/hosts.js';
import { type AgreementFact, alarm, type Check, ok, skip } from '../types.js';

/** One place Ward sends to: the setting naming it, its host (normalized; undefined when none can be read), the scope egress asks. */
export interface Destination {
  setting: string;
  host: string | undefined;
  scope: 'phi' | 'no-phi';
}

const hostOf = (url: string): string | undefined => {
  try {
    return normalHost(new URL(url).hostname);
  } catch {
    return undefined;
  }
};

/** Every destination the configuration names, with the scope egress requires for it. */
export function destinations(config: WardConfig): Destination[] {
  const out: Destination[] = [];
  for (const [i, w] of config.events.webhooks.entries())
    out.push({ setting: `events.webhooks[${i}] (${w.name})`, host: hostOf(w.url), scope: 'phi' });
  for (const [i, d] of config.logging.drains.entries())
    out.push({ setting: `logging.drains[${i}] (${d.name})`, host: hostOf(d.url), scope: 'phi' });
  if (config.alerts) out.push({ setting: 'alerts.url', host: hostOf(config.alerts.url), scope: 'no-phi' });
  // As events/nats reads it: several servers, comma-separated, nats:// assumed without a scheme.
  const nats = config.events.broker.nats?.url ?? '';
  for (const raw of nats
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean))
    out.push({ setting: 'events.broker.nats.url', host: hostOf(raw.includes('://') ? raw : `nats://${raw}`), scope: 'phi' });
  // As crypto/aws-kms resolves it: the endpoint's host, else the region's KMS endpoint.
  for (const [setting, m] of [
    ['keys.aws_kms', config.keys],
    ['keys.previous.aws_kms', config.keys.previous],
  ] as const) {
    const kms = m?.provider === 'aws-kms' ? m.aws_kms : undefined;
    if (!kms) continue;
    const host = kms.endpoint
      ? hostOf(kms.endpoint)
      : normalHost(`kms.${kms.region}.amazonaws.com${kms.region.startsWith('cn-') ? '.cn' : ''}`);
    out.push({ setting, host, scope: 'phi' });
  }
  return out;
}

/**
 * The agreements in force covering `d`, as vault/baa's `covering` decides (compliance may not
 * import vault/; both use util/hosts): active or expiring, scope phi when PHI is sent, a host pattern matching.
 */
export const coverers = (d: Destination, agreements: readonly AgreementFact[]): AgreementFact[] =>
  d.host === undefined
    ? []
    : agreements.filter(
        (a) =>
          (a.status === 'active' || a.status === 'expiring') &&
          (d.scope === 'no-phi' || a.scope === 'phi') &&
          a.hosts.some((p) => hostMatches(p, d.host as string)),
      );

export const check: Check = {
  id: 'egress-covered',
  title: 'Every destination is covered by a Business Associate Agreement in force',
  citations: ['164.308(b)(1)', '164.314(a)(1)'],
  severity: 'high',
  needs: ['database'],
  run({ database, config }) {
    if (!database) return skip('needs the database');
    const all = destinations(config);
    if (!all.length) return skip('no webhook, log drain, alerts URL, broker or KMS endpoint is configured');
    const uncovered = all.filter((d) => coverers(d, database.agreements).length === 0);
    const hosts = [...new Set(all.map((d) => d.host ?? '(no host)'))];
    const evidence = {
      destinations: all.length,
      hosts,
      uncovered: uncovered.map((d) => `${d.setting}: ${d.host ?? '(no host)'}`),
      agreements: database.agreements.filter((a) => a.status === 'active' || a.status === 'expiring').map((a) => a.id),
    };
    if (uncovered.length) {
      const names = [...new Set(uncovered.map((d) => d.host ?? `${d.setting} (no host)`))];
      return alarm(
        `no Business Associate Agreement in force covers ${names.join(', ')}: record one with \`ward baa add --host <host> --scope phi\` or remove the destination`,
        evidence,
      );
    }
    return ok(`every one of ${all.length} destination(s) (${hosts.join(', ')}) is covered by an agreement in force`, evidence);
  },
};
