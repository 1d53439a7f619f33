/**
 * Data lineage: for every field of every collection, where its values come from (sync mappings),
 * how it is kept (class, encryption, search, tokens, retention, subject), who may read it and how
 * (full, masked, de-identified; break-glass apart), which event topics carry a reference to it,
 * who consumes those topics, and which outside services they reach with the agreement that covers
 * each. Built from configuration alone (and the agreements the caller read): it never holds a
 * value. Rendered as Markdown, JSON (`LINEAGE_FORMAT`) or one self-contained HTML page.
 *
 * Topics are read as events/topics compiles them (the caller checks them first with
 * `compileEvents`): every event carries the record's id, its version and the names of the fields
 * a change touched; a `public` topic adds values of its public fields; a `refs` topic adds the
 * deterministic tokens of its key fields.
 */
import { deidentified } from '../access/policy.js';
import type { WardConfig } from '../config/load.js';
import type { RuleConfig } from '../config/schema.js';
import { WardError } from '../errors.js';
import type { Collection, Field } from '../schema/collection.js';
import { hostMatches, normalHost } from '../util/hosts.js';
import type { Agreement } from '../vault/baa.js';
import { compileCollections } from '../vault/open.js';
import { loadMappings, type Mapping, type SourceSpec, type Transform } from './mapping.js';

/** The version of the JSON document; a change of its shape gets a new number. */
export const LINEAGE_FORMAT = 'ward-lineage/1';

export const LINEAGE_FORMATS = ['md', 'json', 'html'] as const;
export type LineageFormat = (typeof LINEAGE_FORMATS)[number];

/** What a topic's events hold of a field: its deterministic token, its (public) value, or only the record's id. */
export type Carriage = 'token' | 'value' | 'record_id';

/** An agreement as the lineage names it (never its document). */
export interface AgreementRef {
  id: string;
  name: string;
  scope: 'phi' | 'no-phi';
  status: Agreement['status'];
  expires: string;
}

/** Whether an agreement in force covers a host for PHI; `covered: null` when agreements were not read. */
export interface Coverage {
  covered: boolean | null;
  /** The agreement in force covering the host for PHI, if any. */
  agreement: AgreementRef | null;
  /** Agreements naming the host that do not cover it: expired, revoked, or for no-phi only. */
  notCovering: AgreementRef[];
}

/** An outside service data reaches or comes from: a webhook, the event broker, a sync source. */
export interface LineageService extends Coverage {
  kind: 'webhook' | 'broker' | 'sync-source';
  /** The webhook's name, `nats` for the broker, the mapping's name for a source. */
  name: string;
  host: string;
  /** The topics it receives (webhook: its one topic; broker: every topic). */
  topics: string[];
  /** For a sync source: the mapping file. */
  file?: string;
}

export interface LineageSource {
  file: string;
  /** The mapping's object name. */
  mapping: string;
  sourceField: string;
  /** `object_name.sourceField`. */
  ref: string;
  transform: Transform;
  mask: string | null;
  freeText: boolean;
  purpose: string;
  /** The role the sync's writes are held to. */
  role: string;
  /** The source field is the mapping's upsert key (the external id). */
  upsertKey: boolean;
  source: LineageMappingSource;
}

export interface LineageAccess {
  role: string;
  /** Where the rule is in ward.yaml: `roles.<role>.allow[i]` or `roles.<role>.break_glass.allow[i]`. */
  rule: string;
  breakGlass: boolean;
  actions: string[];
  /** full: the value; masked: through `mask`; deidentified: kept in a Safe Harbor view (`mask` when reduced, e.g. year). */
  view: 'full' | 'masked' | 'deidentified';
  mask: string | null;
  purposes: string[];
}

export interface LineageConsumer {
  name: string;
  role: string;
}

export interface LineageTopicRef {
  topic: string;
  sensitivity: string;
  carries: Carriage;
  actions: string[];
  consumers: LineageConsumer[];
  webhooks: string[];
  /** Relayed to the broker (events.broker is configured). */
  broker: boolean;
}

