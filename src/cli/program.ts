/**
 * The `ward` command line: thin adapters over the same services the HTTP API uses. `runCli` runs
 * one command line against given streams and returns its exit code: 0, 1 for an error, 2 for a
 * usage error. Every error is one line, `ward: <message>`, that never repeats a value it was given.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { registerApiKey } from './apikey.js';
import { registerAudit } from './audit.js';
import { registerBaa } from './baa.js';
import { registerCompliance } from './compliance.js';
import { registerDb } from './db.js';
import { registerDemo } from './demo.js';
import { registerEvents } from './events.js';
import { hsmCommands } from './hsm.js';
import { registerInit } from './init.js';
import { registerKeys } from './keys.js';
import { registerLineage } from './lineage.js';
import { registerLintLogs } from './lint-logs.js';
import { registerRecords } from './records.js';
import { registerRetention } from './retention.js';
import { Cli, type CliIo, report } from './run.js';
import { registerScan } from './scan.js';
import { registerServe } from './serve.js';
import { registerSync } from './sync.js';

export const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export function buildProgram(io: CliIo): { program: Command; cli: Cli } {
  const program = new Command('ward')
    .description('Ward: a self-hosted PHI vault with HIPAA guardrails')
    .version(VERSION, '-V, --version', 'print the version')
    .option('-c, --config <file>', 'path of ward.yaml (default: $WARD_CONFIG or ./ward.yaml)')
    // Set before the commands are added: subcommands copy these settings when they are made.
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void io.stdout.write(s),
      writeErr: (s) => void io.stderr.write(s),
      outputError: () => {}, // reported by runCli, in Ward's form
    });
  const cli = new Cli(io, program);
  for (const register of [
    registerInit,
    registerKeys,
    hsmCommands,
    registerDb,
    registerSync,
    registerLineage,
    registerRecords,
    registerServe,
    registerApiKey,
    registerAudit,
    registerEvents,
    registerBaa,
    registerRetention,
    registerDemo,
    registerScan,
    registerCompliance,
    registerLintLogs,
  ])
    register(program, cli);
  return { program, cli };
}

/** Every name the program declares: commands, options and arguments, as Commander quotes them. */
function declaredNames(program: Command): Set<string> {
  const names = new Set<string>();
  const visit = (c: Command) => {
    names.add(c.name());
    for (const a of c.aliases()) names.add(a);
    for (const o of c.options) for (const n of [o.flags, o.long, o.short]) if (n) names.add(n);
    for (const a of c.registeredArguments) names.add(a.name());
    c.commands.forEach(visit);
  };
  visit(program);
  return names;
}

/**
 * Commander's message in Ward's form: a quoted name the program declares stays; anything else the
 * user typed (an unknown command or option could be a value typed in the wrong place) is named by
 * its position on the command line instead.
 */
export function usageMessage(message: string, argv: readonly string[], program: Command): string {
  const declared = declaredNames(program);
  let text = message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  // First what was typed, whole (it may hold a quote itself: --name=O'Brien), longest first.
  const typed = argv.map((a, i) => [a, i] as const).filter(([a]) => a && !declared.has(a));
  for (const [a, i] of [...typed].sort((x, y) => y[0].length - x[0].length)) text = text.split(`'${a}'`).join(`(argument ${i + 1})`);
  // Then any other quoted part that is not a declared name (a piece of an argument, say).
  return text.replace(/'([^']*)'/g, (quoted, inner: string) => (declared.has(inner) ? quoted : '(a value given)')).trim();
}

/** Runs one command line (without `node` and the script: `['records', 'get', ...]`); returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const { program, cli } = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return cli.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return 0; // --help, --version
      if (e.code === 'commander.help') return 2; // a bare `ward` or `ward records`: the help went to stderr
      io.stderr.write(`ward: ${usageMessage(e.message, argv, program)}\n`);
      return 2;
    }
    return report(e, io.stderr);
  }
}
