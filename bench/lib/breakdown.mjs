/**
 * "Where the time goes", one operation at a time: the CPU-only steps of a create (validation,
 * then encoding: AES-GCM, HMAC blind indexes, tokens) called directly; the time spent inside
 * the vault's database calls (driver, loopback, server); and on-disk bytes per record.
 * Only Ward's stable surface is used (the Db the vault was opened on, validateRecord, a
 * RecordCodec over the vault's keys), so the split survives changes to Ward's SQL and schema.
 */
import { v7 as uuidv7 } from 'uuid';
import { Keyring, spaceBinding } from '../../dist/crypto/keyring.js';
import { loadMasterKey } from '../../dist/crypto/master-key.js';
import { fieldCrypto } from '../../dist/crypto/threads.js';
import { validateRecord } from '../../dist/schema/collection.js';
import { RecordCodec } from '../../dist/vault/codec.js';
import { patients } from './data.mjs';
import { microsPer, microsPerSync } from './measure.mjs';

const CPU_N = 2000; // records through the CPU-only steps
const DB_N = 300; // sequential operations per measurement (plus 10% warm-up)

/** Wraps db.query to add up the time spent inside it, in µs. */
function meterQueries(db) {
  const query = db.query;
  const meter = { micros: 0 };
  db.query = async (...args) => {
    const start = performance.now();
    try {
      return await query.apply(db, args);
    } finally {
      meter.micros += (performance.now() - start) * 1000;
    }
  };
  const restore = () => {
    db.query = query;
  };
  return { meter, restore };
}

/** Mean µs per op of `fn` and of the database calls inside it (after a 10% warm-up). */
async function split(db, fn, n) {
  await microsPer(fn, Math.ceil(n / 10), 0);
  const { meter, restore } = meterQueries(db);
  try {
    const total = await microsPer(fn, n, 0);
    return { total, db: meter.micros / n };
  } finally {
    restore();
  }
}

/** The same collection with search and tokens switched off: encoding it is sealing alone. */
function sealOnly(c) {
  const fields = [...c.fields].map(([name, f]) => [name, { ...f, searchable: false, unique: false, token: undefined }]);
  return { ...c, fields: new Map(fields) };
}

/** `db` is the database the vault was opened on (its calls are metered); `cfg` and `env` open a codec over its keys. */
export async function whereTimeGoes(vault, raw, { db, cfg, env }) {
  const c = vault.collection('patients');
  const keyring = await Keyring.open(db, loadMasterKey(cfg.keys, env), [c.name], spaceBinding(cfg.space.name, cfg.space.tier));
  const codec = new RecordCodec(keyring, fieldCrypto());
  if (typeof codec.encode !== 'function') throw new Error('bench/lib/breakdown.mjs: RecordCodec.encode is gone; update the breakdown');
  const key = await keyring.activeDataKey(c.name);
  const inputs = patients(CPU_N);
  const ids = inputs.map(() => uuidv7());
  const values = [];
  const bare = sealOnly(c);
  const create = {
    validate: microsPerSync((i) => (values[i] = validateRecord(c, inputs[i]).values), CPU_N),
    encode: microsPerSync((i) => codec.encode(c, ids[i], values[i], key), CPU_N),
    seal: microsPerSync((i) => codec.encode(bare, ids[i], values[i], key), CPU_N),
  };
  // Fresh records for each side (mrn is unique), generated up front so timing excludes it.
  const [forWard, forRaw] = [patients(DB_N * 2), patients(DB_N * 2)];
  const wardIds = [];
  const rawIds = [];
  const w = await split(db, async () => wardIds.push((await vault.create('patients', forWard[wardIds.length])).id), DB_N);
  Object.assign(create, {
    ward: w.total,
    db: w.db,
    raw: await microsPer(async () => rawIds.push(await raw.create(forRaw[rawIds.length])), DB_N),
  });
  const g = await split(db, (k) => vault.get('patients', wardIds[k % wardIds.length]), DB_N);
  const get = { ward: g.total, db: g.db, raw: await microsPer((k) => raw.get(rawIds[k % rawIds.length]), DB_N) };
  return { create, get, storage: await storage(raw.pool) };
}

/** Bytes per record: every ward_* relation (with its indexes and TOAST) vs the raw table. */
async function storage(pool) {
  const { rows } = await pool.query(`SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind = 'r' AND (c.relname LIKE 'ward\\_%' OR c.relname = 'raw_patients')`);
  const counts = (await pool.query('SELECT (SELECT count(*) FROM ward_records) AS ward, (SELECT count(*) FROM raw_patients) AS raw'))
    .rows[0];
  const ward = rows.filter((r) => r.name !== 'raw_patients');
  const rawBytes = Number(rows.find((r) => r.name === 'raw_patients').bytes);
  return {
    wardTables: ward.map((r) => r.name).sort(),
    wardRows: Number(counts.ward),
    rawRows: Number(counts.raw),
    ward: ward.reduce((sum, r) => sum + Number(r.bytes), 0) / Number(counts.ward),
    raw: rawBytes / Number(counts.raw),
  };
}
