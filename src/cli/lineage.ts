/**
 * `ward lineage`: the data inventory an auditor asks for. For every field: its sources (sync
 * mappings), class and storage, retention, who may read it and how, the event topics carrying a
 * reference to it, their consumers, and the services they reach with the agreement covering each.
 * Configuration only (no values); agreements are read from the database (audited as baa.list).
 */
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { operatorContext } from '../access/actions.js';
import { compileEvents } from '../events/topics.js';
import { buildLineage, LINEAGE_FORMATS, type LineageFormat, loadAllMappings, renderLineage } from '../sync/lineage.js';
import type { Agreement } from '../vault/baa.js';
import { compileCollections } from '../vault/open.js';
import { type Cli, UsageError } from './run.js';

export function registerLineage(program: Command, cli: Cli): void {
  program
    .command('lineage')
    .description('the data inventory: each field’s sources, storage, readers, event topics and the services they reach (no values)')
    .option('--format <format>', `md, json or html (one self-contained page)`, 'md')
    .option('--out <file>', 'write the document to FILE instead of stdout')
    .option('--no-agreements', 'do not open the database: agreement coverage is left unchecked')
    .action(async (o: { format: string; out?: string; agreements: boolean }) => {
      if (!(LINEAGE_FORMATS as readonly string[]).includes(o.format))
        throw new UsageError(`--format: must be one of ${LINEAGE_FORMATS.join(', ')}`);
      const cfg = cli.config();
      const collections = compileCollections(cfg);
      // The topics as start-up checks them: a lineage of topics Ward would refuse would mislead.
      compileEvents(cfg.events, cfg.space.name, collections, new Set(Object.keys(cfg.roles)), cfg.file);
      // Mapping files before the database: a broken one fails the command naming the file.
      const mappings = loadAllMappings(cfg, collections);
      let agreements: Agreement[] | undefined;
      if (o.agreements) agreements = await cli.withAgreements((a) => a.list(operatorContext()));
      const text = renderLineage(buildLineage(cfg, { mappings, agreements }), o.format as LineageFormat);
      if (o.out === undefined) return cli.write(text);
      writeFileSync(cli.path(o.out), text);
      await cli.write(`lineage (${o.format}) written to ${o.out}\n`);
    });
}