export interface LineageField {
  name: string;
  type: string;
  class: 'identifier' | 'clinical' | 'public';
  description: string | null;
  required: boolean;
  encrypted: boolean;
  searchable: boolean;
  unique: boolean;
  token: 'random' | 'deterministic' | null;
  /** The field's declared mask (what masked views use by default). */
  mask: string | null;
  /** The collection's subject field (records sealed under a per-subject key). */
  subject: boolean;
  sources: LineageSource[];
  /** Rules of `allow` granting the field. */
  access: LineageAccess[];
  /** Rules of `break_glass.allow` granting the field (only for a declared emergency use). */
  breakGlass: LineageAccess[];
  events: LineageTopicRef[];
  /** Services the topics in `events` reach, each with its coverage. */
  services: LineageService[];
}

export interface LineageCollection {
  name: string;
  description: string | null;
  retention: string | null;
  retentionDays: number | null;
  subject: string | null;
  fields: LineageField[];
}

export type LineageMappingSource =
  | { kind: 'salesforce'; instanceUrl: string; loginUrl: string }
  | { kind: 'postgres'; table: string; urlEnv: string }
  | { kind: 'csv' | 'ndjson'; file: string };

export interface LineageMapping {
  file: string;
  name: string;
  collection: string;
  purpose: string;
  role: string;
  upsertField: string;
  source: LineageMappingSource;
  fields: { source: string; to: string | null; transform: Transform; mask: string | null; freeText: boolean }[];
  /** Source fields read but never flowing into Ward (dropped). */
  notFlowing: string[];
}

export interface LineageTopic {
  name: string;
  description: string | null;
  sensitivity: string;
  collections: string[];
  actions: string[];
  keys: string[];
  public: string[];
  retention: string;
  compact: boolean;
  consumers: LineageConsumer[];
  webhooks: { name: string; host: string }[];
  broker: boolean;
}

export interface LineageRole {
  name: string;
  description: string | null;
  audit: boolean;
  admin: boolean;
  breakGlass: { window: string; maxUnreviewed: number } | null;
}

export interface Lineage {
  format: typeof LINEAGE_FORMAT;
  generatedAt: string;
  config: string;
  space: { name: string; tier: string };
  /** Whether agreements were read (coverage is null everywhere when not). */
  agreementsChecked: boolean;
  collections: LineageCollection[];
  mappings: LineageMapping[];
  topics: LineageTopic[];
  services: LineageService[];
  roles: LineageRole[];
  notes: string[];
}

export interface LineageOptions {
  /** The agreements recorded (`Agreements.list`); without them coverage is not checked. */
  agreements?: readonly Agreement[] | undefined;
  /** The mappings, already loaded; by default every file of `cfg.syncMappings` (see `loadAllMappings`). */
  mappings?: readonly Mapping[] | undefined;
  now?: Date | undefined;
}

export const LINEAGE_NOTES = [
  'Configuration only: this document holds no values.',
  'Every event of a topic over a collection carries the record id, its version and the names of the fields a change touched; ' +
    'a public topic adds values of its public fields; a refs topic adds deterministic tokens of its key fields.',
  'The operator (the ward command line, holding the master key) may read every field; its operations are audited.',
  'Services need a Business Associate Agreement in force with scope phi for their host; egress refuses them otherwise.',
];

/**
 * Loads every mapping file of the configuration. A file that fails is an error naming it; all
 * failing files are reported at once.
 */
export function loadAllMappings(cfg: WardConfig, collections: ReadonlyMap<string, Collection> = compileCollections(cfg)): Mapping[] {
  const out: Mapping[] = [];
  const problems: string[] = [];
  for (const file of cfg.syncMappings) {
    try {
      out.push(...loadMappings(file, cfg, collections));
    } catch (e) {
      problems.push(e instanceof WardError ? e.message : `${file}: cannot load the mapping file`);
    }
  }
  if (problems.length) throw new WardError('config_invalid', `sync mapping file(s) failed to load:\n${problems.join('\n')}`);
  return out;
}

const ref = (a: Agreement): AgreementRef => ({ id: a.id, name: a.name, scope: a.scope, status: a.status, expires: a.expires });

/** Coverage of `host` for PHI as egress decides it (see vault/baa `covering`). */
export function coverage(host: string, agreements: readonly Agreement[] | undefined): Coverage {
  if (!agreements) return { covered: null, agreement: null, notCovering: [] };
  const h = normalHost(host);
  const naming = h ? agreements.filter((a) => a.hosts.some((p) => hostMatches(p, h))) : [];
  const inForce = (a: Agreement) => (a.status === 'active' || a.status === 'expiring') && a.scope === 'phi';
  const covering = naming.find(inForce);
  return {
    covered: covering !== undefined,
    agreement: covering ? ref(covering) : null,
    notCovering: naming.filter((a) => !inForce(a)).map(ref),
  };
}

function hostOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return normalHost(u.hostname) ?? (u.hostname || undefined);
  } catch {
    return undefined;
  }
}

/** The hosts of `events.broker.nats.url` (comma-separated servers, nats:// or tls://). */
function brokerHosts(url: string): string[] {
  const hosts = url
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((raw) => hostOf(raw.includes('://') ? raw : `nats://${raw}`)?.replace(/^\[|\]$/g, ''))
    .filter((h): h is string => !!h);
  return [...new Set(hosts)];
}

function mappingSource(s: SourceSpec): LineageMappingSource {
  switch (s.kind) {
    case 'salesforce':
      return { kind: 'salesforce', instanceUrl: s.instanceUrl, loginUrl: s.loginUrl };
    case 'postgres':
      return { kind: 'postgres', table: s.table, urlEnv: s.urlEnv };
    default:
      return { kind: s.kind, file: s.file };
  }
}

function sourceHosts(s: SourceSpec): string[] {
  if (s.kind !== 'salesforce') return [];
  return [...new Set([hostOf(s.instanceUrl), hostOf(s.loginUrl)].filter((h): h is string => !!h))];
}

const sensitivityOf = (topic: string) => topic.split('.')[2] ?? '';

function accessOf(role: string, rules: readonly RuleConfig[], at: string, c: Collection, f: Field, breakGlass: boolean): LineageAccess[] {
  const out: LineageAccess[] = [];
  rules.forEach((rule, i) => {
    if (!rule.collections.includes(c.name)) return;
    if (rule.fields !== '*' && !rule.fields.includes(f.name)) return;
    const base = { role, rule: `roles.${role}.${at}[${i}]`, breakGlass, actions: [...rule.actions], purposes: [...rule.purposes] };
    if (rule.view === 'deidentified') {
      const v = deidentified(f);
      if (v) out.push({ ...base, view: 'deidentified', mask: v.kind === 'mask' ? v.mask : null });
      return;
    }
    const mask = rule.masks?.[f.name];
    out.push({ ...base, view: mask ? 'masked' : 'full', mask: mask ?? null });
  });
  return out;
}

