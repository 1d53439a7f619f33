/**
 * The baseline: the same patients as plaintext text columns in one table, through a plain
 * node-postgres pool. Each operation is the single statement a hand-written app would issue.
 */
import pg from 'pg';
import { v7 as uuidv7 } from 'uuid';

export const FIELDS = ['mrn', 'name', 'ssn', 'dob', 'email', 'phone', 'zip', 'diagnosis', 'notes', 'plan'];
const COLS = ['id', ...FIELDS];

const INSERT_ONE = `INSERT INTO raw_patients (${COLS.join(', ')}) VALUES (${COLS.map((_, i) => `$${i + 1}`).join(', ')})`;
// Same shape as Ward's batch write: one statement over a JSON recordset.
const INSERT_MANY = `INSERT INTO raw_patients (${COLS.join(', ')})
  SELECT ${COLS.join(', ')} FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, ${FIELDS.map((f) => `${f} text`).join(', ')})`;

export async function openRaw(url, poolSize) {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  pool.on('error', () => {});
  await pool.query(`CREATE TABLE raw_patients (id uuid PRIMARY KEY, ${FIELDS.map((f) => `${f} text`).join(', ')})`);
  // The plaintext counterpart of what Ward's example collection enforces and indexes: a unique
  // mrn and equality search on mrn, name and email. Same guarantees, no encryption.
  await pool.query('CREATE UNIQUE INDEX raw_patients_mrn ON raw_patients (mrn)');
  await pool.query('CREATE INDEX raw_patients_name ON raw_patients (name)');
  await pool.query('CREATE INDEX raw_patients_email ON raw_patients (email)');
  return {
    pool,
    // Time-ordered ids like Ward's (uuid v7), so both primary keys see the same insert pattern.
    async create(p) {
      const id = uuidv7();
      await pool.query(INSERT_ONE, [id, ...FIELDS.map((f) => p[f])]);
      return id;
    },
    async createMany(ps) {
      const rows = ps.map((p) => ({ id: uuidv7(), ...p }));
      await pool.query(INSERT_MANY, [JSON.stringify(rows)]);
      return rows.map((r) => r.id);
    },
    get: async (id) => (await pool.query('SELECT * FROM raw_patients WHERE id = $1', [id])).rows[0],
    // ORDER BY/LIMIT mirror the contract of Ward's search (ordered by id, at most 100).
    search: async (name) => (await pool.query('SELECT * FROM raw_patients WHERE name = $1 ORDER BY id LIMIT 100', [name])).rows,
    close: () => pool.end(),
  };
}
