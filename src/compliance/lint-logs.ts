/**
 * `ward lint-logs` and the ESLint rule `ward/no-phi-in-logs`: logging calls in an application's
 * TypeScript or JavaScript whose arguments reach PHI. Each file is parsed with the TypeScript
 * compiler (`ts.createSourceFile`, syntax only: no type checker, no project, no build) and walked
 * once, in source order. The names it decides by are phi-names.ts's.
 *
 * A logging call is `console.log|info|warn|error|debug|trace|dir|table(…)`, or
 * `x.trace|debug|info|warn|error|fatal|log|verbose|silly|child(…)` where `x` is a logger: named
 * like one (`log`, `logger`, `req.log`, `request.log`, `fastify.log`, `this.logger`, `auditLog`),
 * made by a logger factory (`pino()`, `createLogger()`, `getLogger()`, `log.child()`), or a
 * variable bound to either. (`child`'s bindings are written on every line of the child.)
 *
 * What an argument reaches is the value it carries, followed through the expression:
 * - a property read (`p.ssn`, `p['dateOfBirth']`, `this.email`) whose name is a PHI name
 *   (PHI_PROPERTY_NAMES, or a person word before one: `patientEmail`) or a Ward field
 *   (`fields`: the identifier and clinical fields of Ward's collections). A name too common to
 *   mean PHI alone (GENERIC_FIELD_NAMES: `name`, `status`; AMBIGUOUS_PHI_NAMES: `address`, as
 *   often a server's) counts only when read off a Ward record or off something named for a
 *   person (`patient.name`, `user.address`);
 * - a variable (or parameter, import, global) whose own name is such a name, unless it is bound in
 *   this file to a value known to be clean (`const ssn = mask(p.ssn)`);
 * - object literals (a PHI-named key counts unless its value is evidently clean: a literal, a
 *   masked value), shorthand (`{ dob }`), spreads, arrays, template literals, string
 *   concatenation, `a || b`, `a ?? b`, `c ? a : b`, `await`, and calls: a function's result is
 *   taken to carry its arguments, and a method's its receiver (`p.ssn.trim()`,
 *   `JSON.stringify(p)`, `new Error(\`… ${p.ssn}\`)`): conservative, as a CI gate should be;
 * - except what carries nothing identifying: sizes (`notes.length`), comparisons, `!x`,
 *   `typeof x`, boolean and position methods (`includes`, `indexOf`), `Boolean(x)`,
 *   `Object.keys(x)`, and a record's metadata (`record.id`, `version`, `createdAt`);
 * - and never what passes through a masking function first: a call whose name's first word
 *   starts with scrub, mask, redact, anonymi(s|z)e, deidentif(y), pseudonymi(s|z)e or tokeni(z)e
 *   (`scrub(x)`, `maskSsn(x)`, `phi.redact(x)`) is clean, whatever its arguments.
 *
 * Ward records. A call `.get(`, `.search(`, `.create(`, `.update(` or `.detokenize(` on a Ward
 * client counts as a read of Ward records: a receiver with "ward" or "vault" as a word of any
 * name along it (`vault`, `wardClient`, `this.vault`, `deps.ward.patients`), or a variable made
 * by `openVault(…)`, `new WardClient(…)` or another call or `new` of such a name. Logging what it
 * returns, or anything read off it other than its metadata and public fields (`p`, `p.fields`,
 * `results[0]`, `{ patient }`, `...p`), is a finding named after the expression logged.
 *
 * Data flow, within a file, in source order: a variable's binding records what its initializer
 * reaches (`const p = await vault.get(…)`, `const s = p.ssn`, `const { dob } = patient`,
 * `const [first] = results`), a later plain assignment replaces it (branches are not merged),
 * and inner functions see their enclosing scopes (`var` in its function's). The parameter of a
 * callback given to `.map`, `.forEach`, `.filter`, `.find`… of such a value, or to a read's
 * `.then`, holds an element of it, as does a `for (const r of results)` variable; `.map` and
 * `.flatMap` give what the callback returns. Not followed: values through properties of other
 * objects (`this.p = …`), function return values across functions, other files.
 *
 * Suppressions: `// eslint-disable-next-line ward/no-phi-in-logs`, `eslint-disable-line` and
 * `eslint-disable` … `eslint-enable` comments naming the rule (`ward/no-phi-in-logs`, under
 * whatever name the plugin is registered) or no rule are honoured by `ward lint-logs` as ESLint
 * honours them, so one comment serves both.
 */