/** The lineage of every field of the configuration (see the module's comment). */
export function buildLineage(cfg: WardConfig, o: LineageOptions = {}): Lineage {
  const collections = compileCollections(cfg);
  const mappings = o.mappings ?? loadAllMappings(cfg, collections);
  const agreements = o.agreements;
  const ev = cfg.events;
  const nats = ev.broker.nats;
  const broker = nats !== undefined;

  const consumersOf = (topic: string): LineageConsumer[] =>
    ev.consumers.filter((c) => c.topics.includes(topic)).map((c) => ({ name: c.name, role: c.role }));

  const services: LineageService[] = [];
  for (const w of ev.webhooks) {
    const host = hostOf(w.url) ?? '';
    services.push({ kind: 'webhook', name: w.name, host, topics: [w.topic], ...coverage(host, agreements) });
  }
  if (nats)
    for (const host of brokerHosts(nats.url))
      services.push({ kind: 'broker', name: 'nats', host, topics: ev.topics.map((t) => t.name), ...coverage(host, agreements) });
  for (const m of mappings)
    for (const host of sourceHosts(m.source))
      services.push({ kind: 'sync-source', name: m.name, host, topics: [], file: m.file, ...coverage(host, agreements) });

  const topics: LineageTopic[] = ev.topics.map((t) => ({
    name: t.name,
    description: t.description ?? null,
    sensitivity: sensitivityOf(t.name),
    collections: [...t.collections],
    actions: [...t.actions],
    keys: [...t.keys],
    public: [...t.public],
    retention: t.retention,
    compact: t.compact,
    consumers: consumersOf(t.name),
    webhooks: ev.webhooks.filter((w) => w.topic === t.name).map((w) => ({ name: w.name, host: hostOf(w.url) ?? '' })),
    broker,
  }));

  const lineageMappings: LineageMapping[] = mappings.map((m) => ({
    file: m.file,
    name: m.name,
    collection: m.collection,
    purpose: m.purpose,
    role: m.role,
    upsertField: m.upsertField,
    source: mappingSource(m.source),
    fields: m.fields.map((f) => ({
      source: f.source,
      to: f.to ?? null,
      transform: f.transform,
      mask: f.mask ?? null,
      freeText: f.freeText,
    })),
    notFlowing: m.fields.filter((f) => f.to === undefined).map((f) => f.source),
  }));

  const lineageCollections: LineageCollection[] = [...collections.values()].map((c) => {
    const spec = cfg.collections[c.name];
    const fields = [...c.fields.values()].map((f): LineageField => {
      const sources: LineageSource[] = mappings
        .filter((m) => m.collection === c.name)
        .flatMap((m) =>
          m.fields
            .filter((fm) => fm.to === f.name)
            .map((fm) => ({
              file: m.file,
              mapping: m.name,
              sourceField: fm.source,
              ref: `${m.name}.${fm.source}`,
              transform: fm.transform,
              mask: fm.transform === 'mask' ? (fm.mask ?? null) : null,
              freeText: fm.freeText,
              purpose: m.purpose,
              role: m.role,
              upsertKey: fm.source === m.upsertField,
              source: mappingSource(m.source),
            })),
        );
      const access: LineageAccess[] = [];
      const breakGlass: LineageAccess[] = [];
      for (const [role, r] of Object.entries(cfg.roles)) {
        access.push(...accessOf(role, r.allow, 'allow', c, f, false));
        if (r.break_glass) breakGlass.push(...accessOf(role, r.break_glass.allow, 'break_glass.allow', c, f, true));
      }
      const events: LineageTopicRef[] = ev.topics
        .filter((t) => t.collections.includes(c.name))
        .map((t) => ({
          topic: t.name,
          sensitivity: sensitivityOf(t.name),
          carries: t.keys.includes(f.name) ? 'token' : t.public.includes(f.name) ? 'value' : 'record_id',
          actions: [...t.actions],
          consumers: consumersOf(t.name),
          webhooks: ev.webhooks.filter((w) => w.topic === t.name).map((w) => w.name),
          broker,
        }));
      const carrying = new Set(events.map((e) => e.topic));
      const reached = services
        .filter((s) => s.kind !== 'sync-source' && s.topics.some((t) => carrying.has(t)))
        .map((s) => ({ ...s, topics: s.topics.filter((t) => carrying.has(t)) }));
      return {
        name: f.name,
        type: f.typeName,
        class: f.class,
        description: spec?.fields[f.name]?.description ?? null,
        required: f.required,
        encrypted: f.encrypted,
        searchable: f.searchable,
        unique: f.unique,
        token: f.token ?? null,
        mask: f.mask ?? null,
        subject: c.subject?.name === f.name,
        sources,
        access,
        breakGlass,
        events,
        services: reached,
      };
    });
    return {
      name: c.name,
      description: spec?.description ?? null,
      retention: spec?.retention ?? null,
      retentionDays: c.retentionDays ?? null,
      subject: c.subject?.name ?? null,
      fields,
    };
  });

  const roles: LineageRole[] = Object.entries(cfg.roles).map(([name, r]) => ({
    name,
    description: r.description ?? null,
    audit: r.audit === true,
    admin: r.admin === true,
    breakGlass: r.break_glass ? { window: r.break_glass.window, maxUnreviewed: r.break_glass.max_unreviewed } : null,
  }));

  return {
    format: LINEAGE_FORMAT,
    generatedAt: (o.now ?? new Date()).toISOString(),
    config: cfg.file,
    space: { name: cfg.space.name, tier: cfg.space.tier },
    agreementsChecked: agreements !== undefined,
    collections: lineageCollections,
    mappings: lineageMappings,
    topics,
    services,
    roles,
    notes: [...LINEAGE_NOTES],
  };
}

// ---------------------------------------------------------------------------------------------
// Text shared by Markdown and HTML: each fact phrased once, so both documents say the same.

function describeSource(s: LineageMappingSource): string {
  switch (s.kind) {
    case 'salesforce':
      return `salesforce ${s.instanceUrl}`;
    case 'postgres':
      return `postgres table ${s.table} (connection URL in $${s.urlEnv})`;
    default:
      return `${s.kind} file ${s.file}`;
  }
}

