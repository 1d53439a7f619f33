/** A nonproduction space holds no real PHI: a sample of its records' values, run through the PHI detector, finds none. */
import { alarm, type Check, ok, skip } from '../types.js';

export const check: Check = {
  id: 'nonproduction-no-phi',
  title: 'A nonproduction space holds no PHI (sampled)',
  citations: ['164.308(a)(1)(ii)(B)'],
  severity: 'high',
  needs: ['database'],
  run({ database, config }) {
    if (!database) return skip('needs the database');
    if (config.space.tier === 'production') return skip('production space: PHI is expected there');
    const s = database.sample;
    if (!s) return skip('no records to sample');
    // The detector's types only (ssn, phone...), never a value.
    const evidence = { records: s.records, values: s.values, withPhi: s.withPhi, types: [...new Set(s.types)].sort() };
    if (s.withPhi > 0)
      return alarm(
        `${s.withPhi} of ${s.values} sampled value(s) in ${s.records} record(s) look like PHI (${evidence.types.join(', ') || 'unnamed types'}): ` +
          'a nonproduction space holds synthetic or de-identified data only; delete these records or end the space with `ward destroy`',
        evidence,
      );
    return ok(`the PHI detector found nothing in ${s.values} sampled value(s) of ${s.records} record(s)`, evidence);
  },
};