import { type Dirent, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import type { WardConfig } from '../config/load.js';
import {
  isConsoleMethod,
  isElementCallbackMethod,
  isLoggerFactory,
  isLoggerMethod,
  isLoggerName,
  isMaskingName,
  isNonIdentifyingFunction,
  isNonIdentifyingMethod,
  isPersonHolder,
  isRecordMetadata,
  isSizeProperty,
  isWardName,
  isWardReadMethod,
  type PhiNameOptions,
  PhiNames,
} from './phi-names.js';

export const LINT_LOGS_RULE = 'phi-in-log';

/** One logging call's argument reaching PHI. */
export interface LogFinding {
  /** Relative to the directory linted, with "/" separators. */
  file: string;
  /** 1-based, of the expression that reaches PHI. */
  line: number;
  column: number;
  /** The logging call as written, arguments left out: `logger.info`, `console.log`, `req.log.warn`. */
  call: string;
  /** The PHI name, Ward field or record expression reached: `ssn`, `dob`, `patient`. */
  property: string;
  rule: typeof LINT_LOGS_RULE;
}
export type Finding = LogFinding;

/** What a reach is: a PHI name, a Ward field, or (a part of) a record read from Ward. */
export type ReachKind = 'name' | 'field' | 'record';

/** A finding as the analysis gives it, with its offsets (the ESLint rule maps them to nodes). */
export interface LogHit {
  start: number;
  end: number;
  line: number;
  column: number;
  call: string;
  property: string;
  kind: ReachKind;
}

export interface LintLogsOptions extends PhiNameOptions {
  /** Lower-case field names from Ward's collections (identifier and clinical); optional. */
  fields?: Iterable<string> | undefined;
  extraNames?: readonly string[] | undefined;
  /** What finding files are relative to when `lintLogs` is given a list of files (default: the working directory). */
  root?: string | undefined;
  /** Honour eslint-disable comments naming no-phi-in-logs (default true). */
  honorDisableComments?: boolean | undefined;
}

/** A file or directory that cannot be read. The message names the path only. */
export class LintLogsError extends Error {}

const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'];
const DECLARATION_EXTENSIONS = ['.d.ts', '.d.mts', '.d.cts'];
const SKIPPED_DIRS = new Set(['node_modules', 'dist', '.git']);

/** A file `lintLogs` reads: TypeScript or JavaScript, not a declaration file. */
export const isSourceFile = (name: string): boolean =>
  SOURCE_EXTENSIONS.some((e) => name.endsWith(e)) && !DECLARATION_EXTENSIONS.some((e) => name.endsWith(e));

/** The source files under `dir` (absolute paths, sorted), skipping node_modules, dist and .git; links are not followed. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      throw new LintLogsError(`cannot read the directory ${d}`);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const path = resolve(d, e.name);
      if (e.isDirectory()) {
        if (!SKIPPED_DIRS.has(e.name)) walk(path);
      } else if (e.isFile() && isSourceFile(e.name)) out.push(path);
    }
  };
  walk(dir);
  return out;
}

/** Ward's field names for the linter: identifier and clinical fields count, public ones do not (on records). */
export function wardFields(config: Pick<WardConfig, 'collections'>): { fields: Set<string>; publicFields: Set<string> } {
  const fields = new Set<string>();
  const publicFields = new Set<string>();
  for (const collection of Object.values(config.collections))
    for (const [name, spec] of Object.entries(collection.fields)) (spec.class === 'public' ? publicFields : fields).add(name.toLowerCase());
  // A name public in one collection and PHI in another is PHI.
  for (const f of fields) publicFields.delete(f);
  return { fields, publicFields };
}

/**
 * Findings in the files under `target` (a directory, or one file), or in the files listed
 * (relative to `options.root`), sorted by file, line and column.
 */
export function lintLogs(target: string | readonly string[], options: LintLogsOptions = {}): LogFinding[] {
  let root: string;
  let files: string[];
  if (typeof target === 'string') {
    const path = resolve(target);
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      throw new LintLogsError(`no such file or directory: ${target}`);
    }
    root = isDir ? path : dirname(path);
    files = isDir ? sourceFiles(path) : [path];
  } else {
    root = resolve(options.root ?? process.cwd());
    files = target.map((f) => resolve(root, f));
  }
  const names = new PhiNames(options);
  const findings: LogFinding[] = [];
  for (const file of files) {
    const name = relative(root, file).split(sep).join('/');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new LintLogsError(`cannot read ${name}`);
    }
    findings.push(...lintSource(text, name, { ...options, names }));
  }
  return findings.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column));
}

/** Findings in one file's text; `file` names it in the findings and picks the dialect by its extension. */
export function lintSource(text: string, file: string, options: LintLogsOptions & { names?: PhiNames } = {}): LogFinding[] {
  const sf = parse(text, file);
  let hits = analyze(sf, options.names ?? new PhiNames(options));
  if (hits.length && options.honorDisableComments !== false) {
    const suppressed = suppressions(sf);
    hits = hits.filter((h) => !suppressed(h));
  }
  return hits.map((h) => ({ file, line: h.line, column: h.column, call: h.call, property: h.property, rule: LINT_LOGS_RULE }));
}

