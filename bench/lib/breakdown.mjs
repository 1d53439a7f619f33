/**
 * "Where the time goes": the CPU-only steps of a create (validation, AES-GCM, HMAC) called
 * directly, the database statement alone with everything precomputed, the whole operation,
 * the same split for a get, and on-disk bytes per row. All sequential, one call at a time.
 */
import { v7 as uuidv7 } from 'uuid';
import { validateRecord } from '../../dist/schema/collection.js';
import * as records from '../../dist/store/records.js';
import { patients } from './data.mjs';
import { microsPer, microsPerSync } from './measure.mjs';

const CPU_N = 2000; // records through the CPU-only steps
const DB_N = 300; // sequential round trips per measurement (plus 10% warm-up)

export async function whereTimeGoes(vault, raw) {
  const c = vault.collection('patients');
  const key = await vault.keyring.activeDataKey(c.name);
  const inputs = patients(CPU_N);
  const ids = inputs.map(() => uuidv7());
  const values = [];
  const sealed = [];
  const indexes = [];
  const tokens = [];
  const create = {
    validate: microsPerSync((i) => (values[i] = validateRecord(c, inputs[i]).values), CPU_N),
    seal: microsPerSync((i) => (sealed[i] = vault.codec.seal(c, ids[i], values[i], key)), CPU_N),
    indexes: microsPerSync((i) => (indexes[i] = vault.codec.indexes(c, ids[i], values[i])), CPU_N),
    tokens: microsPerSync((i) => (tokens[i] = vault.codec.tokens(c, ids[i], values[i])), CPU_N),
  };
  create.cpu = create.validate + create.seal + create.indexes + create.tokens;
  // The write statement alone (JSON encoding, the driver, the round trip, the server's work).
  create.statement = await microsPer(
    (k) => records.insertRecords(vault.db, c.name, key.version, c.retentionDays, [sealed[k]], indexes[k], tokens[k]),
    DB_N,
  );
  const [forWard, forRaw] = [patients(DB_N * 2), patients(DB_N * 2)];
  const rawIds = [];
  create.ward = await microsPer((k) => vault.create('patients', forWard[k]), DB_N);
  create.raw = await microsPer(async (k) => rawIds.push(await raw.create(forRaw[k])), DB_N);

  // A get: fetch the row, then decrypt its nine sealed fields.
  const all = [...c.fields.values()];
  const row = await records.selectRecord(vault.db, c.name, ids[0]);
  const get = {
    select: await microsPer((k) => records.selectRecord(vault.db, c.name, ids[k]), DB_N),
    open: await microsPer(() => vault.codec.open(c, row, all), CPU_N),
    ward: await microsPer((k) => vault.get('patients', ids[k]), DB_N),
    raw: await microsPer((k) => raw.get(rawIds[k]), DB_N),
  };

  const { rows } = await raw.pool.query(`SELECT
      pg_total_relation_size('ward_records') + pg_total_relation_size('ward_blind_index')
        + pg_total_relation_size('ward_tokens') AS ward_bytes,
      pg_total_relation_size('raw_patients') AS raw_bytes,
      (SELECT count(*) FROM ward_records) AS ward_rows,
      (SELECT count(*) FROM raw_patients) AS raw_rows`);
  const s = rows[0];
  const storage = {
    wardRows: Number(s.ward_rows),
    rawRows: Number(s.raw_rows),
    ward: Number(s.ward_bytes) / Number(s.ward_rows),
    raw: Number(s.raw_bytes) / Number(s.raw_rows),
  };
  return { create, get, storage };
}
