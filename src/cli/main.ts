#!/usr/bin/env node
/** The `ward` command line: thin adapters over the same services the HTTP API uses. */
import { Command } from 'commander';
import { registerApiKey } from './apikey.js';
import { registerAudit } from './audit.js';
import { registerDemo } from './demo.js';
import { registerInit } from './init.js';
import { registerKeys } from './keys.js';
import { registerRecords } from './records.js';
import { report } from './run.js';
import { registerScan } from './scan.js';
import { registerServe } from './serve.js';

export function buildProgram(): Command {
  const program = new Command('ward')
    .description('Ward: a self-hosted PHI vault with HIPAA guardrails')
    .option('-c, --config <file>', 'path of ward.yaml (default: $WARD_CONFIG or ./ward.yaml)')
    .showHelpAfterError();
  registerInit(program);
  registerKeys(program);
  registerRecords(program);
  registerServe(program);
  registerApiKey(program);
  registerAudit(program);
  registerDemo(program);
  registerScan(program);
  return program;
}

buildProgram().parseAsync(process.argv).catch(report);
