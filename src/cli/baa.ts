/** `ward baa ...`: Business Associate Agreements: add, list (with days to expiry), revoke. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { operatorContext } from '../access/actions.js';
import { WardError } from '../errors.js';
import { type Agreement, type AgreementInput, documentDigest, EXPIRY_WARNING_DAYS } from '../vault/baa.js';
import { type Cli, textTable } from './run.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerBaa(program: Command, cli: Cli): void {
  const baa = program.command('baa').description('Business Associate Agreements: the services that may receive PHI');

  baa
    .command('add')
    .description('record a signed agreement covering one or more hosts (audited)')
    .requiredOption('--name <name>', 'the business associate, e.g. the vendor')
    .requiredOption('--host <host>', 'a host it covers: api.example.com, *.example.com or an IP address (repeat for more)', collect)
    .requiredOption('--signed <date>', 'the date it was signed, YYYY-MM-DD')
    .requiredOption('--expires <date>', 'the date it ends, YYYY-MM-DD (it covers nothing from then on)')
    .option('--scope <scope>', 'phi (PHI or references to it may be sent) or no-phi', 'phi')
    .option('--document <file>', 'the signed document: its SHA-256 is recorded, not the file')
    .option('--json', 'print the agreement as JSON')
    .action((o: { name: string; host: string[]; signed: string; expires: string; scope: string; document?: string; json?: boolean }) =>
      cli.withAgreements(async (registry) => {
        let documentSha256: string | undefined;
        if (o.document !== undefined) {
          try {
            documentSha256 = documentDigest(readFileSync(o.document));
          } catch {
            throw new WardError('invalid_request', '--document: cannot read the file named');
          }
        }
        const scope = o.scope === 'phi' || o.scope === 'no-phi' ? o.scope : undefined;
        if (!scope) throw new WardError('invalid_request', '--scope must be phi or no-phi');
        const input: AgreementInput = { name: o.name, hosts: o.host, signed: o.signed, expires: o.expires, scope, documentSha256 };
        const a = await registry.add(input, operatorContext());
        if (o.json) return cli.printJson(a);
        await cli.write(`agreement ${a.id} recorded: ${a.hosts.join(', ')} (${a.scope}) until ${a.expires}\n${warning(a)}`);
      }),
    );

  baa
    .command('list')
    .description(`list agreements with days to expiry; those ending within ${EXPIRY_WARNING_DAYS} days are flagged`)
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) =>
      cli.withAgreements(async (registry) => {
        const all = await registry.list(operatorContext());
        if (o.json) return cli.printJson({ agreements: all });
        await cli.write(table(all));
      }),
    );

  baa
    .command('revoke <id>')
    .description('revoke an agreement: from now on it covers nothing (audited)')
    .action((id: string) =>
      cli.withAgreements(async (registry) => {
        await registry.revoke(id, operatorContext());
        await cli.printJson({ revoked: id.toLowerCase() });
      }),
    );
}

function warning(a: Agreement): string {
  return a.status === 'expiring' ? `warning: agreement ${a.id} expires in ${a.daysToExpiry} day(s)\n` : '';
}

function table(rows: readonly Agreement[]): string {
  if (!rows.length) return 'no agreements recorded (ward baa add)\n';
  const head = ['id', 'name', 'hosts', 'scope', 'signed', 'expires', 'days', 'status'];
  const body = rows.map((a) => [
    a.id,
    a.name,
    a.hosts.join(','),
    a.scope,
    a.signed,
    a.expires,
    String(a.daysToExpiry),
    a.status === 'expiring' ? 'EXPIRING' : a.status,
  ]);
  return textTable(head, body) + rows.map(warning).join('');
}
