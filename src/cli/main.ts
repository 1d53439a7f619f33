#!/usr/bin/env node
/** The `ward` executable: runs the command line on the process's own streams. */
import { runCli } from './program.js';
import { processIo } from './run.js';

runCli(process.argv.slice(2), processIo()).then((code) => {
  process.exitCode = code;
});
