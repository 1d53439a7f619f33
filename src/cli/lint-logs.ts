/**
 * `ward lint-logs <dir>`: finds logging calls in an application's TypeScript and JavaScript whose
 * arguments reach PHI (src/compliance/lint-logs.ts says how), by file, line and column; a CI gate:
 * exit 1 when it finds any, 0 when clean, 2 when it cannot run (no such directory, an unreadable
 * file or ward.yaml). Ward's identifier and clinical field names count when a ward.yaml is found
 * (--config, WARD_CONFIG or ./ward.yaml); without one, the built-in PHI names alone.
 */
import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import type { LogFinding } from '../compliance/lint-logs.js';
import { isWardError } from '../errors.js';
import { type Cli, type GlobalOptions, UsageError } from './run.js';

interface LintLogsOptions {
  json?: boolean;
  configFields?: boolean;
}

export function registerLintLogs(program: Command, cli: Cli): void {
  program
    .command('lint-logs <dir>')
    .description(
      "find logging calls whose arguments reach PHI (Ward's fields, PHI-named properties, Ward records); exit 1 when any is found",
    )
    .option('--json', 'print the findings as JSON')
    .option('--config-fields', 'require ward.yaml and use its identifier and clinical field names (default: used when it is found)')
    .action(async (dir: string, o: LintLogsOptions) => {
      const root = cli.path(dir);
      if (!existsSync(root) || !statSync(root).isDirectory()) throw new UsageError(`${dir} is not a directory`);
      // Loaded here, not with the program: the TypeScript compiler takes half a second to load,
      // and every other ward command (ward serve's workers too) would pay for it.
      const { LintLogsError, lintLogs, sourceFiles, wardFields } = await import('../compliance/lint-logs.js');
      const { config, fields, publicFields } = configFields(program, cli, o.configFields ?? false, wardFields);
      let files: string[];
      let findings: LogFinding[];
      try {
        files = sourceFiles(root);
        findings = lintLogs(files, { root, fields, publicFields });
      } catch (e) {
        if (e instanceof LintLogsError) throw new UsageError(e.message);
        throw e;
      }
      cli.exitCode = findings.length ? 1 : 0;
      if (o.json) return cli.printJson({ format: 'ward-lint-logs/v1', config, files: files.length, findings });
      for (const f of findings) await cli.write(`${f.file}:${f.line}:${f.column}  ${f.call}  ${f.property}\n`);
      const scanned = `${files.length} file${files.length === 1 ? '' : 's'}`;
      if (!findings.length) await cli.write(`ward lint-logs: no logging call reaches PHI in ${scanned}\n`);
      else {
        const inFiles = new Set(findings.map((f) => f.file)).size;
        await cli.write(`ward lint-logs: ${findings.length} finding${findings.length === 1 ? '' : 's'} in ${inFiles} of ${scanned}\n`);
      }
    });
}

/**
 * Ward's field names, from ward.yaml when there is one. Its absence is no error unless it was
 * named (--config, WARD_CONFIG) or required (--config-fields); a ward.yaml that does not load is.
 */
function configFields(
  program: Command,
  cli: Cli,
  required: boolean,
  wardFields: typeof import('../compliance/lint-logs.js')['wardFields'],
): { config: string | null; fields: Set<string>; publicFields: Set<string> } {
  const file = cli.configFile();
  const named = program.opts<GlobalOptions>().config !== undefined || cli.io.env.WARD_CONFIG !== undefined;
  if (!existsSync(file)) {
    if (required || named)
      throw new UsageError(`${required ? '--config-fields: ' : ''}no ward.yaml at ${file}; pass --config or leave out --config-fields`);
    return { config: null, fields: new Set(), publicFields: new Set() };
  }
  try {
    return { config: file, ...wardFields(cli.config()) };
  } catch (e) {
    // One line: the loader lists every problem on its own line.
    if (isWardError(e)) throw new UsageError(e.message.replace(/:\s*\n\s*/, ': ').replace(/\s*\n\s*/g, '; '));
    throw e;
  }
}