const transformText = (s: { transform: string; mask: string | null }) => (s.mask ? `${s.transform} ${s.mask}` : s.transform);

const sourceText = (s: LineageSource) =>
  `${s.ref} (${transformText(s)}${s.upsertKey ? ', upsert key' : ''}${s.freeText ? ', free text scanned' : ''}; ` +
  `purpose ${s.purpose}; as role ${s.role}; from ${describeSource(s.source)}; file ${s.file})`;

function viewText(a: LineageAccess): string {
  if (a.view === 'masked') return `masked (${a.mask})`;
  if (a.view === 'deidentified') return a.mask ? `de-identified (as ${a.mask})` : 'de-identified (kept)';
  return 'full';
}

const accessText = (a: LineageAccess) => `${a.role}: ${viewText(a)} for ${a.purposes.join(', ')}; actions ${a.actions.join(', ')}`;

const carriesText = (c: Carriage) => (c === 'token' ? 'deterministic token' : c === 'value' ? 'public value' : 'record id');

const consumersText = (cs: readonly LineageConsumer[]) => (cs.length ? cs.map((c) => `${c.name} (role ${c.role})`).join(', ') : 'none');

const topicRefText = (e: LineageTopicRef) =>
  `${e.topic} (${carriesText(e.carries)}); consumers: ${consumersText(e.consumers)}` +
  `${e.webhooks.length ? `; webhooks: ${e.webhooks.join(', ')}` : ''}${e.broker ? '; broker' : ''}`;

function coverageText(s: Coverage): string {
  const others = s.notCovering.length
    ? `; not covering: ${s.notCovering.map((a) => `${a.name} (${a.scope}, ${a.status})`).join(', ')}`
    : '';
  if (s.covered === null) return 'agreements not checked';
  if (s.agreement) return `covered by ${s.agreement.name} (${s.agreement.status}, expires ${s.agreement.expires})${others}`;
  return `NOT COVERED: no agreement in force for PHI${others}`;
}

const serviceText = (s: LineageService) => `${s.host} (${s.kind} ${s.name}): ${coverageText(s)}`;

function storageText(f: LineageField): string[] {
  const out = [f.encrypted ? 'encrypted' : 'plain (public)'];
  if (f.required) out.push('required');
  if (f.subject) out.push('subject key');
  return out;
}

function indexText(f: LineageField): string[] {
  const out: string[] = [];
  if (f.searchable) out.push('search: exact');
  if (f.unique) out.push('unique');
  if (f.token) out.push(`token: ${f.token}`);
  if (f.mask) out.push(`mask: ${f.mask}`);
  return out;
}

const retentionText = (c: LineageCollection) =>
  c.retention ? `${c.retention} (${c.retentionDays} days after creation)` : 'none (kept until deleted)';

const FIELD_HEAD = [
  'Field',
  'Class',
  'Stored',
  'Search, unique, token, mask',
  'Sources',
  'Access',
  'Break-glass access',
  'Event topics',
  'Services reached',
];
const TOPIC_HEAD = [
  'Topic',
  'Sensitivity',
  'Collections',
  'Actions',
  'Tokens of',
  'Public values of',
  'Retention',
  'Consumers',
  'Webhooks',
  'Broker',
];
const SERVICE_HEAD = ['Host', 'Kind', 'Name', 'Topics', 'Agreement'];
const MAPPING_HEAD = ['Mapping', 'File', 'Collection', 'Purpose', 'Role', 'Source', 'Fields', 'Not flowing'];
const ROLE_HEAD = ['Role', 'Description', 'Audit trail', 'API keys', 'Break-glass'];

const agreementsLine = (l: Lineage) =>
  l.agreementsChecked ? 'Agreements: checked against the agreements recorded.' : 'Agreements: not checked (coverage unknown).';

// ---------------------------------------------------------------------------------------------
// Markdown

