/**
 * `ward check`, `ward attest` and `ward compliance status`: the HIPAA checks (src/compliance) as
 * a report and a CI/CD gate, attestations of what software cannot check, and progress per
 * safeguard. Reports written with --out are signed (FILE.sig) with the audit signing key at a
 * fresh checkpoint; `ward audit verify --report FILE` checks them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { operatorContext } from '../access/actions.js';
import { ALL_CHECKS, STARTUP_CHECKS } from '../compliance/checks/index.js';
import { CONTROLS, EDITION, REQUIREMENTS } from '../compliance/citations.js';
import { toHtml } from '../compliance/html.js';
import { toOscal } from '../compliance/oscal.js';
import type { EvidenceReport } from '../compliance/report.js';
import { type CheckReport, failing, runChecks } from '../compliance/run.js';
import { evidenceReport } from '../compliance/status.js';
import { type Facts, SEVERITIES, type Severity } from '../compliance/types.js';
import type { WardConfig } from '../config/load.js';
import { closeMasters, loadMasters } from '../crypto/master-key.js';
import { WardError } from '../errors.js';
import { buildLineage, loadAllMappings } from '../sync/lineage.js';
import type { Agreement } from '../vault/baa.js';
import { compileCollections, openVault } from '../vault/open.js';
import type { Vault } from '../vault/vault.js';
import { type Cli, integer, textTable, UsageError } from './run.js';

const FORMATS = ['table', 'json', 'oscal', 'html'] as const;
type Format = (typeof FORMATS)[number];

interface CheckOptions {
  format: string;
  out?: string;
  failOn?: string;
  database: boolean;
  sample: string;
}

export function registerCompliance(program: Command, cli: Cli): void {
  program
    .command('check')
    .description('run the HIPAA checks over the configuration, the master key and the database; a CI/CD policy gate with --fail-on')
    .option('--format <format>', `${FORMATS.join(', ')}`, 'table')
    .option('--out <file>', 'write the report to FILE (and its signature to FILE.sig) instead of stdout')
    .option('--fail-on <severity>', `exit 1 when a check at or above this severity alarms: ${SEVERITIES.join(', ')}`)
    .option('--no-database', 'configuration and master key only: the database checks are skipped')
    .option('--sample <n>', 'nonproduction spaces: records per collection run through the PHI detector (0: none)', '20')
    .action((o: CheckOptions) => runCheckCommand(cli, o));

  program
    .command('attest <control-id>')
    .description(`record an attestation of a control software cannot check (audited): ${Object.keys(CONTROLS).join(', ')}`)
    .requiredOption('--by <name>', 'who attests: the responsible person')
    .requiredOption('--evidence <file>', 'the evidence document: its SHA-256 is recorded, not the file')
    .option('--expires <duration>', 'how long it counts: 1y, 6m, 12w or 90d (an expired attestation counts as missing)')
    .option('--json', 'print the attestation as JSON')
    .action((control: string, o: { by: string; evidence: string; expires?: string; json?: boolean }) =>
      cli.withVault(async (v) => {
        let evidence: Buffer;
        try {
          evidence = readFileSync(cli.path(o.evidence));
        } catch {
          throw new UsageError('--evidence: cannot read the file named');
        }
        const a = await v.attest({ control, by: o.by, evidence, expires: o.expires }, operatorContext());
        if (o.json) return cli.printJson(a);
        await cli.write(
          `attestation ${a.id} recorded: ${a.control} by ${a.by}, evidence sha256 ${a.evidenceSha256}${a.expiresAt ? `, until ${a.expiresAt.slice(0, 10)}` : ''}\n`,
        );
      }),
    );

  program
    .command('compliance')
    .description('compliance progress')
    .command('status')
    .description(
      'progress per safeguard and overall (weights: required 3, addressable 2), each requirement with what covers it and since when',
    )
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const report = await evidence(cli, { database: true, sample: '0', format: 'table' });
      if (o.json) return cli.printJson({ edition: EDITION, progress: report.progress, requirements: report.requirements });
      await cli.write(statusText(report));
    });
}

async function runCheckCommand(cli: Cli, o: CheckOptions): Promise<void> {
  if (!(FORMATS as readonly string[]).includes(o.format)) throw new UsageError(`--format: must be one of ${FORMATS.join(', ')}`);
  if (o.failOn !== undefined && !(SEVERITIES as readonly string[]).includes(o.failOn))
    throw new UsageError(`--fail-on: must be one of ${SEVERITIES.join(', ')}`);
  integer(o.sample, '--sample', 0, 1000);
  let signed: string | undefined;
  const report = await evidence(cli, o, async (v, text) => {
    if (o.out !== undefined) signed = `${JSON.stringify(await v.signReport(Buffer.from(text)), null, 2)}\n`;
  });
  const text = render(report, o.format as Format);
  if (o.out === undefined) await cli.write(text);
  else {
    writeFileSync(cli.path(o.out), text);
    if (signed === undefined) await cli.write(`report (${o.format}) written to ${o.out}; not signed (no database: --no-database)\n`);
    else {
      writeFileSync(cli.path(`${o.out}.sig`), signed);
      await cli.write(`report (${o.format}) written to ${o.out}, signed in ${o.out}.sig\n`);
    }
  }
  const threshold = o.failOn as Severity | undefined;
  if (threshold && failing(report.checks, threshold).length) cli.exitCode = 1;
}

/**
 * Gathers the facts (the master key from the configuration, the database's inventories unless
 * --no-database) and builds the evidence report. `sign` runs while the vault is open, on the
 * rendered report's text.
 */
