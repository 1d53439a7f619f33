/**
 * Which master key wrapped what. Each master key a database's keys were ever wrapped under is an
 * epoch (ward_master_epochs), known by its key check value; every wrapped key row records its
 * epoch. Normally one master key serves; during `ward keys rotate --master` the new key
 * (`keys`) wraps and the old one (`keys.previous`) still unwraps what is not yet rewrapped.
 */
import { WardError } from '../errors.js';
import type { Queryable } from '../store/db.js';
import * as keys from '../store/keys.js';
import { constantTimeEqual } from './derive.js';
import type { MasterKey, Masters } from './master-key.js';

export class MasterRing {
  private constructor(
    readonly current: MasterKey,
    /** The epoch of the current master key: new keys are wrapped under it. */
    readonly epoch: number,
    private readonly previous: { key: MasterKey; epoch: number } | undefined,
    /** True when the database's keys were first wrapped by a development key (whatever wraps them now). */
    readonly createdWithDevKey: boolean,
  ) {}

  /**
   * Checks the configured master key(s) against the database (recording the first on a new
   * database). The current key must be the newest epoch's; `keys.previous`, when set, an earlier one.
   */
  static async open(db: Queryable, masters: Masters): Promise<MasterRing> {
    const check = await masters.current.checkValue();
    await keys.insertFirstEpoch(db, check, masters.current.dev, masters.current.provider);
    await keys.insertMasterCheck(db, check, masters.current.dev); // read by Wards from before epochs
    const epochs = await keys.selectEpochs(db);
    const newest = epochs.at(-1) as keys.EpochRow;
    const mine = epochs.find((e) => constantTimeEqual(e.checkValue, check));
    if (!mine) throw mismatch(masters.current);
    if (mine.epoch !== newest.epoch)
      throw new WardError(
        'master_key_mismatch',
        `the master key from ${masters.current.source} was replaced on ${newest.createdAt.toISOString()} (ward keys rotate --master): ` +
          `configure keys with the new master key${newest.completedAt ? '' : ' and keys.previous with this one until the rotation completes'}`,
      );
    return new MasterRing(masters.current, mine.epoch, await previousOf(masters, epochs, mine.epoch), epochs[0]?.dev ?? false);
  }

  /**
   * The start (or resumption) of a master rotation: `keys` names the new master key, `keys.previous`
   * the one the database's keys are wrapped under now. Adds the new key as the next epoch.
   */
  static async beginRotation(db: Queryable, masters: Masters): Promise<MasterRing> {
    if (!masters.previous)
      throw new WardError(
        'invalid_request',
        'a master rotation needs both keys: keys (the new master key) and keys.previous (the one the keys are wrapped under now)',
      );
    const check = await masters.current.checkValue();
    const epochs = await keys.selectEpochs(db);
    const newest = epochs.at(-1);
    if (!newest) throw new WardError('invalid_request', 'this database has no keys yet: there is nothing to rotate');
    if (!epochs.some((e) => constantTimeEqual(e.checkValue, check))) {
      if (!newest.completedAt)
        throw new WardError(
          'invalid_request',
          `the rotation to master key epoch ${newest.epoch} has not finished: finish it first (keys: that key, keys.previous: the one before, ward keys rotate --master)`,
        );
      const before = await masters.previous.checkValue();
      if (!constantTimeEqual(newest.checkValue, before))
        throw new WardError(
          'master_key_mismatch',
          `keys.previous (${masters.previous.source}) is not the master key this database's keys are wrapped under now`,
        );
      await keys.insertNextEpoch(db, newest.epoch, check, masters.current.dev, masters.current.provider);
    }
    return MasterRing.open(db, masters);
  }

  /** The master key of an epoch, or a clear refusal when it is not configured. */
  forEpoch(epoch: number): MasterKey {
    if (epoch === this.epoch) return this.current;
    if (this.previous && epoch === this.previous.epoch) return this.previous.key;
    throw new WardError(
      'master_key_mismatch',
      `some keys are still wrapped under an earlier master key (epoch ${epoch}): set keys.previous to that key and finish the rotation with ward keys rotate --master`,
    );
  }

  /** The epoch keys.previous names, when set. */
  get previousEpoch(): number | undefined {
    return this.previous?.epoch;
  }
}

function mismatch(master: MasterKey): WardError {
  return new WardError(
    'master_key_mismatch',
    `the master key from ${master.source} is not the key this database's keys were wrapped with; set the right WARD_MASTER_KEY or keys`,
  );
}

async function previousOf(
  masters: Masters,
  epochs: keys.EpochRow[],
  current: number,
): Promise<{ key: MasterKey; epoch: number } | undefined> {
  if (!masters.previous) return undefined;
  const check = await masters.previous.checkValue();
  const e = epochs.find((x) => constantTimeEqual(x.checkValue, check));
  if (!e || e.epoch >= current)
    throw new WardError(
      'master_key_mismatch',
      `keys.previous (${masters.previous.source}) is not a master key this database's keys were wrapped under before the current one`,
    );
  return { key: masters.previous, epoch: e.epoch };
}
