/** `ward records ...` and `ward detokenize`: thin adapters over the vault service. */
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { isWardError, WardError } from '../errors.js';
import type { Vault } from '../vault/vault.js';
import { type Cli, parseJsonArg, UsageError } from './run.js';

const list = (s: string | undefined) =>
  s !== undefined
    ? s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined;
const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Records of NDJSON input written per statement: each batch is all or nothing. */
export const NDJSON_BATCH = 500;

const JSON_HELP = 'the record as a JSON object (an array: all records or none); - reads stdin, @FILE a file; NDJSON: many records';

interface ReadFlags {
  fields?: string;
  masked?: boolean;
}

function readOptions(flags: ReadFlags) {
  const fields = list(flags.fields);
  return { ...(fields ? { fields } : {}), masked: flags.masked ?? false };
}

/** `--where name=value` pairs; the value is never echoed in errors. */
export function parseWhere(pairs: string[]): Record<string, string> {
  const where: Record<string, string> = {};
  for (const [i, pair] of pairs.entries()) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--where #${i + 1}: expected field=value`);
    where[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return where;
}

/** Input to `records create`: one JSON value, or NDJSON lines (one record per non-empty line). */
export type CreateInput = { kind: 'value'; value: unknown } | { kind: 'lines'; records: { line: number; value: unknown }[] };

/** Reads one JSON value, or, when the text is not one, NDJSON; a bad line is named by its number. */
export function parseCreateInput(text: string, flag: string): CreateInput {
  try {
    return { kind: 'value', value: JSON.parse(text) };
  } catch {
    // not one JSON value: NDJSON, or not JSON at all
  }
  const records: { line: number; value: unknown }[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    try {
      records.push({ line: i + 1, value: JSON.parse(line) });
    } catch {
      throw new UsageError(records.length ? `${flag}: line ${i + 1} is not valid JSON` : `${flag}: not valid JSON`);
    }
  }
  if (records.length < 2) throw new UsageError(`${flag}: not valid JSON`);
  return { kind: 'lines', records };
}

/**
 * Creates NDJSON records in batches of NDJSON_BATCH, each all or nothing, printing one JSON line
 * per record created. On a failure, the batches before it stay created (their lines were printed)
 * and nothing from the failing batch on is written; the error names the line at fault.
 */
async function createLines(cli: Cli, v: Vault, collection: string, records: { line: number; value: unknown }[]): Promise<void> {
  const bar = cli.io.stderr.isTTY
    ? new cliProgress.SingleBar(
        { stream: cli.io.stderr, format: 'creating {bar} {value}/{total} records', hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(records.length, 0);
  try {
    for (let at = 0; at < records.length; at += NDJSON_BATCH) {
      const batch = records.slice(at, at + NDJSON_BATCH);
      let ids: string[];
      try {
        ({ ids } = await v.createMany(
          collection,
          batch.map((r) => r.value),
        ));
      } catch (e) {
        throw atLines(e, batch, at);
      }
      await cli.write(ids.map((id, i) => `${JSON.stringify({ line: batch[i]?.line, id })}\n`).join(''));
      bar?.increment(batch.length);
    }
  } finally {
    bar?.stop();
  }
}

/** A batch's error with `records[i]` turned into the input line it came from. */
function atLines(e: unknown, batch: { line: number }[], done: number): unknown {
  if (!isWardError(e)) return e;
  const line = (m: string) => m.replace(/records\[(\d+)\]/g, (_, i: string) => `line ${batch[Number(i)]?.line ?? '?'}`);
  const note = done ? `; the ${done} records before line ${batch[0]?.line} were created` : '';
  return new WardError(
    e.code,
    `${line(e.message)}${note}; nothing from line ${batch[0]?.line} on was written`,
    e.issues.map((x) => ({ ...x, field: line(x.field) })),
  );
}

export function registerRecords(program: Command, cli: Cli): void {
  const records = program.command('records').description('create, read, update, delete and search records');

  records
    .command('create <collection>')
    .description('create a record (or, given a JSON array, all records or none; given NDJSON, many in batches)')
    .requiredOption('--json <object|-|@file>', JSON_HELP)
    .action(async (collection: string, o: { json: string }) => {
      const input = parseCreateInput(await cli.text(o.json, '--json'), '--json');
      await cli.withVault(async (v) => {
        if (input.kind === 'lines') return createLines(cli, v, collection, input.records);
        const value = input.value;
        await cli.printJson(Array.isArray(value) ? await v.createMany(collection, value) : await v.create(collection, value));
      });
    });

  records
    .command('get <collection> <id>')
    .description('print a record as JSON')
    .option('--fields <list>', 'comma-separated fields to return (default all)')
    .option('--masked', 'show fields that declare a mask in masked form')
    .action((collection: string, id: string, o: ReadFlags) =>
      cli.withVault(async (v) => cli.printJson(await v.get(collection, id, readOptions(o)))),
    );

  records
    .command('update <collection> <id>')
    .description('change some fields of a record (null removes a field)')
    .requiredOption('--json <object|-|@file>', 'the fields to change, as a JSON object; - reads stdin, @FILE a file')
    .action(async (collection: string, id: string, o: { json: string }) => {
      const patch = parseJsonArg(await cli.text(o.json, '--json'), '--json');
      await cli.withVault(async (v) => cli.printJson(await v.update(collection, id, patch)));
    });

  records
    .command('search <collection>')
    .description('print the records whose searchable fields equal the given values')
    .requiredOption('--where <field=value>', 'an equality on a searchable field (repeatable)', collect)
    .option('--limit <n>', 'at most this many records (default 100)')
    .option('--fields <list>', 'comma-separated fields to return (default all)')
    .option('--masked', 'show fields that declare a mask in masked form')
    .action((collection: string, o: ReadFlags & { where: string[]; limit?: string }) =>
      cli.withVault(async (v) => {
        const limit = o.limit === undefined ? {} : { limit: Number(o.limit) };
        await cli.printJson({ records: await v.search(collection, parseWhere(o.where), { ...readOptions(o), ...limit }) });
      }),
    );

  records
    .command('delete <collection> <id>')
    .description('delete a record')
    .action((collection: string, id: string) =>
      cli.withVault(async (v) => {
        await v.delete(collection, id);
        await cli.printJson({ deleted: id });
      }),
    );

  program
    .command('detokenize <tokens...>')
    .description('print the current values behind tokens')
    .action((tokens: string[]) => cli.withVault(async (v) => cli.printJson({ values: await v.detokenize(tokens) })));
}