/** The hits in one file's text, eslint-disable comments not applied (the ESLint rule leaves them to ESLint). */
export function analyzeSource(text: string, file: string, names: PhiNames): LogHit[] {
  return analyze(parse(text, file), names);
}

function scriptKind(file: string): ts.ScriptKind {
  if (/\.[mc]?ts$/.test(file)) return ts.ScriptKind.TS;
  if (file.endsWith('.tsx')) return ts.ScriptKind.TSX;
  if (file.endsWith('.jsx')) return ts.ScriptKind.JSX;
  return ts.ScriptKind.JS; // .js .mjs .cjs, and names ESLint makes up (`<input>`): JavaScript, JSX allowed
}

function parse(text: string, file: string): ts.SourceFile {
  return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, scriptKind(file));
}

function analyze(sf: ts.SourceFile, names: PhiNames): LogHit[] {
  return new FileAnalysis(sf, names).run();
}

// ---------------------------------------------------------------------------------------------
// The walk

interface Taint {
  kind: ReachKind;
  /** The name or field; for a record, the expression it was read through (replaced by the name logged). */
  property: string;
}
interface Reach extends Taint {
  node: ts.Node;
}

/** What a variable holds, as far as this file shows. */
interface Binding {
  taints: Taint[];
  /**
   * Its value is accounted for: it reaches `taints`, or is evidently clean (a literal, a masked
   * value). Otherwise (a parameter, an unknown function's result) its own name counts too.
   */
  known: boolean;
  client?: boolean;
  logger?: boolean;
}

const PARAMETER: Binding = { taints: [], known: false };
const CLEAN: Binding = { taints: [], known: true };

class Scope {
  private readonly vars = new Map<string, Binding>();
  constructor(
    readonly parent: Scope | undefined,
    readonly isFunction: boolean,
  ) {}

  lookup(name: string): Binding | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const b = s.vars.get(name);
      if (b) return b;
    }
    return undefined;
  }

  /** The scope that holds `name`, if any. */
  holder(name: string): Scope | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) if (s.vars.has(name)) return s;
    return undefined;
  }

  functionScope(): Scope {
    let s: Scope = this;
    while (!s.isFunction && s.parent) s = s.parent;
    return s;
  }

  set(name: string, b: Binding): void {
    this.vars.set(name, b);
  }
}

/** Parentheses, type assertions, `!` and `satisfies`: what is inside. */
function unwrap(e: ts.Expression): ts.Expression {
  for (;;) {
    if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isNonNullExpression(e) || ts.isSatisfiesExpression(e))
      e = e.expression;
    else if (ts.isTypeAssertionExpression(e)) e = e.expression;
    else return e;
  }
}

/** `unwrap`, and `await` too. */
function unwrapAwait(e: ts.Expression): ts.Expression {
  let x = unwrap(e);
  while (ts.isAwaitExpression(x)) x = unwrap(x.expression);
  return x;
}

/** A call's callee or a receiver as written, with `…` for anything but names, `this`, property reads and calls. */
function render(node: ts.Node): string {
  if (ts.isExpression(node)) node = unwrapAwait(node);
  if (ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) return node.text;
  if (node.kind === ts.SyntaxKind.ThisKeyword) return 'this';
  if (node.kind === ts.SyntaxKind.SuperKeyword) return 'super';
  if (ts.isPropertyAccessExpression(node)) return `${render(node.expression)}.${node.name.text}`;
  if (ts.isElementAccessExpression(node)) return `${render(node.expression)}[]`;
  if (ts.isCallExpression(node)) return `${render(node.expression)}()`;
  if (ts.isShorthandPropertyAssignment(node)) return node.name.text;
  return '…';
}

/** The name a callee or receiver goes by: `f` in `f(…)`, `m` in `x.m(…)`, `C` in `new C`. */
function lastName(e: ts.Expression): string | undefined {
  const x = unwrap(e);
  if (ts.isIdentifier(x)) return x.text;
  if (ts.isPropertyAccessExpression(x)) return x.name.text;
  return undefined;
}

/** A dotted path of names (`Object.keys`), or undefined. */
function dottedPath(e: ts.Expression): string | undefined {
  const x = unwrap(e);
  if (ts.isIdentifier(x)) return x.text;
  if (ts.isPropertyAccessExpression(x)) {
    const head = dottedPath(x.expression);
    return head === undefined ? undefined : `${head}.${x.name.text}`;
  }
  return undefined;
}

function propertyNameText(name: ts.PropertyName): string | undefined {
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name) || ts.isNoSubstitutionTemplateLiteral(name))
    return name.text;
  if (ts.isNumericLiteral(name)) return name.text;
  if (ts.isComputedPropertyName(name) && ts.isStringLiteralLike(name.expression)) return name.expression.text;
  return undefined;
}

