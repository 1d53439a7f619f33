/** A production space never serves a database whose keys were first made under a development master key. */
import { alarm, type Check, ok, skip } from '../types.js';

export const check: Check = {
  id: 'database-production-key',
  title: "The database's keys were made under a production master key",
  citations: ['164.312(a)(2)(iv)'],
  severity: 'fail',
  needs: ['master'],
  run({ config, master }) {
    if (!master) return skip('needs the master key');
    if (config.space.tier !== 'production') return skip('nonproduction space');
    if (master.createdWithDevKey === undefined) return skip('needs the database: which master key made its keys is recorded there');
    if (master.createdWithDevKey)
      return alarm("keys: this database's keys were created under a development master key; start production on a new database");
    return ok("the database's keys were made under a production master key");
  },
};