/** Text safe in a Markdown table cell: no HTML, no table breaks, no emphasis or links. */
function md(text: string): string {
  return text
    .replace(/[\\`*[\]]/g, (ch) => `\\${ch}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n|\r/g, ' ');
}

const mdList = (items: readonly string[], empty = 'none') => (items.length ? items.map(md).join('<br>') : empty);

function mdTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export function renderMarkdown(l: Lineage): string {
  const out: string[] = [];
  out.push(`# Data lineage: space ${md(l.space.name)} (${md(l.space.tier)})`, '');
  out.push(`Generated ${md(l.generatedAt)} from ${md(l.config)}. ${agreementsLine(l)}`, '');
  for (const c of l.collections) {
    out.push(`## Collection ${md(c.name)}`, '');
    if (c.description) out.push(md(c.description), '');
    out.push(`- Retention: ${md(retentionText(c))}`, `- Subject field: ${c.subject ? md(c.subject) : 'none'}`, '');
    out.push(
      mdTable(
        FIELD_HEAD,
        c.fields.map((f) => [
          `${md(f.name)} (${md(f.type)})${f.description ? `<br>${md(f.description)}` : ''}`,
          md(f.class),
          mdList(storageText(f)),
          mdList(indexText(f)),
          mdList(f.sources.map(sourceText)),
          mdList(f.access.map(accessText)),
          mdList(f.breakGlass.map(accessText)),
          mdList(f.events.map(topicRefText)),
          mdList(f.services.map(serviceText)),
        ]),
      ),
      '',
    );
  }
  out.push('## Event topics', '');
  out.push(
    l.topics.length
      ? mdTable(
          TOPIC_HEAD,
          l.topics.map((t) => [
            `${md(t.name)}${t.description ? `<br>${md(t.description)}` : ''}`,
            md(t.sensitivity),
            mdList(t.collections),
            mdList(t.actions),
            mdList(t.keys),
            mdList(t.public),
            `${md(t.retention)}${t.compact ? ' (compacted)' : ''}`,
            md(consumersText(t.consumers)),
            mdList(t.webhooks.map((w) => `${w.name} (${w.host})`)),
            t.broker ? 'yes' : 'no',
          ]),
        )
      : 'No topics are declared.',
    '',
  );
  out.push('## Services reached', '');
  out.push(
    l.services.length
      ? mdTable(
          SERVICE_HEAD,
          l.services.map((s) => [
            md(s.host),
            md(s.kind),
            md(s.file ? `${s.name} (${s.file})` : s.name),
            mdList(s.topics),
            md(coverageText(s)),
          ]),
        )
      : 'No outside services are configured.',
    '',
  );
  out.push('## Sync mappings', '');
  out.push(
    l.mappings.length
      ? mdTable(
          MAPPING_HEAD,
          l.mappings.map((m) => [
            md(m.name),
            md(m.file),
            md(m.collection),
            md(m.purpose),
            md(m.role),
            md(describeSource(m.source)),
            mdList(m.fields.filter((f) => f.to).map((f) => `${m.name}.${f.source} → ${m.collection}.${f.to} (${transformText(f)})`)),
            mdList(m.notFlowing),
          ]),
        )
      : 'No sync mappings are configured.',
    '',
  );
  out.push('## Roles', '');
  out.push(
    mdTable(
      ROLE_HEAD,
      l.roles.map((r) => [
        md(r.name),
        md(r.description ?? ''),
        r.audit ? 'reads' : 'no',
        r.admin ? 'manages' : 'no',
        r.breakGlass ? md(`window ${r.breakGlass.window}, at most ${r.breakGlass.maxUnreviewed} unreviewed`) : 'no',
      ]),
    ),
    '',
  );
  out.push('## Notes', '', ...l.notes.map((n) => `- ${md(n)}`), '');
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// HTML: one page, inline CSS, no scripts and nothing fetched; every interpolated string escaped.

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string);
}

const h = escapeHtml;
const hList = (items: readonly string[], empty = 'none') =>
  items.length ? `<ul>${items.map((i) => `<li>${h(i)}</li>`).join('')}</ul>` : `<span class="none">${h(empty)}</span>`;

function hTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return (
    `<table><thead><tr>${head.map((x) => `<th>${h(x)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`
  );
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1b1b;background:#fff}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}th,td{border:1px solid #ccc;padding:.3rem .45rem;vertical-align:top;text-align:left}
th{background:#f2f2f2}td ul{margin:0;padding-left:1rem}.none{color:#777}.warn{color:#a00;font-weight:600}code{font-size:.95em}
@media print{body{margin:0}}`;

export function renderHtml(l: Lineage): string {
  const body: string[] = [];
  body.push(`<h1>Data lineage: space ${h(l.space.name)} (${h(l.space.tier)})</h1>`);
  body.push(`<p>Generated ${h(l.generatedAt)} from <code>${h(l.config)}</code>. ${h(agreementsLine(l))}</p>`);
  const svc = (s: LineageService) => (s.covered === false ? `<span class="warn">${h(serviceText(s))}</span>` : h(serviceText(s)));
  const svcList = (ss: readonly LineageService[]) =>
    ss.length ? `<ul>${ss.map((s) => `<li>${svc(s)}</li>`).join('')}</ul>` : '<span class="none">none</span>';
  for (const c of l.collections) {
    body.push(`<h2 id="collection-${h(c.name)}">Collection ${h(c.name)}</h2>`);
    if (c.description) body.push(`<p>${h(c.description)}</p>`);
    body.push(`<ul><li>Retention: ${h(retentionText(c))}</li><li>Subject field: ${h(c.subject ?? 'none')}</li></ul>`);
    body.push(
      hTable(
        FIELD_HEAD,
        c.fields.map((f) => [
          `<code>${h(f.name)}</code> (${h(f.type)})${f.description ? `<br>${h(f.description)}` : ''}`,
          h(f.class),
          hList(storageText(f)),
          hList(indexText(f)),
          hList(f.sources.map(sourceText)),
          hList(f.access.map(accessText)),
          hList(f.breakGlass.map(accessText)),
          hList(f.events.map(topicRefText)),
          svcList(f.services),
        ]),
      ),
    );
  }
  body.push('<h2>Event topics</h2>');
  body.push(
    l.topics.length
      ? hTable(
          TOPIC_HEAD,
          l.topics.map((t) => [
            `<code>${h(t.name)}</code>${t.description ? `<br>${h(t.description)}` : ''}`,
            h(t.sensitivity),
            hList(t.collections),
            hList(t.actions),
            hList(t.keys),
            hList(t.public),
            `${h(t.retention)}${t.compact ? ' (compacted)' : ''}`,
            h(consumersText(t.consumers)),
            hList(t.webhooks.map((w) => `${w.name} (${w.host})`)),
            t.broker ? 'yes' : 'no',
          ]),
        )
      : '<p>No topics are declared.</p>',
  );
  body.push('<h2>Services reached</h2>');
  body.push(
    l.services.length
      ? hTable(
          SERVICE_HEAD,
          l.services.map((s) => [
            h(s.host),
            h(s.kind),
            h(s.file ? `${s.name} (${s.file})` : s.name),
            hList(s.topics),
            s.covered === false ? `<span class="warn">${h(coverageText(s))}</span>` : h(coverageText(s)),
          ]),
        )
      : '<p>No outside services are configured.</p>',
  );
  body.push('<h2>Sync mappings</h2>');
  body.push(
    l.mappings.length
      ? hTable(
          MAPPING_HEAD,
          l.mappings.map((m) => [
            h(m.name),
            h(m.file),
            h(m.collection),
            h(m.purpose),
            h(m.role),
            h(describeSource(m.source)),
            hList(m.fields.filter((f) => f.to).map((f) => `${m.name}.${f.source} → ${m.collection}.${f.to} (${transformText(f)})`)),
            hList(m.notFlowing),
          ]),
        )
      : '<p>No sync mappings are configured.</p>',
  );
  body.push('<h2>Roles</h2>');
  body.push(
    hTable(
      ROLE_HEAD,
      l.roles.map((r) => [
        h(r.name),
        h(r.description ?? ''),
        r.audit ? 'reads' : 'no',
        r.admin ? 'manages' : 'no',
        r.breakGlass ? h(`window ${r.breakGlass.window}, at most ${r.breakGlass.maxUnreviewed} unreviewed`) : 'no',
      ]),
    ),
  );
  body.push('<h2>Notes</h2>', hList(l.notes));
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    // Nothing on the page may load or run anything: only its own inline style.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>Data lineage: ${h(l.space.name)}</title>` +
    `<style>${CSS}</style></head><body>\n${body.join('\n')}\n</body></html>\n`
  );
}

export function renderLineage(l: Lineage, format: LineageFormat): string {
  if (format === 'json') return `${JSON.stringify(l, null, 2)}\n`;
  if (format === 'html') return renderHtml(l);
  return renderMarkdown(l);
}
