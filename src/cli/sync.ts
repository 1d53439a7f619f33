/** `ward sync ...`: Connect mappings at the command line: a pass, state, failures, retries, pause, resume, accept, report. */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { WardError } from '../errors.js';
import * as store from '../store/sync.js';
import { loadMappings, type Mapping } from '../sync/mapping.js';
import { postgresSource } from '../sync/postgres.js';
import { type PassReport, runExclusive, runPass } from '../sync/runner.js';
import { intervalMs } from '../util/duration.js';
import type { Vault } from '../vault/vault.js';
import { type Cli, integer, textTable } from './run.js';

export function registerSync(program: Command, cli: Cli): void {
  const sync = program.command('sync').description('Connect: sync records into the vault from Salesforce, PostgreSQL tables and files');

  sync
    .command('run <mapping-file>')
    .description('one pass of every mapping in the file: new and changed source rows upserted by external id, deletions applied')
    .option('--json', 'print the pass reports as JSON')
    .option('--batch <n>', 'rows per batch', (v) => integer(v, '--batch', 1, 5000), 500)
    .action((file: string, o: { json?: boolean; batch: number }) =>
      cli.withVault(async (v) => {
        const mappings = mappingsOf(cli, v, [cli.path(file)]);
        const reports = await runExclusive(v, async () => {
          const out: PassReport[] = [];
          for (const m of mappings) out.push(await passWithProgress(cli, v, m, o.batch));
          return out;
        });
        if (o.json) return cli.printJson({ passes: reports });
        for (const r of reports) await cli.write(summary(r));
        if (reports.some((r) => r.failed > 0)) cli.exitCode = 1;
      }),
    );

  sync
    .command('status')
    .description("each mapping's state (IDLE, POLLING, PAUSED, SCHEMA_CHANGED, NEED_AUTHENTICATION) and its last pass")
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) =>
      cli.withVault(async (v) => {
        const states = await store.selectStates(v.syncPort().db);
        if (o.json) return cli.printJson({ mappings: states.map(({ watermark: _w, schema: _s, ...rest }) => rest) });
        if (!states.length) return cli.write('no mapping has run yet (ward sync run <mapping-file>)\n');
        await cli.write(
          textTable(
            ['mapping', 'collection', 'state', 'last pass', 'reason'],
            states.map((s) => [s.mapping, s.collection, s.state, s.updatedAt.toISOString(), s.pausedReason ?? '']),
          ),
        );
      }),
    );

  sync
    .command('errors')
    .description('per-record failures not yet retried: the source row, field names and rule (never values)')
    .option('--since <age>', 'only failures younger than this: 24h, 7d', '7d')
    .option('--mapping <name>', 'one mapping only')
    .option('--json', 'print JSON')
    .action((o: { since: string; mapping?: string; json?: boolean }) =>
      cli.withVault(async (v) => {
        const ms = intervalMs(o.since);
        if (!ms) throw new WardError('invalid_request', '--since must be a duration such as 24h or 7d');
        const errors = await store.selectErrors(v.syncPort().db, new Date(Date.now() - ms), o.mapping);
        if (o.json) return cli.printJson({ errors });
        if (!errors.length) return cli.write('no open sync failures\n');
        await cli.write(
          textTable(
            ['id', 'mapping', 'source row', 'fields', 'rule'],
            errors.map((e) => [String(e.id), e.mapping, e.sourceRef, e.fields.join(','), e.rule]),
          ),
        );
      }),
    );

  sync
    .command('retry [ids...]')
    .description('read the failed source rows again (by failure id, or --all) and write them; failures are never retried by themselves')
    .option('--all', 'every open failure')
    .option('--file <mapping-file>', 'the mapping file (default: the files sync.mappings names)')
    .option('--json', 'print the pass reports as JSON')
    .action((ids: string[], o: { all?: boolean; file?: string; json?: boolean }) =>
      cli.withVault(async (v) => {
        if (!o.all && !ids.length) throw new WardError('invalid_request', 'name failure ids (ward sync errors) or pass --all');
        const mappings = mappingsOf(cli, v, o.file ? [cli.path(o.file)] : cli.config().syncMappings);
        const wanted = o.all ? 'all' : ids.map((id) => integer(id, 'id', 1, Number.MAX_SAFE_INTEGER));
        let taken: { mapping: string; sourceRef: string }[] = [];
        const reports = await runExclusive(v, async () => {
          // Taken under the runner's lock, and only for the mappings at hand: none is marked retried unrun.
          taken = await store.takeErrors(
            v.syncPort().db,
            wanted,
            mappings.map((m) => m.name),
          );
          const out: PassReport[] = [];
          for (const m of mappings) {
            const only = new Set(taken.filter((t) => t.mapping === m.name).map((t) => t.sourceRef));
            if (only.size) out.push(await runPass(v, m, { only, env: cli.io.env }));
          }
          return out;
        });
        if (o.json) return cli.printJson({ retried: taken.length, passes: reports });
        await cli.write(`${taken.length} failure(s) retried\n`);
        for (const r of reports) await cli.write(summary(r));
      }),
    );

  for (const [name, state, what] of [
    ['pause', 'PAUSED', 'stop a mapping: its passes read nothing until resumed'],
    ['resume', 'IDLE', 'let a paused mapping run again'],
  ] as const)
    sync
      .command(`${name} <mapping>`)
      .description(what)
      .action((mapping: string) =>
        cli.withVault(async (v) => {
          const db = v.syncPort().db;
          if (!(await store.selectStates(db)).some((s) => s.mapping === mapping))
            throw new WardError('not_found', `no mapping named ${mapping} has run here (ward sync status lists them)`);
          await store.setState(db, mapping, { state, pausedReason: state === 'PAUSED' ? 'paused by an operator' : null });
          await v.syncPort().audit(`sync.${name}`, null, mapping);
          await cli.printJson({ mapping, state });
        }),
      );

  sync
    .command('accept <mapping>')
    .description("accept the source's schema as it is now (after SCHEMA_CHANGED, or a pause for a removed or retyped field)")
    .action((mapping: string) =>
      cli.withVault(async (v) => {
        const db = v.syncPort().db;
        if (!(await store.selectStates(db)).some((s) => s.mapping === mapping))
          throw new WardError('not_found', `no mapping named ${mapping} has run here (ward sync status lists them)`);
        // The next pass records the source's fields as they are then, and checks the mapping against them.
        await store.setState(db, mapping, { state: 'IDLE', schema: null, pausedReason: null });
        await v.syncPort().audit('sync.accept', null, mapping);
        await cli.printJson({ mapping, state: 'IDLE' });
      }),
    );

  sync
    .command('report <mapping-file>')
    .description('orphans (records whose source row a full pass no longer saw) and duplicates (source rows sharing an external id)')
    .option('--json', 'print JSON')
    .action((file: string, o: { json?: boolean }) =>
      cli.withVault(async (v) => {
        const db = v.syncPort().db;
        const out = [];
        for (const m of mappingsOf(cli, v, [cli.path(file)])) {
          const state = (await store.selectStates(db)).find((s) => s.mapping === m.name);
          const passStarted = state?.lastPass
            ? new Date(state.updatedAt.getTime() - ((state.lastPass as PassReport).ms ?? 0) - 1000)
            : undefined;
          const written = await store.selectWritten(db, m.name);
          // A file is read whole each pass: a row it did not see in the last one is gone from the source.
          const full = m.source.kind === 'csv' || m.source.kind === 'ndjson';
          let orphans = full && passStarted ? written.filter((w) => w.seenAt < passStarted) : [];
          // A table can say which of its rows still exist.
          if (m.source.kind === 'postgres') {
            const source = postgresSource(m.source, [], cli.io.env);
            try {
              const live = new Set<string>();
              for (let at = 0; at < written.length; at += 1000)
                for (const r of await (source.exists?.(written.slice(at, at + 1000).map((w) => w.sourceRef)) ?? new Set<string>()))
                  live.add(r);
              orphans = written.filter((w) => !live.has(w.sourceRef));
            } finally {
              await source.close();
            }
          }
          const duplicates = (await store.selectErrors(db, new Date(0), m.name))
            .filter((e) => e.rule.startsWith('duplicate_external_id'))
            .map((e) => ({ sourceRef: e.sourceRef, failure: e.id }));
          out.push({ mapping: m.name, orphans: orphans.map((w) => ({ recordId: w.recordId, sourceRef: w.sourceRef })), duplicates });
        }
        if (o.json) return cli.printJson({ mappings: out });
        for (const r of out)
          await cli.write(`${r.mapping}: ${r.orphans.length} orphan(s), ${r.duplicates.length} duplicate source row(s)\n`);
      }),
    );
}

