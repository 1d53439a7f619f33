/** A production space runs on a PostgreSQL server (backed up, replicated), never the embedded database. */
import { alarm, type Check, ok, skip } from '../types.js';

export const check: Check = {
  id: 'database-server',
  title: 'Production data lives on a PostgreSQL server, not the embedded database',
  citations: ['164.308(a)(7)(ii)(A)', '164.312(c)(1)'],
  severity: 'fail',
  needs: [],
  run({ config }) {
    if (config.space.tier !== 'production') return skip('nonproduction space: the embedded database is allowed');
    if (config.database.kind === 'embedded')
      return alarm('database: the embedded database is for development; set database.url or DATABASE_URL to a PostgreSQL server');
    return ok('the database is a PostgreSQL server', { source: config.database.source });
  },
};
