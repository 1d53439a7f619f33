/**
 * Change events carry no PHI (45 CFR 164.312(e)(1), 164.502(b)): the same rules start-up applies
 * to events.topics (events/topics), reported before start-up refuses. A topic's name (and a
 * consumer's, a broker's durable name) holds nothing the PHI detector flags, read as written and
 * as words; `public` lists only public fields (values travel as they are); `keys` lists only
 * fields with deterministic tokens (a token travels, never the value). A name the detector flags
 * is never quoted: it is named by its place in ward.yaml.
 */
import { phiInName } from '../../detect/scrub.js';
import { alarm, type Check, info, ok } from '../types.js';

export const check: Check = {
  id: 'topics-phi-free',
  title: 'Event topics carry no PHI in their names or contents',
  citations: ['164.312(e)(1)', '164.502(b)'],
  severity: 'high',
  needs: [],
  run({ config }) {
    const { topics, consumers } = config.events;
    if (!topics.length) return info('events.topics: no topic is declared, so no change event leaves the vault', { topics: 0 });
    const problems: string[] = [];
    topics.forEach((t, i) => {
      const at = `events.topics[${i}]`;
      const phi = phiInName(t.name);
      if (phi) problems.push(`${at}.name: the PHI detector finds a ${phi} in it`);
      for (const c of t.collections) {
        const fields = config.collections[c]?.fields;
        if (!fields) continue;
        for (const p of t.public) {
          const f = fields[p];
          if (f && f.class !== 'public') problems.push(`${at}.public: ${p} of ${c} is an ${f.class} field`);
        }
        for (const k of t.keys) {
          const f = fields[k];
          if (f && f.token !== 'deterministic') problems.push(`${at}.keys: ${k} of ${c} has no deterministic token`);
        }
      }
    });
    consumers.forEach((c, i) => {
      const phi = phiInName(c.name);
      if (phi) problems.push(`events.consumers[${i}].name: the PHI detector finds a ${phi} in it`);
    });
    if (problems.length)
      return alarm(
        `events.topics: ${problems.length} problem(s) would put PHI in change events (${problems.join('; ')}); rename the topic or consumer, list only public fields in public and fields with token: deterministic in keys`,
        { problems, topics: topics.length },
      );
    return ok(`events.topics: ${topics.length} topic(s) carry public values and tokens only, under names free of PHI`, {
      topics: topics.length,
      consumers: consumers.length,
    });
  },
};