async function evidence(
  cli: Cli,
  o: Pick<CheckOptions, 'database' | 'sample' | 'format'>,
  sign?: (v: Vault, text: string) => Promise<void>,
): Promise<EvidenceReport> {
  const config = cli.config();
  const masters = await loadMasters(config.keys, cli.io.env);
  const { source, dev, exposed } = masters.current;
  await closeMasters(masters);
  const master = { source, dev, exposed };
  // Checking never writes what it reports on: not an embedded database that was never made, and
  // not a database whose opening the start-up rules refuse (opening records the master key and
  // makes keys, as start-up would). Their database checks are reported as not gathered.
  const missing = config.database.kind === 'embedded' && !existsSync(config.database.dir);
  const refused = runChecks({ now: new Date(), config, master }, STARTUP_CHECKS).findings.some(
    (f) => f.status === 'alarm' || f.status === 'error',
  );
  if (!o.database || missing || refused) {
    const checks = runChecks({ now: new Date(), config, master });
    return evidenceReport(checks, undefined, lineageTable(config, undefined));
  }
  const vault = await openVault(config, { env: cli.io.env, forChecks: true });
  try {
    const database = await vault.complianceFacts(operatorContext(), { sample: Number(o.sample) });
    // After gathering: what the gathering made (a new database's keys) is not from the future.
    const facts: Facts = { now: new Date(), config, database };
    if (vault.master) facts.master = vault.master;
    const checks: CheckReport = runChecks(facts);
    const agreements = await vault.listAgreements(operatorContext());
    const report = evidenceReport(checks, database, lineageTable(config, agreements));
    if (sign) await sign(vault, render(report, o.format as Format));
    return report;
  } finally {
    await vault.close();
  }
}

/** The data inventory as a plain table: one row per field. */
function lineageTable(config: WardConfig, agreements: readonly Agreement[] | undefined): EvidenceReport['lineage'] {
  try {
    const collections = compileCollections(config);
    const lineage = buildLineage(config, { mappings: loadAllMappings(config, collections), agreements });
    const rows = lineage.collections.flatMap((c) =>
      c.fields.map((f) => [
        c.name,
        f.name,
        f.class,
        f.encrypted ? 'encrypted' : 'plain',
        c.retention ?? '-',
        [...new Set(f.access.map((a) => a.role))].join(' ') || '-',
        f.sources.map((s) => s.mapping).join(' ') || '-',
        f.events.map((e) => e.topic).join(' ') || '-',
      ]),
    );
    return { headers: ['collection', 'field', 'class', 'storage', 'retention', 'readers', 'sources', 'topics'], rows };
  } catch (e) {
    if (e instanceof WardError) return null; // a broken mapping file: `ward lineage` names it
    throw e;
  }
}

function render(report: EvidenceReport, format: Format): string {
  if (format === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  if (format === 'oscal') return `${JSON.stringify(toOscal(report, {}), null, 2)}\n`;
  if (format === 'html') return toHtml(report);
  return checkTable(report.checks);
}

function checkTable(r: CheckReport): string {
  const rows = r.findings.map((f) => [
    f.status.toUpperCase(),
    f.severity,
    f.id,
    f.citations.map((c) => REQUIREMENTS[c]?.section ?? c).join(' '),
    f.reason,
  ]);
  const s = r.summary;
  return `${textTable(['status', 'severity', 'check', 'citations', 'reason'], rows)}\n${r.findings.length} checks (${ALL_CHECKS.length} known): ${s.ok} ok, ${s.alarm} alarm, ${s.skip} skip, ${s.info} info, ${s.error} error; space ${r.space.name} (${r.space.tier}), ${r.at}\n`;
}

function statusText(report: EvidenceReport): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  const lines = [`overall ${pct(report.progress.score)} (weights: required 3, addressable 2; ${EDITION})`];
  for (const s of report.progress.safeguards)
    lines.push(`  ${s.safeguard.padEnd(15)} ${pct(s.score).padStart(4)}  ${s.met}/${s.total} requirements met`);
  const rows = report.requirements.map((q) => [
    q.met ? 'met' : 'open',
    q.safeguard,
    q.section,
    q.title,
    [...q.checks.map((c) => `${c.id}:${c.status}`), ...q.attestations.map((a) => `attested:${a.control}`)].join(' ') ||
      (q.attest ? `needs ward attest (${Object.entries(CONTROLS).find(([, c]) => c.covers.includes(q.section))?.[0] ?? '?'})` : 'no check'),
    q.since ? q.since.slice(0, 10) : '-',
  ]);
  return `${lines.join('\n')}\n\n${textTable(['state', 'safeguard', 'section', 'requirement', 'covered by', 'since'], rows)}`;
}
