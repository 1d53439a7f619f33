/** The scrubbing logger: planted canaries never reach the output stream, whatever the log call looks like. */
import { randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLogger, type WardLoggerOptions } from './logger.js';

/** A logger writing to an array of parsed JSON lines, and the raw text written. */
function capture(options: WardLoggerOptions = {}) {
  const chunks: string[] = [];
  const log = createLogger(options, { write: (s: string) => void chunks.push(s) });
  return {
    log,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
  };
}

/** Fresh, detectable canary values: a valid SSN, an e-mail, a phone number and a name. */
function canaries() {
  const surname = `Q${Array.from({ length: 7 }, () => String.fromCharCode(97 + randomInt(26))).join('')}`;
  return {
    ssn: `${randomInt(100, 666)}-${randomInt(10, 100)}-${randomInt(1000, 10000)}`,
    email: `canary.${randomInt(1e9)}@example.org`,
    phone: `(617) 555-${String(randomInt(100, 200)).padStart(4, '0')}`,
    name: `Maria ${surname}`,
    surname,
  };
}

const leaks = (text: string, c: ReturnType<typeof canaries>) =>
  [c.ssn, c.email, c.phone, c.surname, c.ssn.replace(/-/g, '')].filter((v) => text.includes(v));

describe('the scrubbing logger', () => {
  it('a planted canary never reaches the output stream, in any part of a record', () => {
    const c = canaries();
    const { log, text } = capture();
    const err = Object.assign(new Error(`insert failed for ssn ${c.ssn}`), { detail: `Key (email)=(${c.email}) exists` });
    err.cause = new Error(`lookup of ${c.phone} failed`);
    log.info(`created Patient ${c.name} with SSN ${c.ssn}`);
    log.info({ note: `call ${c.phone}`, nested: { deeper: [`mail ${c.email}`, { who: `Patient ${c.name}` }] } }, 'note saved');
    log.warn({ [`Patient ${c.name}`]: 1 }, 'odd key');
    log.error(err);
    log.error({ err }, 'wrapped');
    log.info('for %s: %s', `Patient ${c.name}`, c.email);
    const [area, group, serial] = c.ssn.split('-');
    log.info('split %s-%s-%s', area, group, serial);
    const child = log.child({ requestFor: `Patient ${c.name}`, contact: c.email }, { msgPrefix: `[${c.email}] ` });
    child.info({ phone2: c.phone }, 'from a child');
    child.child({ grandchild: c.ssn }).info('from a grandchild');
    log.info(
      { body: Buffer.from(`SSN ${c.ssn}`), tags: new Set([c.email]), url: new URL(`https://x.example.org/p?ssn=${c.ssn}`) },
      'things',
    );
    expect(leaks(text(), c)).toEqual([]);
    expect(text()).toContain('[SSN]');
  });

  it('values of sensitive keys are redacted at any depth, whatever their case or separators', () => {
    const { log, lines } = capture();
    log.info(
      { patient: { Date_Of_Birth: '1956-07-22', SSN: 'not-even-formatted', contact: { Email: 'x' } }, password: 'hunter2', count: 3 },
      'x',
    );
    const [line] = lines();
    expect(line.patient).toEqual({ Date_Of_Birth: '[REDACTED]', SSN: '[REDACTED]', contact: { Email: '[REDACTED]' } });
    expect(line.password).toBe('[REDACTED]');
    expect(line.count).toBe(3);
  });

  it('extra keys and pino redaction paths are redacted too', () => {
    const { log, lines } = capture({ redactKeys: ['favouriteColour'], redactPaths: ['req.body.freeText'] });
    log.info({ favourite_colour: 'teal', req: { body: { freeText: 'anything at all', ok: 'yes' } } }, 'x');
    const [line] = lines();
    expect(line.favourite_colour).toBe('[REDACTED]');
    expect(line.req.body).toEqual({ freeText: '[REDACTED]', ok: 'yes' });
  });

  it('keeps clean records as they are: valid JSON, fields and message intact', () => {
    const { log, lines } = capture({ base: { service: 'ward' } });
    const record = { reqId: 'req-1f3a', method: 'GET', url: '/v1/collections/patients/records/0190a8e2-7c1d', statusCode: 200 };
    log.info(record, 'request completed');
    expect(lines()[0]).toMatchObject({ ...record, msg: 'request completed', service: 'ward', level: 30 });
  });

  it('an error keeps its type and a scrubbed message and stack', () => {
    const { log, lines } = capture();
    log.error(new TypeError('bad value 219-09-9999'));
    const [line] = lines();
    expect(line.err).toMatchObject({ type: 'TypeError', message: 'bad value [SSN]' });
    expect(line.err.stack).toContain('TypeError: bad value [SSN]');
    expect(line.msg).toBe('bad value [SSN]');
  });

  it('a record seen clean before is still scrubbed when it changes: the clean-string cache holds no verdict for new text', () => {
    const c = canaries();
    const { log, text } = capture();
    for (let i = 0; i < 3; i++) log.info({ route: '/v1/records', note: 'all quiet' }, 'request completed');
    log.info({ route: '/v1/records', note: `call ${c.phone}` }, 'request completed');
    log.info({ route: '/v1/records', note: `call ${c.phone}` }, 'request completed');
    expect(leaks(text(), c)).toEqual([]);
    expect(text().match(/call \[PHONE\]/g)).toHaveLength(2);
    expect(text().match(/all quiet/g)).toHaveLength(3);
  });

  it('circular, deep and unusual values neither throw nor leak', () => {
    const c = canaries();
    const { log, lines } = capture();
    const loop: Record<string, unknown> = { note: `SSN ${c.ssn}` };
    loop.self = loop;
    let deep: Record<string, unknown> = { leaf: `mail ${c.email}` };
    for (let i = 0; i < 12; i++) deep = { deeper: deep };
    log.info({ loop, deep, when: new Date(0), tags: new Map([['k', c.phone]]) }, 'odd values');
    const [line] = lines();
    expect(line.loop.note).toBe('SSN [SSN]');
    expect(JSON.stringify(line)).not.toContain(c.email);
    expect(JSON.stringify(line)).not.toContain(c.phone);
    expect(line.when).toBe('1970-01-01T00:00:00.000Z');
  });

  it('honours the level', () => {
    const { log, text } = capture({ level: 'warn' });
    log.info('not written');
    log.warn('written');
    expect(text()).not.toContain('not written');
    expect(text()).toContain('written');
  });
});
