// Checks that imports point inward as DESIGN.md draws them: no cycles, nothing imports http/
// or cli/, and each layer imports only the layers listed for it below. A new top-level folder
// must be added to the table before it can be used (fail closed).
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
  vault: [...ROOT, 'store', 'crypto', 'schema', 'config', 'access', 'audit', 'events', 'detect'],
  http: [...ROOT, 'vault', 'config', 'schema', 'access', 'audit', 'events', 'detect', 'store', 'crypto'],
  index: [...ROOT, 'config', 'vault'],
  cli: [...ROOT, 'vault', 'config', 'schema', 'access', 'audit', 'events', 'detect', 'store', 'crypto', 'http'],
};

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
if (problems.length) {
  console.error(`Import rules broken (see DESIGN.md, Architecture):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`imports ok: ${Object.keys(graph.obj()).length} modules, no cycles, all pointing inward`);
