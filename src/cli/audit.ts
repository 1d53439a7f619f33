/** `ward audit export`: the audit trail as JSON lines, oldest first. */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { WardError } from '../errors.js';
import type { AuditFilter } from '../store/audit.js';
import { type GlobalOptions, withVault } from './run.js';

const PAGE = 1000;

function date(flag: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new WardError('invalid_request', `${flag} must be an ISO 8601 date or time`);
  return d;
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await new Promise((resolve) => out.once('drain', resolve));
}

export function registerAudit(program: Command): void {
  const g = () => program.opts<GlobalOptions>();
  const audit = program.command('audit').description('the audit trail');

  audit
    .command('export')
    .description('write audit events as JSON lines (to stdout, or --out FILE)')
    .option('--since <time>', 'events at or after this ISO 8601 time')
    .option('--until <time>', 'events before this ISO 8601 time')
    .option('--record <id>', 'events about this record')
    .option('--actor <actor>', 'events by this actor, e.g. key:<prefix> or cli:<user>')
    .option('--out <file>', 'write to this file (created with mode 0600)')
    .action((o: { since?: string; until?: string; record?: string; actor?: string; out?: string }) =>
      withVault(g(), async (v) => {
        const base: Omit<AuditFilter, 'limit'> = {};
        const since = date('--since', o.since);
        const until = date('--until', o.until);
        if (since) base.since = since;
        if (until) base.until = until;
        if (o.record) base.recordId = o.record;
        if (o.actor) base.actor = o.actor;
        const out: Writable = o.out ? createWriteStream(o.out, { mode: 0o600 }) : process.stdout;
        let after: string | undefined;
        for (;;) {
          const page = await v.auditEvents({ ...base, limit: PAGE, ...(after ? { after } : {}) });
          for (const e of page) await write(out, `${JSON.stringify(e)}\n`);
          if (page.length < PAGE) break;
          after = page[page.length - 1]?.seq;
        }
        if (out !== process.stdout)
          await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
      }),
    );
}