type FunctionWithBody = ts.FunctionLikeDeclaration & { body: ts.ConciseBody };
const isFunctionValue = (n: ts.Node): n is ts.ArrowFunction | ts.FunctionExpression => ts.isArrowFunction(n) || ts.isFunctionExpression(n);

const COMPARISONS = new Set([
  ts.SyntaxKind.EqualsEqualsToken,
  ts.SyntaxKind.EqualsEqualsEqualsToken,
  ts.SyntaxKind.ExclamationEqualsToken,
  ts.SyntaxKind.ExclamationEqualsEqualsToken,
  ts.SyntaxKind.LessThanToken,
  ts.SyntaxKind.LessThanEqualsToken,
  ts.SyntaxKind.GreaterThanToken,
  ts.SyntaxKind.GreaterThanEqualsToken,
  ts.SyntaxKind.InKeyword,
  ts.SyntaxKind.InstanceOfKeyword,
]);
const isAssignment = (k: ts.SyntaxKind) => k >= ts.SyntaxKind.FirstAssignment && k <= ts.SyntaxKind.LastAssignment;
const ASSIGNMENTS_TO_RIGHT = new Set([ts.SyntaxKind.EqualsToken, ts.SyntaxKind.AmpersandAmpersandEqualsToken]);

class FileAnalysis {
  private readonly hits: LogHit[] = [];
  /** Callbacks whose parameter at `index` holds an element of a value reaching PHI. */
  private readonly callbacks = new Map<ts.Node, { index: number; taints: Taint[] }>();

  constructor(
    private readonly sf: ts.SourceFile,
    private readonly names: PhiNames,
  ) {}

  run(): LogHit[] {
    this.visit(this.sf, new Scope(undefined, true));
    return this.hits;
  }

  // -- walking statements and bindings ----------------------------------------------------------

