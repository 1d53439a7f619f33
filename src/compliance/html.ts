/**
 * The evidence report as one self-contained HTML page an auditor can read offline or print:
 * inline CSS only, no scripts, nothing fetched (a Content-Security-Policy that forbids it all),
 * every interpolated string escaped. Statuses carry their name as text beside the colour, so
 * the page reads the same in black and white.
 */
import { CONTROLS, SAFEGUARDS, type Safeguard } from './citations.js';
import type { EvidenceReport, RequirementStatus } from './report.js';
import type { Finding } from './run.js';
import { type AgreementFact, type Evidence, STATUSES } from './types.js';

// The same escaping as src/sync/lineage.ts (compliance may not import sync).
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string);
}
const h = (x: string | number | boolean | null | undefined): string => escapeHtml(x === null || x === undefined ? '' : String(x));

/** A status (or met / not met) as a labelled badge: the word is always there, the colour only helps. */
const badge = (label: string, cls: string): string => `<span class="badge b-${h(cls)}">${h(label)}</span>`;
const none = (text = 'none') => `<span class="none">${h(text)}</span>`;
const pct = (score: number): string => `${Math.round(score * 1000) / 10}%`;

function table(head: readonly string[], rows: readonly (readonly string[])[], cls = ''): string {
  return (
    `<table${cls ? ` class="${h(cls)}"` : ''}><thead><tr>${head.map((x) => `<th>${h(x)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`
  );
}

function evidenceList(e: Evidence): string {
  const entries = Object.entries(e);
  if (!entries.length) return none();
  const value = (v: Evidence[string]) => (v === null ? 'none' : Array.isArray(v) ? (v.length ? v.join(', ') : 'none') : String(v));
  return `<dl class="ev">${entries.map(([k, v]) => `<dt>${h(k)}</dt><dd>${h(value(v))}</dd>`).join('')}</dl>`;
}

const bar = (score: number): string => {
  const w = Math.max(0, Math.min(100, Math.round(score * 100)));
  return `<span class="bar" role="img" aria-label="${w}%"><span class="fill" style="width:${w}%"></span></span>`;
};

const AGREEMENT_BADGE: Record<AgreementFact['status'], string> = { active: 'ok', expiring: 'info', expired: 'alarm', revoked: 'skip' };

const SAFEGUARD_TITLE: Record<Safeguard, string> = {
  administrative: 'Administrative safeguards',
  physical: 'Physical safeguards',
  technical: 'Technical safeguards',
  organizational: 'Organizational requirements',
  documentation: 'Policies, procedures and documentation',
};

const CSS = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1b1b1b;background:#fff}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}h3{font-size:1.05rem;margin:1.4rem 0 .3rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}th,td{border:1px solid #ccc;padding:.3rem .45rem;vertical-align:top;text-align:left}
th{background:#f2f2f2}.none{color:#666}code,.hash{font:12px/1.3 ui-monospace,Menlo,Consolas,monospace}.hash{word-break:break-all}
#summary{border:1px solid #bbb;padding:.6rem 1rem 1rem;max-width:60rem}#summary h2{margin-top:.4rem}
.meta{margin:.2rem 0}.counts{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.5rem 1.2rem;margin:.6rem 0}
.score{font-size:1.3rem;font-weight:700}
.badge{display:inline-block;min-width:3.8em;text-align:center;padding:0 .4em;border:1px solid;border-radius:3px;font-weight:700;font-size:.85em;text-transform:uppercase}
.b-ok,.b-met{color:#0b5a1e;background:#e2f3e5;border-color:#0b5a1e}.b-alarm,.b-not-met{color:#8b0000;background:#fbe3e3;border-color:#8b0000}
.b-error{color:#6a2a00;background:#fbe8d6;border-color:#6a2a00}.b-info{color:#0b3d73;background:#e1ebf7;border-color:#0b3d73}
.b-skip{color:#3d3d3d;background:#ececec;border-color:#3d3d3d;font-style:italic}
.bar{display:inline-block;width:14rem;height:.8rem;border:1px solid #555;background:#fff;vertical-align:middle;margin-right:.5rem}
.fill{display:block;height:100%;background:#2e6b3a}
dl.ev{margin:0;display:grid;grid-template-columns:max-content 1fr;gap:0 .6rem}dl.ev dt{font-weight:600}dl.ev dd{margin:0}
.req{break-inside:avoid}.sub{color:#444}
@media print{body{margin:0;font-size:11pt}#summary{max-width:none}h2{break-after:avoid}}`;

function summary(report: EvidenceReport): string {
  const { checks, progress } = report;
  const counts = STATUSES.map(
    (s) => `<li>${badge(s, s)} <span class="n" data-status="${h(s)}">${h(checks.summary[s] ?? 0)}</span></li>`,
  ).join('\n');
  const met = report.requirements.filter((r) => r.met).length;
  const rows = progress.safeguards.map((s) => [
    h(SAFEGUARD_TITLE[s.safeguard] ?? s.safeguard),
    `${h(s.met)} of ${h(s.total)}`,
    `${bar(s.score)}${h(pct(s.score))}`,
  ]);
  return [
    '<section id="summary">',
    '<h2>Summary</h2>',
    `<p class="meta">Space <strong>${h(checks.space.name)}</strong> (${h(checks.space.tier)})</p>`,
    `<p class="meta">Report time <time datetime="${h(checks.at)}">${h(checks.at)}</time></p>`,
    `<p class="meta">Edition: ${h(checks.edition)}</p>`,
    `<p class="meta">Gathered: ${checks.gathered.length ? h(checks.gathered.join(', ')) : none()}</p>`,
    `<p class="meta">Checks: ${h(checks.findings.length)}</p>`,
    `<ul class="counts">\n${counts}\n</ul>`,
    `<p>Weighted score <span class="score">${h(pct(progress.score))}</span> ${bar(progress.score)} ${h(met)} of ${h(report.requirements.length)} requirements met</p>`,
    table(['Safeguard', 'Met', 'Progress'], rows, 'progress'),
    '</section>',
  ].join('\n');
}

function requirement(r: RequirementStatus, findings: Map<string, Finding>): string {
  const out: string[] = [];
  out.push(
    `<div class="req" id="req-${h(r.section)}"><h3>${h(r.section)} ${h(r.title)} ${r.met ? badge('met', 'met') : badge('not met', 'not-met')}</h3>`,
  );
  out.push(
    `<p class="sub">${h(r.kind)}, weight ${h(r.weight)}${r.met && r.since ? `, met since ${h(r.since)}` : ''}${r.attest ? ', needs an attestation' : ''}</p>`,
  );
  if (r.checks.length) {
    out.push(
      table(
        ['Check', 'Status', 'Severity', 'Reason'],
        r.checks.map((c) => {
          const f = findings.get(c.id);
          return [
            `<code>${h(c.id)}</code>${f ? `<br>${h(f.title)}` : ''}`,
            badge(c.status, c.status),
            h(f?.severity ?? ''),
            h(f?.reason ?? ''),
          ];
        }),
      ),
    );
  } else {
    out.push(`<p>Checks: ${none('no automated check')}</p>`);
  }
  if (r.attest || r.attestations.length) {
    if (r.attestations.length) {
      out.push(
        table(
          ['Control', 'By', 'Date', 'Expires', 'Evidence SHA-256'],
          r.attestations.map((a) => [
            `<code>${h(a.control)}</code>${CONTROLS[a.control] ? `<br>${h(CONTROLS[a.control]?.title)}` : ''}`,
            h(a.by),
            h(a.at),
            a.expiresAt ? h(a.expiresAt) : none('never'),
            `<span class="hash">${h(a.evidenceSha256)}</span>`,
          ]),
        ),
      );
    } else {
      const controls = Object.entries(CONTROLS)
        .filter(([, c]) => c.covers.includes(r.section))
        .map(([id]) => id);
      out.push(
        `<p>Attestations: ${none('no unexpired attestation on record')}${controls.length ? ` (<code>ward attest ${h(controls.join(' | '))}</code>)` : ''}</p>`,
      );
    }
  }
  out.push('</div>');
  return out.join('\n');
}

/** The report as one self-contained HTML page. */
export function toHtml(report: EvidenceReport): string {
  const { checks, audit } = report;
  const findings = new Map(checks.findings.map((f) => [f.id, f]));
  const body: string[] = [];
  body.push(`<h1>HIPAA evidence: space ${h(checks.space.name)} (${h(checks.space.tier)})</h1>`);
  body.push(summary(report));

  body.push('<h2 id="requirements">Requirements</h2>');
  for (const s of SAFEGUARDS) {
    const reqs = report.requirements.filter((r) => r.safeguard === s);
    if (!reqs.length) continue;
    body.push(`<h2 id="safeguard-${h(s)}">${h(SAFEGUARD_TITLE[s])}</h2>`);
    for (const r of reqs) body.push(requirement(r, findings));
  }

  body.push('<h2 id="checks">Checks</h2>');
  body.push(
    checks.findings.length
      ? table(
          ['Check', 'Status', 'Severity', 'Reason', 'Cites', 'Evidence'],
          checks.findings.map((f) => [
            `<code>${h(f.id)}</code><br>${h(f.title)}`,
            badge(f.status, f.status),
            h(f.severity),
            h(f.reason),
            f.citations.map((c) => h(c)).join('<br>'),
            evidenceList(f.evidence),
          ]),
        )
      : `<p>${none('No checks were run.')}</p>`,
  );

  body.push('<h2 id="audit">Audit log</h2>');
  const cp = audit.checkpoint;
  const v = audit.verify;
  const full = audit.lastFull;
  body.push(
    table(
      ['Item', 'Result'],
      [
        [
          'Newest checkpoint',
          cp
            ? `tree size ${h(cp.treeSize)}, sealed ${h(cp.sealedAt)}<br><span class="hash">${h(cp.rootHash)}</span>`
            : none('no checkpoint yet'),
        ],
        [
          'Verification',
          v
            ? `${v.ok ? badge('ok', 'ok') : badge('failed', 'alarm')} to tree size ${h(v.treeSize)}${v.problem ? `: ${h(v.problem)}` : ''}`
            : none('not verified while gathering'),
        ],
        [
          'Last full verification',
          full
            ? `${full.ok ? badge('ok', 'ok') : badge('failed', 'alarm')} ${h(full.at)}, tree size ${h(full.treeSize)}`
            : none('none recorded'),
        ],
      ],
      'kv',
    ),
  );

  body.push('<h2 id="keys">Key inventory</h2>');
  body.push(
    report.keys.length
      ? table(
          ['Collection', 'Version', 'Created'],
          report.keys.map((k) => [h(k.collection), h(k.version), h(k.createdAt)]),
        )
      : `<p>${none('No data keys.')}</p>`,
  );

  body.push('<h2 id="agreements">Agreements</h2>');
  body.push(
    report.agreements.length
      ? table(
          ['Agreement', 'Hosts', 'Scope', 'Expires', 'Status'],
          report.agreements.map((a) => [
            `${h(a.name)}<br><code>${h(a.id)}</code>`,
            a.hosts.length ? a.hosts.map((x) => h(x)).join('<br>') : none(),
            h(a.scope),
            h(a.expires),
            badge(a.status, AGREEMENT_BADGE[a.status]),
          ]),
        )
      : `<p>${none('No agreements are recorded.')}</p>`,
  );

  body.push('<h2 id="attestations">Attestations on record</h2>');
  body.push(
    report.attestations.length
      ? table(
          ['Control', 'By', 'Date', 'Expires', 'Evidence SHA-256'],
          report.attestations.map((a) => [
            `<code>${h(a.control)}</code>`,
            h(a.by),
            h(a.at),
            a.expiresAt ? h(a.expiresAt) : none('never'),
            `<span class="hash">${h(a.evidenceSha256)}</span>`,
          ]),
        )
      : `<p>${none('No attestations are recorded.')}</p>`,
  );

  if (report.lineage) {
    body.push('<h2 id="lineage">Data lineage</h2>');
    body.push(
      table(
        report.lineage.headers,
        report.lineage.rows.map((r) => r.map((c) => h(c))),
      ),
    );
  }

  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    // Nothing on the page may load or run anything: only its own inline style.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>HIPAA evidence: ${h(checks.space.name)}</title>` +
    `<style>${CSS}</style></head><body>\n${body.join('\n')}\n</body></html>\n`
  );
}
