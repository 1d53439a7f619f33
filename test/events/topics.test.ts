/** Topic declarations: the rules start-up enforces, each refusal naming the path and the fix, never quoting PHI. */
import { describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG } from '../../src/config/example.js';
import { WardError } from '../../src/errors.js';
import { EventWriter } from '../../src/events/outbox.js';
import { compileCollections, eventsOf } from '../../src/vault/open.js';
import { exampleConfig } from '../helpers.js';

const TOPIC = '    - name: local-dev.patients.refs.v1   # <space>.<domain>.<sensitivity>.v<n>; sensitivity: meta | public | refs';

/** The example with its topic's name line replaced, and more settings after it. */
function withTopic(name: string, extra = ''): string {
  if (!EXAMPLE_CONFIG.includes(TOPIC)) throw new Error('the example topic moved; update this test');
  return EXAMPLE_CONFIG.replace(TOPIC, `    - name: ${name}${extra}`).replace(
    /topics: \[local-dev\.patients\.refs\.v1\]/,
    `topics: [${name}]`,
  );
}

function refusal(text: string): string {
  const cfg = exampleConfig(text);
  try {
    eventsOf(cfg, compileCollections(cfg));
  } catch (e) {
    expect(e).toBeInstanceOf(WardError);
    expect((e as WardError).code).toBe('config_invalid');
    return (e as WardError).message;
  }
  throw new Error('the configuration was accepted');
}

describe('topic declarations', () => {
  it('the example compiles, with a JSON Schema per topic that lists only what may travel', () => {
    const cfg = exampleConfig();
    const events = eventsOf(cfg, compileCollections(cfg));
    const schema = events.topics.get('local-dev.patients.refs.v1')?.schema as { properties: Record<string, { properties?: object }> };
    expect(Object.keys(schema.properties.keys?.properties ?? {})).toEqual(['ssn']);
    expect(Object.keys(schema.properties.public?.properties ?? {})).toEqual(['plan']);
    expect(schema).toMatchObject({ additionalProperties: false });
  });

  it.each([
    ['no version', 'local-dev.patients.refs', 'must be <space>.<domain>.<sensitivity>.v<n>'],
    ['capitals', 'local-dev.Patients.refs.v1', 'must be <space>.<domain>.<sensitivity>.v<n>'],
    ['another space', 'prod.patients.refs.v1', "must start with this space's name, local-dev"],
    ['an unknown sensitivity', 'local-dev.patients.secret.v1', 'the sensitivity must be one of meta, public, refs'],
  ])('refuses a topic name with %s', (_what, name, message) => {
    expect(refusal(withTopic(name))).toContain(`events.topics[0].name: ${message}`);
  });

  it('rule: a topic name the PHI detector flags is refused, and the name is not repeated', () => {
    for (const name of ['local-dev.john-smith.refs.v1', 'local-dev.ssn-123-45-6789.refs.v1']) {
      const message = refusal(withTopic(name));
      expect(message).toMatch(/events\.topics\[0\]\.name: the PHI detector finds a \w+ in it/);
      expect(message).not.toContain('smith');
      expect(message).not.toContain('6789');
    }
  });

  it('rule: a key field without a deterministic token is refused', () => {
    const text = withTopic('local-dev.patients.refs.v1').replace('keys: [ssn]', 'keys: [email]');
    expect(refusal(text)).toContain(
      'events.topics[0].keys: field email of patients has no deterministic token; declare token: deterministic on it',
    );
  });

  it('rule: a topic that names an identifier or clinical field as a public property is refused', () => {
    expect(refusal(EXAMPLE_CONFIG.replace('public: [plan]', 'public: [plan, name]'))).toContain(
      'events.topics[0].public: field name of patients is an identifier field; only public fields may travel as values',
    );
    expect(refusal(EXAMPLE_CONFIG.replace('public: [plan]', 'public: [diagnosis]'))).toContain(
      'field diagnosis of patients is an clinical field',
    );
  });

  it('rule: the content must fit the sensitivity the name declares', () => {
    expect(refusal(withTopic('local-dev.patients.public.v1'))).toContain('events.topics[0].keys: only a refs topic may carry tokens');
    expect(refusal(withTopic('local-dev.patients.meta.v1').replace('keys: [ssn]', 'keys: []'))).toContain(
      'events.topics[0].public: a meta topic carries no values',
    );
  });

  it('refuses consumers that name an undeclared topic or role, and unknown collections', () => {
    const text = EXAMPLE_CONFIG.replace('role: billing', 'role: nobody')
      .replace('topics: [local-dev.patients.refs.v1]', 'topics: [local-dev.patients.refs.v2]')
      .replace(
        'collections: [patients]\n      actions: [create, update, delete]',
        'collections: [patients, visits]\n      actions: [create, update, delete]',
      );
    const message = refusal(text);
    expect(message).toContain('events.consumers[0].role: unknown role nobody; declare it under roles');
    expect(message).toContain('events.consumers[0].topics[0]: not a topic declared under events.topics');
    expect(message).toContain('events.topics[0].collections: unknown collection visits');
  });

  it('rule: an event that does not fit its topic schema fails closed with event_invalid, naming no value', () => {
    const cfg = exampleConfig();
    const events = eventsOf(cfg, compileCollections(cfg));
    const writer = new EventWriter(events.topics, 'local-dev', () => '0190a0a0-0000-7000-8000-000000000001');
    const patients = compileCollections(cfg).get('patients');
    if (!patients) throw new Error('no patients');
    const change = {
      collection: patients,
      action: 'create' as const,
      recordId: '0190a0a0-0000-7000-8000-000000000002',
      version: 1,
      fields: ['ssn'],
    };
    expect(writer.rows({ ...change, tokens: { ssn: `dtk_${'a'.repeat(24)}` }, public: { plan: 'gold' } })).toHaveLength(1);
    // A value where a token belongs: refused before anything is written.
    expect(() => writer.rows({ ...change, tokens: { ssn: '123-45-6789' }, public: {} })).toThrow(
      expect.objectContaining({ code: 'event_invalid', message: expect.not.stringContaining('6789') }),
    );
  });
});