function mappingsOf(cli: Cli, v: Vault, files: readonly string[]): Mapping[] {
  if (!files.length) throw new WardError('invalid_request', 'name a mapping file (or list them under sync.mappings in ward.yaml)');
  const collections = new Map(v.collectionList().map((c) => [c.name, c]));
  return files.flatMap((f) => loadMappings(f, cli.config(), collections));
}

/** A pass with a progress bar on a terminal, JSON progress lines on stderr otherwise. */
async function passWithProgress(cli: Cli, v: Vault, m: Mapping, batch: number): Promise<PassReport> {
  const bar = cli.io.stderr.isTTY
    ? new cliProgress.SingleBar(
        { stream: cli.io.stderr, format: `syncing ${m.name} {bar} {percentage}% {read} rows`, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let started = false;
  try {
    return await runPass(v, m, {
      batch,
      env: cli.io.env,
      onProgress: (p) => {
        if (!bar) return void cli.io.stderr.write(`${JSON.stringify(p)}\n`);
        if (!started) bar.start(p.total ?? 0, 0, { read: 0 });
        started = true;
        bar.update(p.done ?? 0, { read: p.read });
      },
    });
  } finally {
    bar?.stop();
  }
}

function summary(r: PassReport): string {
  const stopped = r.stopped ? ` (stopped: ${r.stopped})` : '';
  return `${r.mapping} → ${r.collection}: ${r.read} read, ${r.created} created, ${r.updated} updated, ${r.unchanged} unchanged, ${r.deleted} deleted, ${r.failed} failed in ${r.ms} ms; ${r.state}${stopped}\n`;
}
