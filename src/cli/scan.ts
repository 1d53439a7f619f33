/**
 * `ward scan [file|-]`: finds PHI in text or JSON lines (a log file, say) and reports it by line
 * and type, never the values unless `--show`; exits 1 when it finds any, so it can gate CI.
 * `ward scan --redact` writes the input back with every finding replaced, line for line.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { type LineFinding, redactLine, scanLine } from '../detect/lines.js';
import { PHI_TYPES } from '../detect/types.js';
import { type Cli, UsageError } from './run.js';

interface ScanOptions {
  redact?: boolean;
  show?: boolean;
  report?: boolean;
  failOn?: string;
  minConfidence?: string;
}

/** The types whose findings fail the scan (`--fail-on`): all of them by default. */
function failingTypes(list: string | undefined): ReadonlySet<string> {
  if (list === undefined) return new Set(PHI_TYPES);
  const types = list
    .split(',')
    .map((t) => t.trim().toUpperCase())
    .filter(Boolean);
  const unknown = types.filter((t) => !(PHI_TYPES as readonly string[]).includes(t));
  if (!types.length || unknown.length)
    throw new UsageError(
      `--fail-on: give PHI types separated by commas (${PHI_TYPES.join(', ')})${unknown.length ? `; not a type: ${unknown.length} given` : ''}`,
    );
  return new Set(types);
}

export function registerScan(program: Command, cli: Cli): void {
  program
    .command('scan [file]')
    .description('find PHI in a text or JSON-lines file ("-" or nothing: stdin); exit 1 when any is found')
    .option('--redact', 'write the input back with each finding replaced by a placeholder such as [SSN], line for line (exit 0)')
    .option('--show', 'print the values found as well (they are PHI: only where that output is safe)')
    .option('--min-confidence <n>', 'report findings at or above this confidence, 0-1 (default 0.5)')
    .option('--report', 'print each finding as a JSON line: line, type, start, end, confidence (and the JSON path): never the text')
    .option('--fail-on <types>', 'exit 1 only for findings of these types, e.g. SSN,MRN,EMAIL (default: any)')
    .action(async (file: string | undefined, opts: ScanOptions) => {
      if (opts.redact && opts.show) throw new UsageError('--redact and --show cannot be used together');
      if (opts.report && (opts.show || opts.redact))
        throw new UsageError('--report prints no text: it cannot be used with --show or --redact');
      const failOn = failingTypes(opts.failOn);
      const minConfidence = opts.minConfidence === undefined ? 0.5 : Number(opts.minConfidence);
      if (!(minConfidence >= 0 && minConfidence <= 1)) throw new UsageError('--min-confidence: give a number from 0 to 1');
      const input = await open(cli, file);
      const name = !file || file === '-' ? '(stdin)' : file;
      if (opts.redact) await redact(cli, input, { minConfidence });
      else if (opts.report) cli.exitCode = await spans(cli, input, failOn, { minConfidence });
      else cli.exitCode = await report(cli, input, name, opts.show ?? false, failOn, { minConfidence });
    });
}

async function open(cli: Cli, file: string | undefined): Promise<Readable> {
  if (!file || file === '-') return cli.io.stdin;
  const path = cli.path(file);
  if (existsSync(path) && statSync(path).isDirectory()) throw new UsageError(`${file} is a directory`);
  const stream = createReadStream(path, { encoding: 'utf8' });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', () => reject(new UsageError(`cannot read ${file}`)));
  });
  return stream;
}

/** Yields the input's lines without their "\n" (a "\r" stays, so line endings survive). */
async function* lines(input: Readable): AsyncGenerator<{ line: string; last: boolean }> {
  input.setEncoding('utf8');
  let rest = '';
  for await (const chunk of input) {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) yield { line, last: false };
  }
  if (rest) yield { line: rest, last: true };
}

const body = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);

async function redact(cli: Cli, input: Readable, options: { minConfidence: number }): Promise<void> {
  for await (const { line, last } of lines(input)) {
    const b = body(line);
    await cli.write(redactLine(b, options) + line.slice(b.length) + (last ? '' : '\n'));
  }
}

const describe = (f: LineFinding, show: boolean) =>
  `${f.type}${typeof f.at === 'number' ? ` col ${f.at}` : ` in ${f.at}`}${show ? ` ${JSON.stringify(f.value)}` : ''}`;

/** `--report`: one JSON line per finding, its position and confidence only; 1 when one of `failOn`'s types is found. */
async function spans(cli: Cli, input: Readable, failOn: ReadonlySet<string>, options: { minConfidence: number }): Promise<number> {
  let lineNo = 0;
  let failed = false;
  for await (const { line } of lines(input)) {
    lineNo++;
    for (const f of scanLine(body(line), options)) {
      failed ||= failOn.has(f.type);
      const span = { line: lineNo, type: f.type, start: f.start, end: f.end, confidence: Math.round(f.confidence * 100) / 100 };
      await cli.write(`${JSON.stringify(typeof f.at === 'string' ? { ...span, path: f.at } : span)}\n`);
    }
  }
  return failed ? 1 : 0;
}

async function report(
  cli: Cli,
  input: Readable,
  name: string,
  show: boolean,
  failOn: ReadonlySet<string>,
  options: { minConfidence: number },
): Promise<number> {
  let count = 0;
  let lineNo = 0;
  let withPhi = 0;
  const byType = new Map<string, number>();
  for await (const { line } of lines(input)) {
    lineNo++;
    const found = scanLine(body(line), options);
    if (!found.length) continue;
    withPhi++;
    count += found.length;
    for (const f of found) byType.set(f.type, (byType.get(f.type) ?? 0) + 1);
    await cli.write(`${name}:${lineNo}: ${found.map((f) => describe(f, show)).join(', ')}\n`);
  }
  if (!count) {
    await cli.write(`ward scan: no PHI found in ${lineNo} line${lineNo === 1 ? '' : 's'}\n`);
    return 0;
  }
  const types = [...byType].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([t, n]) => `${t} ${n}`);
  await cli.write(`ward scan: ${count} finding${count === 1 ? '' : 's'} on ${withPhi} of ${lineNo} lines (${types.join(', ')})\n`);
  return [...byType.keys()].some((t) => failOn.has(t)) ? 1 : 0;
}
