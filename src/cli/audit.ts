/**
 * `ward audit ...`: export the trail as JSON lines, seal it, verify it (optionally against a
 * checkpoint kept earlier), export a signed checkpoint, and list one record's disclosures.
 */
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { parseExported } from '../audit/checkpoint.js';
import type { VerifyReport } from '../audit/verify.js';
import { WardError } from '../errors.js';
import type { AuditFilter, DisclosureFilter, StoredAuditEvent } from '../store/audit.js';
import type { BreakGlassUse } from '../vault/break-glass.js';
import { verifyCertificate } from '../vault/destroy.js';
import { openAuditOnly } from '../vault/open.js';
import { type Cli, integer, textTable } from './run.js';

const PAGE = 1000;

function date(flag: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new WardError('invalid_request', `${flag} must be an ISO 8601 date or time`);
  return d;
}

/** Opens `--out FILE` (mode 0600) or stdout; `done` flushes and closes a file. */
function output(cli: Cli, file: string | undefined): { out: Writable; done: () => Promise<void> } {
  if (!file) return { out: cli.io.stdout, done: async () => {} };
  const out = createWriteStream(cli.path(file), { mode: 0o600 });
  return { out, done: () => new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve()))) };
}

/** Every page of a paged audit read, in order. */
async function eachPage(read: (after: string | undefined) => Promise<StoredAuditEvent[]>, onEvent: (e: StoredAuditEvent) => Promise<void>) {
  let after: string | undefined;
  for (;;) {
    const page = await read(after);
    for (const e of page) await onEvent(e);
    if (page.length < PAGE) return;
    after = page[page.length - 1]?.seq;
  }
}

