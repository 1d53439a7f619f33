/**
 * bench/detect-results.json and bench/RESULTS-detect.md: the evaluation (npm run eval:detect)
 * and the speed figures (bench/detect.mjs) each update their part of the JSON; the markdown is
 * re-rendered from the whole of it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const STRUCTURED = ['SSN', 'PHONE', 'EMAIL', 'URL', 'IP', 'MRN', 'HEALTH_PLAN', 'ACCOUNT', 'LICENSE', 'VEHICLE', 'DEVICE', 'CARD'];
export const SOFT = ['NAME', 'ADDRESS', 'LOCATION', 'FACILITY', 'ZIP', 'DATE', 'AGE'];

const BENCH = join(import.meta.dirname, '../../bench');
const JSON_FILE = join(BENCH, 'detect-results.json');
const MD_FILE = join(BENCH, 'RESULTS-detect.md');

const f = (x, d = 2) => (x === null || x === undefined ? '–' : x.toFixed(d));
/** A markdown table with padded columns, as Biome's formatter lays it out (numbers right-aligned). */
function table(header, rows) {
  const cells = rows.map((r) => r.map(String));
  const right = header.map((_, i) => i > 0 && cells.every((r) => /^[\d.,–≥≤ ()%/*a-z]*$/.test(r[i]) && /\d|–/.test(r[i])));
  const width = header.map((h, i) => Math.max(3, h.length, ...cells.map((r) => r[i].length)));
  const pad = (text, i) => (right[i] ? text.padStart(width[i]) : text.padEnd(width[i]));
  const rule = width.map((w, i) => (right[i] ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w)));
  const line = (r) => `| ${r.join(' | ')} |`;
  return [line(header.map(pad)), line(rule), ...cells.map((r) => line(r.map(pad)))].join('\n');
}

function typeTable(split) {
  const types = [...new Set([...Object.keys(split.ward.types), ...Object.keys(split.redactPii.types)])].sort();
  const rows = types.map((t) => {
    const w = split.ward.types[t];
    const r = split.redactPii.types[t];
    return [t, w?.gold ?? r?.gold ?? 0, f(w?.precision), f(w?.recall), f(w?.f1), f(r?.precision), f(r?.recall), f(r?.f1)];
  });
  return table(['type', 'gold spans', 'Ward P', 'Ward R', 'Ward F1', 'redact-pii P', 'redact-pii R', 'redact-pii F1'], rows);
}

function summary(splits, targets) {
  const rows = [];
  for (const [name, s] of Object.entries(splits)) {
    if (!s.ward) continue;
    for (const [who, x] of [
      ['Ward', s.ward],
      ['redact-pii', s.redactPii],
    ]) {
      rows.push([
        name,
        who,
        f(x.recallStructured),
        f(x.recallSoft),
        f(x.precision),
        `${x.cleanAltered}/${x.cleanLines} (${f(100 * x.cleanAlteredRate, 1)}%)`,
      ]);
    }
  }
  const header = [
    'split',
    'detector',
    `recall, structured (≥ ${targets.recallStructured})`,
    `recall, names/places/dates (≥ ${targets.recallSoft})`,
    `precision (≥ ${targets.precision})`,
    `PHI-free lines altered (≤ ${100 * targets.cleanAlteredRate}%)`,
  ];
  return table(header, rows);
}

export function evalMarkdown(e) {
  const { splits, targets } = e;
  return `## Detection quality (\`npm run eval:detect\`, ${e.date})

Labeled set: test/fixtures/detect/, synthetic notes, letters, queries and log lines:
${splits.all.lines} lines with ${splits.all.spans} PHI spans; ${splits.all.ward.cleanLines} of the lines are PHI-free, most of them look-alikes
(doses, ICD codes, lab values, versions, log timestamps). \`dev\` (${splits.dev.lines} lines) was used
while building the detectors; \`holdout\` (${splits.holdout.lines} lines) was written at the same time and
only ever scored as a whole. Both detectors run in the same process on the same lines. A gold
span is found when predicted spans cover all its letters and digits (filler words aside); a
prediction is correct when it overlaps a gold span of any type. Recall is per gold type,
precision per predicted type. Structured: ${STRUCTURED.join(' ')}. Names, places and
dates: ${SOFT.join(' ')}. redact-pii 3.x runs with its defaults (\`SyncRedactor\`: offline
regexes and name list); its spans are recovered by aligning its output with the input.

${summary(splits, targets)}

\`all\` is dev and holdout together; the targets apply to them. \`stress\` (${splits.stress.lines} lines, ${splits.stress.spans} spans) was written
after the detectors, on purpose to find their limits (HL7 segments, CSV rows, lower and upper
case, non-ASCII and hyphenated names, foreign formats, obfuscated e-mail); no target applies.

### Per type, holdout

${typeTable(splits.holdout)}

### Per type, dev

${typeTable(splits.dev)}

### Per type, dev and holdout together

${typeTable(splits.all)}

### Per type, stress

${typeTable(splits.stress)}
${e.devset ? `\n${devsetMarkdown(e.devset)}` : ''}${e.seconds ? `\nThe whole evaluation took ${e.seconds.toFixed(1)} s.\n` : ''}`;
}

const pct = (x) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);
const DETECTORS = [
  ['Ward', 'ward'],
  ['redact-pii', 'redactPii'],
];

function outsideTable(devset) {
  const rows = [];
  for (const split of ['apart', 'tune'])
    for (const o of devset[split].outside)
      for (const [who, k] of DETECTORS) {
        const x = o[k];
        const guard = o.guard ? `${pct(x[o.guard])} (≤ ${pct(o.max)})` : '–';
        rows.push([split, o.name, o.styles.join(' + '), who, o.texts, o.spans, `${f(x[o.metric])} (≥ ${o.min})`, guard]);
      }
  return table(
    ['split', 'outside corpus analogue', 'styles', 'detector', 'texts', 'gold spans', 'recall (target)', 'false alarms (target)'],
    rows,
  );
}

function styleTable(split) {
  const rows = [];
  for (const [style, s] of [['generated, all styles', split.generated], ...Object.entries(split.byStyle)])
    for (const [who, k] of DETECTORS) {
      const x = s[k];
      rows.push([
        style,
        who,
        s.texts,
        s.spans,
        f(x.recall),
        f(x.recallPersonPlace),
        f(x.precision),
        `${x.cleanAltered}/${x.cleanTexts} (${pct(x.cleanAlteredRate)})`,
        pct(x.nonPhiAlteredRate),
      ]);
    }
  return table(
    [
      'style',
      'detector',
      'texts',
      'gold spans',
      'recall',
      'recall NAME+LOCATION',
      'precision',
      'PHI-free texts altered',
      'non-PHI chars altered',
    ],
    rows,
  );
}

function devsetTypeTable(s) {
  const types = [...new Set([...Object.keys(s.ward.types), ...Object.keys(s.redactPii.types)])].sort();
  const rows = types.map((t) => {
    const w = s.ward.types[t];
    const r = s.redactPii.types[t];
    return [t, w?.gold ?? r?.gold ?? 0, f(w?.recall), f(w?.precision), w?.predicted ?? 0, f(r?.recall), f(r?.precision), r?.predicted ?? 0];
  });
  return table(['type', 'gold spans', 'Ward R', 'Ward P', 'Ward predicted', 'redact-pii R', 'redact-pii P', 'redact-pii predicted'], rows);
}

/** The development set's part of RESULTS-detect.md. */
export function devsetMarkdown(d) {
  return `## Development set (test/fixtures/detect/devset/, \`npm run devset\`)

Generated texts in ${Object.keys(d.apart.byStyle).length - 1} styles and the locales ${d.apart.locales.filter((l) => l !== 'en').join(', ')}, plus WNUT-17 posts
(style \`social\`; train in tune, dev in apart). \`tune\` is for tuning (\`node test/detect/eval.mjs --misses\`
prints its misses); \`apart\` uses other templates and other values (reserved names and cities, see
scripts/devset/partition.mjs) and is scored only as a whole. Recall: a gold span is found when
predictions cover all its letters and digits. Precision: a prediction is correct when it overlaps a
gold span; predictions on WNUT's OTHER spans (groups, companies, products, works) are not counted.
Non-PHI chars altered: letters and digits outside gold and OTHER spans that predictions cover.

### Outside targets and their analogues in the devset

${outsideTable(d)}

### apart, per style

${styleTable(d.apart)}

### tune, per style

${styleTable(d.tune)}

### apart, generated texts, per type

${devsetTypeTable(d.apart.generated)}

### tune, generated texts, per type

${devsetTypeTable(d.tune.generated)}
`;
}

export function speedMarkdown(s) {
  const rows = s.results.map((r) => [
    r.name,
    r.value,
    r.baseline ?? '–',
    r.ratio === undefined ? '–' : f(r.ratio),
    r.target,
    r.pass ? 'yes' : '**no**',
  ]);
  return `## Speed (\`node bench/detect.mjs\`, part of \`npm run bench\`, ${s.date})

Machine: ${s.machine}. ${s.method}

${table(['measurement', 'value', 'baseline', 'ratio', 'target', 'pass'], rows)}
`;
}

/** Merges `part` into bench/detect-results.json and re-renders bench/RESULTS-detect.md; returns the part's markdown. */
export function writeResults(part) {
  const all = existsSync(JSON_FILE) ? JSON.parse(readFileSync(JSON_FILE, 'utf8')) : {};
  Object.assign(all, part);
  writeFileSync(JSON_FILE, `${JSON.stringify(all, null, 2)}\n`);
  const md = ['# PHI detection: quality and speed\n', all.eval ? evalMarkdown(all.eval) : '', all.speed ? speedMarkdown(all.speed) : '']
    .filter(Boolean)
    .join('\n');
  writeFileSync(MD_FILE, md);
  return part.eval ? evalMarkdown(part.eval) : speedMarkdown(part.speed);
}
