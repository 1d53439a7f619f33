// Checks that imports point inward as CONTRIBUTING.md ("Layout and rules") draws them: no
// cycles, nothing imports http/ or cli/, and each layer imports only the layers listed for it
// below. A new top-level folder must be added to the table before it can be used (fail closed),
// and CONTRIBUTING.md's layer table must say the same as this one (checked here too).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import madge from 'madge';

/** Layer → the layers it may import (besides itself). `errors` and `util` are the root of everything. */
const ROOT = ['errors', 'util'];
const ALLOWED = {
  errors: [],
  util: [],
  store: [...ROOT],
  crypto: [...ROOT, 'store'],
  schema: [...ROOT],
  detect: [...ROOT],
  access: [...ROOT, 'schema'],
  config: [...ROOT, 'schema', 'access'],
  audit: [...ROOT, 'store', 'crypto', 'config', 'detect'],
  events: [...ROOT, 'store', 'schema', 'config', 'detect'],
  egress: [...ROOT, 'config', 'detect'],
  compliance: [...ROOT, 'schema', 'config', 'access', 'detect'],
  vault: [...ROOT, 'store', 'crypto', 'schema', 'config', 'access', 'audit', 'events', 'egress', 'detect', 'compliance'],
  sync: [...ROOT, 'store', 'crypto', 'schema', 'config', 'access', 'vault', 'events', 'egress', 'detect'],
  http: [...ROOT, 'vault', 'config', 'schema', 'access', 'audit', 'events', 'detect', 'store', 'crypto', 'sync', 'compliance'],
  index: [...ROOT, 'config', 'vault'],
  cli: [...ROOT, 'vault', 'config', 'schema', 'access', 'audit', 'events', 'detect', 'store', 'crypto', 'http', 'sync', 'compliance'],
};
const PAGE = 'CONTRIBUTING.md, "Layout and rules"';

const layerOf = (file) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : file.replace(/\.ts$/, ''));

const graph = await madge('src', {
  fileExtensions: ['ts'],
  tsConfig: 'tsconfig.json',
  excludeRegExp: [/\.test\.ts$/],
});
const problems = [];
for (const cycle of graph.circular()) problems.push(`import cycle: ${cycle.join(' -> ')}`);
for (const [file, deps] of Object.entries(graph.obj())) {
  const from = layerOf(file);
  const allowed = ALLOWED[from];
  if (!allowed) {
    problems.push(`${file}: layer '${from}' is not in scripts/check-imports.mjs; add it with the layers it may import`);
    continue;
  }
  for (const dep of deps) {
    const to = layerOf(dep);
    if (to !== from && !allowed.includes(to)) problems.push(`src/${file} imports src/${dep}: '${from}' may not import '${to}'`);
  }
}
if (graph.warnings().skipped.length) problems.push(`unresolved imports: ${graph.warnings().skipped.join(', ')}`);

// Only src/egress/ opens outbound connections: elsewhere no undici, node:https or node:tls, no
// global fetch, and from node:http and node:net only what serves or inspects (a server,
// address checks, status texts, types), never a client, a socket or an agent.
const SERVER_SIDE = new Set(['createServer', 'isIP', 'isIPv4', 'isIPv6', 'BlockList', 'STATUS_CODES']);
const sources = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
for (const file of sources('src')) {
  if (file.startsWith(join('src', 'egress'))) continue;
  const code = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/(^|[^:])\/\/.*$/gm, '$1');
  const MODULES = '(undici|(?:node:)?(?:https|http2|tls|http|net|dgram))';
  for (const m of code.matchAll(new RegExp(`import\\s+(type\\s+)?([^;]*?)\\s+from\\s+['"]${MODULES}['"]`, 'g'))) {
    const [, isType, what, raw] = m;
    if (isType) continue;
    const mod = raw === 'undici' || raw.startsWith('node:') ? raw : `node:${raw}`;
    if (mod !== 'node:http' && mod !== 'node:net') {
      problems.push(`${file} imports ${mod}: only src/egress/ opens outbound connections`);
      continue;
    }
    const named = /^\{([^}]*)\}$/.exec(what.trim());
    const names = named
      ? named[1]
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean)
      : null;
    const outbound =
      names === null ? ['(the whole module)'] : names.filter((n) => !n.startsWith('type ') && !SERVER_SIDE.has(n.split(/\s+as\s+/)[0]));
    if (outbound.length) problems.push(`${file} imports ${outbound.join(', ')} from ${mod}: only src/egress/ opens outbound connections`);
  }
  if (/(^|[^.\w])fetch\s*\(|globalThis\s*\.\s*fetch\b/m.test(code))
    problems.push(`${file} calls fetch: only src/egress/ opens outbound connections`);
  if (new RegExp(`import\\s*\\(\\s*['"]${MODULES}['"]`).test(code) || new RegExp(`require\\s*\\(\\s*['"]${MODULES}['"]`).test(code))
    problems.push(`${file} loads a networking module dynamically: only src/egress/ opens outbound connections`);
}

// CONTRIBUTING.md's table: one row per layer, `| \`layer\` | \`a\`, \`b\` |` (or "nothing").
const page = readFileSync(new URL('../CONTRIBUTING.md', import.meta.url), 'utf8');
const documented = new Map();
for (const m of page.matchAll(/^\| `([a-z]+)` \| (.*) \|$/gm))
  documented.set(m[1], m[2] === 'nothing' ? [] : [...m[2].matchAll(/`([a-z]+)`/g)].map((x) => x[1]));
const same = (a, b) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
for (const [layer, allowed] of Object.entries(ALLOWED)) {
  const doc = documented.get(layer);
  if (!doc) problems.push(`${PAGE}: the layer table has no row for '${layer}'`);
  else if (!same(doc, allowed))
    problems.push(
      `${PAGE}: the row for '${layer}' says ${doc.join(', ') || 'nothing'}; this checker allows ${allowed.join(', ') || 'nothing'}`,
    );
}
for (const layer of documented.keys())
  if (!(layer in ALLOWED)) problems.push(`${PAGE}: the layer table names '${layer}', which this checker does not know`);

if (problems.length) {
  console.error(`Import rules broken (see ${PAGE}):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`imports ok: ${Object.keys(graph.obj()).length} modules, no cycles, all pointing inward, as ${PAGE} says`);