const CSV_COLUMNS = [
  'at',
  'actor',
  'role',
  'action',
  'collection',
  'fields',
  'purpose',
  'outcome',
  'reason',
  'requestId',
  'client',
  'seq',
] as const;

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : Array.isArray(v) ? v.join(';') : v instanceof Date ? v.toISOString() : String(v);
  // A leading = + - @ would make a spreadsheet evaluate the cell: neutralize it (OWASP CSV injection).
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function describeReport(r: VerifyReport): string {
  const lines: string[] = [];
  if (r.ok) {
    lines.push(
      `audit log verified: ${r.treeSize} sealed events, ${r.checkpoints} signed checkpoints${r.rootHash ? `, root ${r.rootHash}` : ''}`,
    );
    if (r.since)
      lines.push(`extends the given checkpoint of ${r.since.treeSize} events (consistency proof of ${r.since.proofHashes} hashes)`);
  } else if (r.problem) {
    const at = [
      r.problem.seq ? `first bad event: seq ${r.problem.seq}` : '',
      r.problem.treeSize ? `checkpoint at tree size ${r.problem.treeSize}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    lines.push(`AUDIT LOG VERIFICATION FAILED (${r.problem.kind}): ${r.problem.message}${at ? ` [${at}]` : ''}`);
  }
  if (r.unsealed) lines.push(`${r.unsealed} newer events are not sealed yet (run \`ward audit seal\`)`);
  return `${lines.join('\n')}\n`;
}

export function registerAudit(program: Command, cli: Cli): void {
  const audit = program.command('audit').description('the audit trail');

  const glass = audit
    .command('break-glass')
    .description('list break-glass uses (emergency access) with their reasons and accesses; review them')
    .option('--unreviewed', 'only uses not yet reviewed')
    .option('--json', 'print the uses as JSON')
    .action((o: { unreviewed?: boolean; json?: boolean }) =>
      cli.withVault(async (v) => {
        const uses = await v.breakGlassUses({ unreviewed: o.unreviewed === true });
        if (o.json) return cli.printJson(uses);
        await cli.write(breakGlassTable(uses, o.unreviewed === true));
      }),
    );
  glass
    .command('review <id>')
    .description('mark a break-glass use reviewed (audited; not by who declared it)')
    .option('--note <text>', 'what the review found')
    .option('--json', 'print the reviewed use as JSON')
    .action((id: string, o: { note?: string; json?: boolean }) =>
      cli.withVault(async (v) => {
        const use = await v.reviewBreakGlass(id, o.note);
        if (o.json) return cli.printJson(use);
        await cli.write(`reviewed break-glass use ${use.id} (${use.accesses} access(es) under it)\n`);
      }),
    );

  audit
    .command('export')
    .description('write audit events as JSON lines (to stdout, or --out FILE)')
    .option('--since <time>', 'events at or after this ISO 8601 time')
    .option('--until <time>', 'events before this ISO 8601 time')
    .option('--record <id>', 'events about this record')
    .option('--actor <actor>', 'events by this actor, e.g. key:<prefix> or cli:<user>')
    .option('--out <file>', 'write to this file (created with mode 0600)')
    .action((o: { since?: string; until?: string; record?: string; actor?: string; out?: string }) =>
      cli.withVault(async (v) => {
        const base: Omit<AuditFilter, 'limit'> = {};
        const since = date('--since', o.since);
        const until = date('--until', o.until);
        if (since) base.since = since;
        if (until) base.until = until;
        if (o.record) base.recordId = o.record;
        if (o.actor) base.actor = o.actor;
        const { out, done } = output(cli, o.out);
        await eachPage(
          (after) => v.auditEvents({ ...base, limit: PAGE, ...(after ? { after } : {}) }),
          (e) => cli.write(`${JSON.stringify(e)}\n`, out),
        );
        await done();
      }),
    );

  audit
    .command('logins')
    .description('failed authentications and lockouts, by client address and by API key (log-in monitoring)')
    .option('--since <time>', 'from this ISO 8601 time on (default: all)')
    .action((o: { since?: string }) => cli.withVault(async (v) => cli.printJson(await v.loginReport(date('--since', o.since)))));

  audit
    .command('seal')
    .description('seal new audit events into the signed log now (ward serve also does this in the background)')
    .option('--wait <seconds>', 'wait up to this long for transactions still open to finish', '10')
    .action((o: { wait: string }) =>
      cli.withVault(async (v) => {
        const r = await v.sealAudit(integer(o.wait, '--wait', 0, 3600) * 1000);
        await cli.write(
          `sealed ${r.sealed} events; the log holds ${r.treeSize}${r.unsealed ? `; ${r.unsealed} still in open transactions, sealed next time` : ''}\n`,
        );
      }),
    );

  audit
    .command('verify')
    .description('recompute the sealed log, check every signed checkpoint; exit 1 and name the first bad event on failure')
    .option('--since <file>', 'also prove the log still extends this exported checkpoint (ward audit checkpoint --export)')
    .option('--certificate <file>', 'check a destruction certificate (ward destroy) instead: its signature, its checkpoint, the keys gone')
    .option('--report <file>', 'check a signed report (ward check --out FILE) instead: FILE against FILE.sig, its checkpoint, this log')
    .option('--signature <file>', 'with --report: the signature file (default: FILE.sig)')
    .option('--json', 'print the report as JSON')
    .action(async (o: { since?: string; certificate?: string; report?: string; signature?: string; json?: boolean }) => {
      if (o.certificate) return verifyDestruction(cli, o.certificate, o.json === true);
      if (o.report) return verifySignedReport(cli, o.report, o.signature ?? `${o.report}.sig`, o.json === true);
      return cli.withVault(async (v) => {
        let text: string | undefined;
        if (o.since) {
          try {
            text = readFileSync(cli.path(o.since), 'utf8');
          } catch {
            throw new WardError('invalid_request', `--since: cannot read ${o.since}`);
          }
        }
        const report = await v.verifyAudit(text === undefined ? undefined : parseExported(text, '--since'));
        if (o.json) await cli.printJson(report);
        else await cli.write(describeReport(report));
        if (!report.ok) cli.exitCode = 1;
      });
    });

  audit
    .command('checkpoint')
    .description('print the newest signed checkpoint; with --export, seal first and write it for an auditor to keep')
    .option('--export', 'seal pending events, then write the checkpoint (to stdout, or --out FILE)')
    .option('--out <file>', 'write to this file')
    .action((o: { export?: boolean; out?: string }) =>
      cli.withVault(async (v) => {
        if (o.export) await v.sealAudit(10_000);
        const c = await v.auditCheckpoint();
        if (!c) throw new WardError('not_found', 'the audit log has not been sealed yet: run `ward audit seal`');
        const text = `${JSON.stringify(c, null, 2)}\n`;
        if (o.out) writeFileSync(cli.path(o.out), text, { mode: 0o600 });
        else await cli.write(text);
      }),
    );

  audit
    .command('disclosures <recordId>')
    .description("accounting of disclosures (45 CFR 164.528): who touched one record's PHI, when, which fields, why")
    .option('--csv', 'write CSV with a header row instead of JSON lines')
    .option('--since <time>', 'events at or after this ISO 8601 time')
    .option('--until <time>', 'events before this ISO 8601 time')
    .option('--out <file>', 'write to this file (created with mode 0600)')
    .action((recordId: string, o: { csv?: boolean; since?: string; until?: string; out?: string }) =>
      cli.withVault(async (v) => {
        const base: Omit<DisclosureFilter, 'limit'> = {};
        const since = date('--since', o.since);
        const until = date('--until', o.until);
        if (since) base.since = since;
        if (until) base.until = until;
        const { out, done } = output(cli, o.out);
        if (o.csv) await cli.write(`${CSV_COLUMNS.join(',')}\n`, out);
        await eachPage(
          (after) => v.disclosures(recordId, { ...base, limit: PAGE, ...(after ? { after } : {}) }),
          (e) => cli.write(o.csv ? `${CSV_COLUMNS.map((c) => csvCell(e[c])).join(',')}\n` : `${JSON.stringify(e)}\n`, out),
        );
        await done();
      }),
    );
}

function breakGlassTable(uses: readonly BreakGlassUse[], unreviewed: boolean): string {
  if (!uses.length) return unreviewed ? 'no break-glass use is waiting for review\n' : 'no break-glass use recorded\n';
  const head = ['id', 'actor', 'role', 'started', 'ends', 'accesses', 'reviewed', 'reason'];
  const body = uses.map((u) => [
    u.id,
    u.actor,
    u.role,
    u.startedAt,
    u.endsAt,
    String(u.accesses),
    u.reviewed ? `${u.reviewed.at} by ${u.reviewed.by}` : 'NO',
    u.reason,
  ]);
  return textTable(head, body);
}

/** `ward audit verify --certificate FILE`: on a destroyed space, without opening any key. */
async function verifyDestruction(cli: Cli, file: string, json: boolean): Promise<void> {
  let text: string;
  try {
    text = readFileSync(cli.path(file), 'utf8');
  } catch {
    throw new WardError('invalid_request', `--certificate: cannot read ${file}`);
  }
  const { db, log, close } = await openAuditOnly(cli.config(), cli.io.env);
  try {
    const report = await verifyCertificate(db, log, text, '--certificate');
    if (json) await cli.printJson(report);
    else
      await cli.write(
        report.ok
          ? `certificate ok: space ${report.space} destroyed ${report.destroyedAt}, ${report.keysDestroyed} key version(s); signed by this database's audit key, its checkpoint extended by the log\n`
          : `CERTIFICATE FAILED: ${report.problem}\n`,
      );
    if (!report.ok) cli.exitCode = 1;
  } finally {
    await close();
  }
}

/** `ward audit verify --report FILE`: the report's bytes against its signature, this database's keys and log. */
async function verifySignedReport(cli: Cli, file: string, sigFile: string, json: boolean): Promise<void> {
  const read = (f: string, flag: string) => {
    try {
      return readFileSync(cli.path(f));
    } catch {
      throw new WardError('invalid_request', `${flag}: cannot read ${f}`);
    }
  };
  const bytes = read(file, '--report');
  const sig = read(sigFile, '--signature').toString('utf8');
  await cli.withVault(async (v) => {
    const r = await v.verifyReport(bytes, sig, sigFile);
    if (json) await cli.printJson(r);
    else
      await cli.write(
        r.ok
          ? `report ${file}: signature holds${r.checkpoint ? `; made at checkpoint ${r.checkpoint}, which this log extends` : ''}\n`
          : `report ${file}: ${r.problem}\n`,
      );
    if (!r.ok) cli.exitCode = 1;
  });
}