  private visit(node: ts.Node, scope: Scope): void {
    if (ts.isTypeNode(node) || ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) return;
    if (ts.isFunctionLike(node)) {
      const fn = node as ts.FunctionLikeDeclaration;
      if (fn.body) this.visitFunction(fn as FunctionWithBody, scope);
      return;
    }
    if (ts.isVariableDeclaration(node)) {
      if (node.initializer) this.visit(node.initializer, scope);
      const list = node.parent;
      const isVar = ts.isVariableDeclarationList(list) && !(list.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const | ts.NodeFlags.Using));
      const target = isVar ? scope.functionScope() : scope;
      if (ts.isCatchClause(node.parent)) this.bindName(node.name, PARAMETER, scope);
      else if (!node.initializer) this.bindName(node.name, CLEAN, target);
      else if (ts.isIdentifier(node.name)) target.set(node.name.text, this.bindingOf(node.initializer, scope));
      else this.bindName(node.name, this.sourceOf(node.initializer, scope), target, scope);
      return;
    }
    if (ts.isForOfStatement(node)) {
      const inner = new Scope(scope, false);
      this.visit(node.expression, scope);
      const element: Binding = { taints: this.taints(node.expression, scope), known: false };
      const init = node.initializer;
      if (ts.isVariableDeclarationList(init)) for (const d of init.declarations) this.bindName(d.name, element, inner, scope);
      else this.assignTo(init, element, scope);
      this.visit(node.statement, inner);
      return;
    }
    if (ts.isBinaryExpression(node) && isAssignment(node.operatorToken.kind)) {
      this.visit(node.left, scope);
      this.visit(node.right, scope);
      const next = this.bindingOf(node.right, scope);
      if (node.operatorToken.kind === ts.SyntaxKind.EqualsToken) this.assignTo(node.left, next, scope);
      else {
        const left = unwrap(node.left);
        const before = ts.isIdentifier(left) ? scope.lookup(left.text) : undefined;
        const taints = [...(before?.taints ?? []), ...next.taints];
        this.assignTo(node.left, { taints, known: taints.length > 0 || ((before?.known ?? true) && next.known) }, scope);
      }
      return;
    }
    if (ts.isCallExpression(node)) {
      this.checkCall(node, scope);
      this.noteCallbacks(node, scope);
    }
    const inner =
      ts.isBlock(node) || ts.isForStatement(node) || ts.isForInStatement(node) || ts.isCatchClause(node) || ts.isCaseBlock(node)
        ? new Scope(scope, false)
        : scope;
    ts.forEachChild(node, (child) => this.visit(child, inner));
  }

  private visitFunction(fn: FunctionWithBody, scope: Scope): void {
    const inner = new Scope(scope, true);
    this.bindParameters(fn, inner, this.callbacks.get(fn));
    for (const p of fn.parameters) if (p.initializer) this.visit(p.initializer, inner);
    if (ts.isBlock(fn.body)) for (const s of fn.body.statements) this.visit(s, inner);
    else this.visit(fn.body, inner);
  }

  private bindParameters(fn: ts.SignatureDeclarationBase, inner: Scope, element?: { index: number; taints: Taint[] }): void {
    fn.parameters.forEach((p, i) => {
      const holds = element && element.index === i ? { taints: element.taints, known: true } : PARAMETER;
      this.bindName(p.name, holds, inner, inner);
    });
  }

  /** Binds the names of `name` (an identifier or a destructuring pattern) to what `source` holds. */
  private bindName(name: ts.BindingName, source: Binding & { holder?: boolean }, target: Scope, scope: Scope = target): void {
    if (ts.isIdentifier(name)) {
      target.set(name.text, { taints: source.taints, known: source.known });
      return;
    }
    // A part of a clean value is clean; of a value reaching PHI, what `read` finds (or nothing).
    const clean = source.known && source.taints.length === 0;
    for (const el of name.elements) {
      if (ts.isOmittedExpression(el)) continue;
      let part: Binding & { holder?: boolean };
      if (el.dotDotDotToken || ts.isArrayBindingPattern(name)) part = { taints: source.taints, known: source.known };
      else {
        const key = el.propertyName ? propertyNameText(el.propertyName) : ts.isIdentifier(el.name) ? el.name.text : undefined;
        const taints = this.read(source.taints, key, source.holder ?? false);
        part = { taints, known: clean || taints.length > 0, holder: key !== undefined && isPersonHolder(key) };
      }
      if (el.initializer) {
        const fallback = this.taints(el.initializer, scope);
        part = { ...part, taints: [...part.taints, ...fallback], known: part.known || fallback.length > 0 };
      }
      this.bindName(el.name, part, target, scope);
    }
  }

  /** What an initializer gives a destructuring pattern: its taints, whether it is evidently clean, whether it is named for a patient. */
  private sourceOf(init: ts.Expression, scope: Scope): Binding & { holder: boolean } {
    const name = lastName(unwrapAwait(init));
    const taints = this.taints(init, scope);
    return { taints, known: taints.length > 0 || this.evidentlyClean(init, scope), holder: name !== undefined && isPersonHolder(name) };
  }

  /** The binding a variable gets from `init`: what it reaches, and whether it is a Ward client or a logger. */
  private bindingOf(init: ts.Expression, scope: Scope): Binding {
    const e = unwrapAwait(init);
    if (this.isLogger(e, scope)) return { taints: [], known: true, logger: true };
    const taints = this.taints(init, scope);
    if (!taints.length && this.makesWardClient(e, scope)) return { taints, known: true, client: true };
    return { taints, known: taints.length > 0 || this.evidentlyClean(init, scope) };
  }

  /** `x = …`: a plain variable's binding is replaced; properties and destructuring assignments are not followed. */
  private assignTo(left: ts.Expression | ts.ForInitializer, b: Binding, scope: Scope): void {
    const target = ts.isExpression(left) ? unwrap(left) : left;
    if (!ts.isIdentifier(target)) return;
    (scope.holder(target.text) ?? scope.functionScope()).set(target.text, b);
  }

  /** `xs.map((x) => …)`, `vault.get(…).then((p) => …)`: the callback's parameter holds an element of `xs`, the record. */
  private noteCallbacks(call: ts.CallExpression, scope: Scope): void {
    const callee = unwrap(call.expression);
    if (!ts.isPropertyAccessExpression(callee)) return;
    const method = callee.name.text;
    const index = method === 'reduce' || method === 'reduceRight' ? 1 : isElementCallbackMethod(method) ? 0 : -1;
    const fn = call.arguments[0];
    if (index < 0 || !fn || !isFunctionValue(fn)) return;
    const taints = this.taints(callee.expression, scope);
    if (taints.length) this.callbacks.set(fn, { index, taints });
  }

  // -- logging calls ----------------------------------------------------------------------------

  private checkCall(call: ts.CallExpression, scope: Scope): void {
    const callee = unwrap(call.expression);
    if (!ts.isPropertyAccessExpression(callee)) return;
    const method = callee.name.text;
    const receiver = unwrap(callee.expression);
    const logging = this.isConsole(receiver) ? isConsoleMethod(method) : isLoggerMethod(method) && this.isLogger(receiver, scope);
    if (!logging) return;
    const name = render(callee);
    const seen = new Set<string>();
    for (const arg of call.arguments) {
      // A lazy message (`log.debug(() => …)`) logs what the function returns.
      const reaches = isFunctionValue(arg) ? this.returned(arg, undefined, scope) : this.flow(arg, scope);
      for (const r of reaches) {
        if (seen.has(r.property)) continue;
        seen.add(r.property);
        const start = r.node.getStart(this.sf);
        const { line, character } = this.sf.getLineAndCharacterOfPosition(start);
        this.hits.push({
          start,
          end: r.node.getEnd(),
          line: line + 1,
          column: character + 1,
          call: name,
          property: r.property,
          kind: r.kind,
        });
      }
    }
  }

  private isConsole(e: ts.Expression): boolean {
    if (ts.isIdentifier(e)) return e.text === 'console';
    return (
      ts.isPropertyAccessExpression(e) &&
      e.name.text === 'console' &&
      ts.isIdentifier(e.expression) &&
      ['globalThis', 'window', 'global', 'self'].includes(e.expression.text)
    );
  }

  /** A logger: named like one, made by a logger factory or `child`, or a variable bound to one. */
  private isLogger(expr: ts.Expression, scope: Scope): boolean {
    const e = unwrap(expr);
    if (ts.isIdentifier(e)) return scope.lookup(e.text)?.logger === true || isLoggerName(e.text);
    if (ts.isPropertyAccessExpression(e)) return isLoggerName(e.name.text);
    if (ts.isCallExpression(e)) {
      const callee = unwrap(e.expression);
      if (ts.isIdentifier(callee)) return isLoggerFactory(callee.text);
      if (ts.isPropertyAccessExpression(callee))
        return isLoggerFactory(callee.name.text) || (callee.name.text === 'child' && this.isLogger(callee.expression, scope));
    }
    return false;
  }

  // -- Ward clients ------------------------------------------------------------------------------

  /** A Ward client or vault: "ward" or "vault" a word of a name along the receiver, or a variable bound to a client. */
  private isWardClient(expr: ts.Expression, scope: Scope): boolean {
    const e = unwrapAwait(expr);
    if (ts.isIdentifier(e)) return scope.lookup(e.text)?.client === true || isWardName(e.text);
    if (ts.isPropertyAccessExpression(e)) return isWardName(e.name.text) || this.isWardClient(e.expression, scope);
    if (ts.isCallExpression(e)) return this.isWardClient(e.expression, scope);
    if (ts.isNewExpression(e)) return this.makesWardClient(e, scope);
    return false;
  }

  /** `openVault(…)`, `new WardClient(…)`, `createWardClient()`, or an alias (`const v = this.vault`). */
  private makesWardClient(e: ts.Expression, scope: Scope): boolean {
    if (ts.isNewExpression(e)) {
      const name = lastName(e.expression);
      return name !== undefined && isWardName(name);
    }
    if (ts.isCallExpression(e)) {
      const callee = unwrap(e.expression);
      return ts.isIdentifier(callee) && isWardName(callee.text);
    }
    return (ts.isIdentifier(e) || ts.isPropertyAccessExpression(e)) && this.isWardClient(e, scope);
  }

  private isWardRead(call: ts.CallExpression, scope: Scope): boolean {
    const callee = unwrap(call.expression);
    return ts.isPropertyAccessExpression(callee) && isWardReadMethod(callee.name.text) && this.isWardClient(callee.expression, scope);
  }

  // -- what an expression reaches -----------------------------------------------------------------

  private taints(e: ts.Expression, scope: Scope): Taint[] {
    return this.flow(e, scope).map(({ kind, property }) => ({ kind, property }));
  }

  private all(list: readonly ts.Expression[], scope: Scope): Reach[] {
    return list.flatMap((e) => this.flow(e, scope));
  }

  private flow(expr: ts.Expression, scope: Scope): Reach[] {
    const e = unwrap(expr);
    if (ts.isIdentifier(e)) return this.identifier(e, scope);
    if (ts.isPropertyAccessExpression(e)) return this.access(e, e.expression, e.name.text, scope);
    if (ts.isElementAccessExpression(e)) {
      const key = ts.isStringLiteralLike(e.argumentExpression) ? e.argumentExpression.text : undefined;
      return this.access(e, e.expression, key, scope);
    }
    if (ts.isCallExpression(e)) return this.call(e, scope);
    if (ts.isNewExpression(e)) return this.all(e.arguments ?? [], scope);
    if (ts.isTemplateExpression(e))
      return this.all(
        e.templateSpans.map((s) => s.expression),
        scope,
      );
    if (ts.isTaggedTemplateExpression(e)) {
      const tag = lastName(e.tag);
      if (tag !== undefined && isMaskingName(tag)) return [];
      return ts.isTemplateExpression(e.template) ? this.flow(e.template, scope) : [];
    }
    if (ts.isBinaryExpression(e)) {
      const op = e.operatorToken.kind;
      if (COMPARISONS.has(op)) return [];
      if (op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.CommaToken || ASSIGNMENTS_TO_RIGHT.has(op))
        return this.flow(e.right, scope);
      return [...this.flow(e.left, scope), ...this.flow(e.right, scope)];
    }
    if (ts.isConditionalExpression(e)) return [...this.flow(e.whenTrue, scope), ...this.flow(e.whenFalse, scope)];
    if (ts.isPrefixUnaryExpression(e)) return e.operator === ts.SyntaxKind.ExclamationToken ? [] : this.flow(e.operand, scope);
    if (ts.isPostfixUnaryExpression(e)) return this.flow(e.operand, scope);
    if (ts.isAwaitExpression(e) || ts.isSpreadElement(e)) return this.flow(e.expression, scope);
    if (ts.isObjectLiteralExpression(e)) return this.object(e, scope);
    if (ts.isArrayLiteralExpression(e)) return this.all(e.elements, scope);
    return []; // literals, functions, classes, `this`, JSX, typeof, void, delete, yield
  }

  /** A variable: what it was bound to here; a parameter, import or global also by its own name. */
  private identifier(e: ts.Identifier, scope: Scope): Reach[] {
    if (e.text === 'undefined') return [];
    const b = scope.lookup(e.text);
    const bound = (b?.taints ?? []).map((t) => ({ kind: t.kind, property: t.kind === 'record' ? e.text : t.property, node: e }));
    if (b?.known) return bound;
    const kind = this.names.classify(e.text);
    return kind ? [{ kind, property: e.text, node: e }, ...bound] : bound;
  }

  /** `base.key` / `base[key]`: the key's own meaning, or what the base reaches. */
  private access(node: ts.Expression, baseExpr: ts.Expression, key: string | undefined, scope: Scope): Reach[] {
    const base = this.flow(baseExpr, scope);
    if (key !== undefined && isSizeProperty(key)) return [];
    const onRecord = base.some((r) => r.kind === 'record');
    const rest = base.filter((r) => r.kind !== 'record');
    if (key !== undefined) {
      if (onRecord && (isRecordMetadata(key) || this.names.isPublicField(key))) return rest;
      const holderName = lastName(unwrapAwait(baseExpr));
      const kind = this.names.classify(key, { onRecord, onHolder: holderName !== undefined && isPersonHolder(holderName) });
      if (kind) return [{ kind, property: key, node }];
    }
    return onRecord ? [...rest, { kind: 'record', property: render(node), node }] : base;
  }

  /** What a taint list gives when read at `key` (destructuring): as `access`, without nodes. */
  private read(taints: Taint[], key: string | undefined, holder: boolean): Taint[] {
    if (key !== undefined && isSizeProperty(key)) return [];
    const onRecord = taints.some((t) => t.kind === 'record');
    const rest = taints.filter((t) => t.kind !== 'record');
    if (key !== undefined) {
      if (onRecord && (isRecordMetadata(key) || this.names.isPublicField(key))) return rest;
      const kind = this.names.classify(key, { onRecord, onHolder: holder });
      if (kind) return [{ kind, property: key }];
    }
    return onRecord ? [...rest, { kind: 'record', property: key ?? 'record' }] : taints;
  }

  private call(e: ts.CallExpression, scope: Scope): Reach[] {
    const callee = unwrap(e.expression);
    const name = lastName(callee);
    if (name !== undefined && isMaskingName(name)) return [];
    if (this.isWardRead(e, scope)) return [{ kind: 'record', property: render(e), node: e }];
    const path = dottedPath(callee);
    if (path !== undefined && isNonIdentifyingFunction(path)) return [];
    if (ts.isIdentifier(callee) && (callee.text === 'require' || callee.text === 'Symbol')) return [];
    const args = e.arguments.filter((a) => !isFunctionValue(a));
    if (!ts.isPropertyAccessExpression(callee)) return this.all(args, scope);
    const method = callee.name.text;
    if (isNonIdentifyingMethod(method)) return [];
    const receiver = this.flow(callee.expression, scope);
    const fn = e.arguments[0];
    if ((method === 'map' || method === 'flatMap') && receiver.length && fn && isFunctionValue(fn))
      return [...this.returned(fn, receiver, scope), ...this.all(args, scope)];
    return [...receiver, ...this.all(args, scope)];
  }

  /** What a function returns (its expression body, or its `return` expressions), its first parameter holding an element of `element`. */
  private returned(fn: ts.ArrowFunction | ts.FunctionExpression, element: Reach[] | undefined, scope: Scope): Reach[] {
    const inner = new Scope(scope, true);
    const taints = element?.map(({ kind, property }) => ({ kind, property })) ?? [];
    this.bindParameters(fn, inner, element ? { index: 0, taints } : undefined);
    if (!ts.isBlock(fn.body)) return this.flow(fn.body, inner);
    const out: Reach[] = [];
    const collect = (n: ts.Node): void => {
      if (ts.isFunctionLike(n)) return;
      if (ts.isReturnStatement(n) && n.expression) out.push(...this.flow(n.expression, inner));
      else ts.forEachChild(n, collect);
    };
    collect(fn.body);
    return out;
  }

  private object(e: ts.ObjectLiteralExpression, scope: Scope): Reach[] {
    const out: Reach[] = [];
    for (const p of e.properties) {
      if (ts.isPropertyAssignment(p)) {
        const value = this.flow(p.initializer, scope);
        if (value.length) out.push(...value);
        else {
          const key = propertyNameText(p.name);
          const kind = key === undefined ? undefined : this.names.classify(key);
          if (key !== undefined && kind && !this.evidentlyClean(p.initializer, scope)) out.push({ kind, property: key, node: p });
        }
      } else if (ts.isShorthandPropertyAssignment(p)) out.push(...this.identifier(p.name, scope));
      else if (ts.isSpreadAssignment(p)) out.push(...this.flow(p.expression, scope));
    }
    return out;
  }

  /** A value known to hold nothing identifying: a literal, a masked value, a boolean test, a clean variable bound here. */
  private evidentlyClean(expr: ts.Expression, scope: Scope): boolean {
    const e = unwrapAwait(expr);
    switch (e.kind) {
      case ts.SyntaxKind.StringLiteral:
      case ts.SyntaxKind.NumericLiteral:
      case ts.SyntaxKind.BigIntLiteral:
      case ts.SyntaxKind.NoSubstitutionTemplateLiteral:
      case ts.SyntaxKind.RegularExpressionLiteral:
      case ts.SyntaxKind.TrueKeyword:
      case ts.SyntaxKind.FalseKeyword:
      case ts.SyntaxKind.NullKeyword:
      case ts.SyntaxKind.TypeOfExpression:
      case ts.SyntaxKind.VoidExpression:
        return true;
    }
    if (ts.isIdentifier(e)) {
      const b = scope.lookup(e.text);
      return e.text === 'undefined' || (b?.known === true && b.taints.length === 0);
    }
    if (ts.isPrefixUnaryExpression(e)) return e.operator === ts.SyntaxKind.ExclamationToken || this.evidentlyClean(e.operand, scope);
    if (ts.isBinaryExpression(e)) return COMPARISONS.has(e.operatorToken.kind);
    if (ts.isConditionalExpression(e)) return this.evidentlyClean(e.whenTrue, scope) && this.evidentlyClean(e.whenFalse, scope);
    if (ts.isCallExpression(e)) {
      const name = lastName(e.expression);
      const path = dottedPath(e.expression);
      return (
        (name !== undefined && (isMaskingName(name) || isNonIdentifyingMethod(name))) ||
        (path !== undefined && isNonIdentifyingFunction(path))
      );
    }
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// eslint-disable comments

const DIRECTIVE = /^(eslint-disable-next-line|eslint-disable-line|eslint-disable|eslint-enable)(?:\s+([\s\S]*))?$/;
const RULE_NAME = 'no-phi-in-logs';

/** Whether a hit is under an eslint-disable comment that names no rule, or `<plugin>/no-phi-in-logs` (the plugin as registered: `ward`). */
function suppressions(sf: ts.SourceFile): (h: LogHit) => boolean {
  const text = sf.text;
  if (!text.includes('eslint-')) return () => false;
  const comments = new Map<number, ts.CommentRange>();
  const gather = (node: ts.Node): void => {
    if (node.kind < ts.SyntaxKind.FirstNode || node.kind === ts.SyntaxKind.EndOfFileToken) {
      for (const c of ts.getLeadingCommentRanges(text, node.pos) ?? []) comments.set(c.pos, c);
      for (const c of ts.getTrailingCommentRanges(text, node.end) ?? []) comments.set(c.pos, c);
    }
    for (const child of node.getChildren(sf)) gather(child);
  };
  gather(sf);
  const lineOf = (pos: number) => sf.getLineAndCharacterOfPosition(pos).line + 1;
  const lines = new Set<number>();
  const regions: [number, number][] = [];
  let open: number | undefined;
  for (const c of [...comments.values()].sort((a, b) => a.pos - b.pos)) {
    const raw = text.slice(c.pos, c.end);
    const body = (c.kind === ts.SyntaxKind.SingleLineCommentTrivia ? raw.slice(2) : raw.slice(2, -2)).split(/\s-{2,}\s/)[0] ?? '';
    const m = DIRECTIVE.exec(body.trim());
    if (!m) continue;
    const rules = (m[2] ?? '')
      .split(',')
      .map((r) => r.trim())
      .filter(Boolean);
    if (rules.length && !rules.some((r) => r.endsWith(`/${RULE_NAME}`))) continue;
    if (m[1] === 'eslint-disable-line') lines.add(lineOf(c.pos));
    else if (m[1] === 'eslint-disable-next-line') lines.add(lineOf(c.end) + 1);
    else if (m[1] === 'eslint-disable') open ??= c.end;
    else if (open !== undefined) {
      regions.push([open, c.pos]);
      open = undefined;
    }
  }
  if (open !== undefined) regions.push([open, Number.POSITIVE_INFINITY]);
  return (h) => lines.has(h.line) || regions.some(([from, to]) => h.start >= from && h.start < to);
}
