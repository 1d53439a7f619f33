/** `ward records ...` and `ward tokens ...`: thin adapters over the vault service. */
import type { Command } from 'commander';
import { type GlobalOptions, parseJsonArg, printJson, UsageError, withVault } from './run.js';

const list = (s: string | undefined) =>
  s !== undefined
    ? s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined;
const collect = (value: string, previous: string[] = []) => [...previous, value];

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

export function registerRecords(program: Command): void {
  const g = () => program.opts<GlobalOptions>();
  const records = program.command('records').description('create, read, update, delete and search records');

  records
    .command('create <collection>')
    .description('create a record (or, given a JSON array, all records or none); prints {"id": ...}')
    .requiredOption('--json <object>', 'the record as a JSON object, or an array of them')
    .action((collection: string, o: { json: string }) =>
      withVault(g(), async (v) => {
        const input = parseJsonArg(o.json, '--json');
        printJson(Array.isArray(input) ? await v.createMany(collection, input) : await v.create(collection, input));
      }),
    );

  records
    .command('get <collection> <id>')
    .description('print a record as JSON')
    .option('--fields <list>', 'comma-separated fields to return (default all)')
    .option('--masked', 'show fields that declare a mask in masked form')
    .action((collection: string, id: string, o: ReadFlags) =>
      withVault(g(), async (v) => printJson(await v.get(collection, id, readOptions(o)))),
    );

  records
    .command('update <collection> <id>')
    .description('change some fields of a record (null removes a field)')
    .requiredOption('--json <object>', 'the fields to change, as a JSON object')
    .action((collection: string, id: string, o: { json: string }) =>
      withVault(g(), async (v) => printJson(await v.update(collection, id, parseJsonArg(o.json, '--json')))),
    );

  records
    .command('search <collection>')
    .description('print the records whose searchable fields equal the given values')
    .requiredOption('--where <field=value>', 'an equality on a searchable field (repeatable)', collect)
    .option('--limit <n>', 'at most this many records (default 100)')
    .option('--fields <list>', 'comma-separated fields to return (default all)')
    .option('--masked', 'show fields that declare a mask in masked form')
    .action((collection: string, o: ReadFlags & { where: string[]; limit?: string }) =>
      withVault(g(), async (v) => {
        const limit = o.limit === undefined ? {} : { limit: Number(o.limit) };
        printJson({ records: await v.search(collection, parseWhere(o.where), { ...readOptions(o), ...limit }) });
      }),
    );

  records
    .command('delete <collection> <id>')
    .description('delete a record')
    .action((collection: string, id: string) =>
      withVault(g(), async (v) => {
        await v.delete(collection, id);
        printJson({ deleted: id });
      }),
    );

  program
    .command('detokenize <tokens...>')
    .description('print the current values behind tokens')
    .action((tokens: string[]) => withVault(g(), async (v) => printJson({ values: await v.detokenize(tokens) })));
}
