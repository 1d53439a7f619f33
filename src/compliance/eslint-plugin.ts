/**
 * Ward's ESLint 9 plugin (flat config): the rule `ward/no-phi-in-logs` reports logging calls
 * whose arguments reach PHI, exactly as `ward lint-logs` does: it runs the same analysis
 * (lint-logs.ts, over the file's text parsed by the TypeScript compiler, so what ESLint's parser
 * was does not matter) and reports each finding on the ESTree node of the expression that reaches
 * PHI. eslint-disable comments are left to ESLint. Options: `{ fields, publicFields, extraNames }`
 * (Ward's identifier and clinical field names, its public ones, more PHI names).
 *
 *   import ward from 'ward-vault/eslint-plugin';
 *   export default [ward.configs.recommended];
 *   // or: { plugins: { ward }, rules: { 'ward/no-phi-in-logs': ['error', { fields: ['mrn', 'allergy_list'] }] } }
 */
import { createRequire } from 'node:module';
import type { ESLint, Linter, Rule, SourceCode } from 'eslint';
import { analyzeSource, type LogHit } from './lint-logs.js';
import { PhiNames } from './phi-names.js';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export interface NoPhiInLogsOptions {
  fields?: string[];
  publicFields?: string[];
  extraNames?: string[];
}

const names = { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true } as const;

export const noPhiInLogs: Rule.RuleModule = {
  meta: {
    type: 'problem',
    docs: {
      description: "disallow logging calls whose arguments reach PHI: Ward's fields, PHI-named properties, records read from Ward",
      recommended: true,
    },
    schema: [
      {
        type: 'object',
        properties: { fields: names, publicFields: names, extraNames: names },
        additionalProperties: false,
      },
    ],
    messages: {
      phi: '{{call}} logs {{property}}, a PHI name or Ward field: leave it out, or pass it through a masking function (scrub, mask, redact) first',
      record:
        '{{call}} logs {{property}}, read from Ward: log its id instead, or pass it through a masking function (scrub, mask, redact) first',
    },
  },
  create(context) {
    const o = (context.options[0] ?? {}) as NoPhiInLogsOptions;
    const phiNames = new PhiNames({ fields: o.fields, publicFields: o.publicFields, extraNames: o.extraNames });
    return {
      'Program:exit'() {
        const source = context.sourceCode;
        for (const hit of analyzeSource(source.text, context.filename, phiNames)) {
          const data = { call: hit.call, property: hit.property };
          const messageId = hit.kind === 'record' ? 'record' : 'phi';
          const node = nodeOf(source, hit);
          if (node) context.report({ node, messageId, data });
          else context.report({ loc: { start: source.getLocFromIndex(hit.start), end: source.getLocFromIndex(hit.end) }, messageId, data });
        }
      },
    };
  },
};

/** The smallest ESTree node that spans the hit (the expression itself, where the parsers agree). */
function nodeOf(source: SourceCode, hit: LogHit): Rule.Node | undefined {
  let node = source.getNodeByRangeIndex(hit.start) as Rule.Node | null;
  while (node && !(node.range && node.range[0] <= hit.start && node.range[1] >= hit.end)) node = node.parent;
  return node && node.type !== 'Program' ? node : undefined;
}

const plugin: ESLint.Plugin & { meta: { name: string; version: string }; configs: Record<string, Linter.Config> } = {
  meta: { name: 'ward', version: VERSION },
  rules: { 'no-phi-in-logs': noPhiInLogs },
  configs: {},
};

/** `ward.configs.recommended`: the rule on, as an error, with the built-in PHI names only. */
plugin.configs.recommended = { plugins: { ward: plugin }, rules: { 'ward/no-phi-in-logs': 'error' } };

export default plugin;
