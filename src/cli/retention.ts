/** `ward retention run | restore` and `ward hold add | list | remove`: the purge job and legal holds, at the command line. */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { Hold, PurgeReport } from '../vault/retention.js';
import { type Cli, textTable } from './run.js';

export function registerRetention(program: Command, cli: Cli): void {
  const retention = program.command('retention').description("records past their collection's retention: purge and restore");

  retention
    .command('run')
    .description('purge now: apply changed retention, archive expired records no hold keeps, remove archived ones past their grace')
    .option('--dry-run', 'change nothing; report what would go')
    .option('--json', 'print the report as JSON')
    .action((o: { dryRun?: boolean; json?: boolean }) =>
      cli.withVault(async (v) => {
        const report = await v.runRetention({ dryRun: o.dryRun === true });
        if (o.json) return cli.printJson(report);
        await cli.write(reportText(report));
      }),
    );

  retention
    .command('restore <collection> <record-id>')
    .description('put an archived record back (within its grace), under a legal hold with the reason given (audited)')
    .requiredOption('--reason <text>', 'why it is restored (kept with the hold; PHI the detector finds is masked)')
    .option('--json', 'print the hold as JSON')
    .action((collection: string, id: string, o: { reason: string; json?: boolean }) =>
      cli.withVault(async (v) => {
        const hold = await v.restoreRecord(collection, id, o.reason);
        if (o.json) return cli.printJson(hold);
        await cli.write(`restored ${hold.recordId} under hold ${hold.id} (ward hold remove ${hold.id} lets retention take it again)\n`);
      }),
    );

  program
    .command('subjects')
    .description("a collection's subjects (its subject field): crypto-shredding")
    .command('shred <collection> <record-id>')
    .description(
      "destroy the subject key of this record's subject: every record of the subject is deleted here and unreadable in any backup or replica",
    )
    .option('--json', 'print the result as JSON')
    .action((collection: string, recordId: string, o: { json?: boolean }) =>
      cli.withVault(async (v) => {
        const done = await v.shredSubject(collection, recordId);
        if (o.json) return cli.printJson(done);
        await cli.write(`subject shredded: its key destroyed, ${done.shredded.length} record(s) of ${collection} deleted\n`);
      }),
    );

  program
    .command('destroy')
    .description(
      'end the space: destroy every data and index key (nothing encrypted can be read again, backups included) and write a signed certificate',
    )
    .requiredOption('--certificate <file>', 'where to write the destruction certificate (mode 0600)')
    .requiredOption('--confirm <space>', 'the space name, repeated: this cannot be undone')
    .action((o: { certificate: string; confirm: string }) =>
      cli.withVault(async (v) => {
        const cert = await v.destroySpace(o.confirm);
        writeFileSync(cli.path(o.certificate), `${JSON.stringify(cert, null, 2)}\n`, { mode: 0o600 });
        await cli.write(
          `space ${cert.body.space} destroyed: ${cert.body.keys.length} key version(s); certificate in ${o.certificate} ` +
            '(check it with ward audit verify --certificate)\n',
        );
      }),
    );

  program
    .command('deid')
    .description('the de-identified copy for analysts (ward_deid schema)')
    .command('refresh')
    .description('rebuild ward_deid.<collection> for every collection: Safe Harbor, as the de-identified view (audited)')
    .option('--json', 'print what was written as JSON')
    .action((o: { json?: boolean }) =>
      cli.withVault(async (v) => {
        const report = await v.refreshDeidentified();
        if (o.json) return cli.printJson(report);
        await cli.write(report.map((r) => `${r.table}: ${r.records} record(s); columns ${r.columns.join(', ')}\n`).join(''));
      }),
    );

  const hold = program.command('hold').description('legal holds: a held record is never purged');
  hold
    .command('add <collection> <record-id>')
    .description('place a legal hold on a record (audited)')
    .requiredOption('--reason <text>', 'why it is held, e.g. the matter (PHI the detector finds is masked)')
    .option('--json', 'print the hold as JSON')
    .action((collection: string, id: string, o: { reason: string; json?: boolean }) =>
      cli.withVault(async (v) => {
        const h = await v.addHold(collection, id, o.reason);
        if (o.json) return cli.printJson(h);
        await cli.write(`hold ${h.id} placed on ${h.recordId}\n`);
      }),
    );
  hold
    .command('list')
    .description('holds in force')
    .option('--json', 'print the holds as JSON')
    .action((o: { json?: boolean }) =>
      cli.withVault(async (v) => {
        const holds = await v.holds();
        if (o.json) return cli.printJson(holds);
        await cli.write(holdsText(holds));
      }),
    );
  hold
    .command('remove <hold-id>')
    .description('end a hold (audited): the record is subject to retention again')
    .action((id: string) =>
      cli.withVault(async (v) => {
        await v.removeHold(id);
        await cli.write(`hold ${id} removed\n`);
      }),
    );
}

function reportText(r: PurgeReport): string {
  const lines: string[] = [];
  for (const a of r.reapplied)
    lines.push(
      `${r.dryRun ? 'would apply' : 'applied'} retention ${a.days === null ? 'none' : `${a.days}d`} to ${a.collection}${r.dryRun ? '' : ` (${a.records} record(s))`}\n`,
    );
  if (!r.collections.length) return `${lines.join('')}nothing to purge\n`;
  const head = r.dryRun ? ['collection', 'expired', 'held', 'archive due'] : ['collection', 'archived', 'removed', 'held'];
  const body = r.collections.map((c) =>
    r.dryRun
      ? [c.collection, String(c.expired ?? 0), String(c.held), String(c.archiveDue ?? 0)]
      : [c.collection, String(c.archived), String(c.removed), String(c.held)],
  );
  return lines.join('') + textTable(head, body);
}

function holdsText(holds: readonly Hold[]): string {
  if (!holds.length) return 'no hold in force\n';
  return textTable(
    ['id', 'collection', 'record', 'since', 'by', 'reason'],
    holds.map((h) => [h.id, h.collection, h.recordId, h.createdAt, h.createdBy, h.reason]),
  );
}
