/**
 * The sealed audit log of one database: its signing keys, its sealer, verification and the
 * checkpoints an auditor exports.
 */
import type { MasterKey } from '../crypto/master-key.js';
import type { Db } from '../store/db.js';
import * as store from '../store/seal.js';
import { type ExportedCheckpoint, exportCheckpoint } from './checkpoint.js';
import { Sealer, type SealResult } from './seal.js';
import { SigningKeys } from './signing.js';
import { type VerifyReport, verifyLog } from './verify.js';

export class AuditLog {
  readonly sealer: Sealer;

  private constructor(
    private readonly db: Db,
    readonly keys: SigningKeys,
  ) {
    this.sealer = new Sealer(db, keys);
  }

  static async open(db: Db, master: MasterKey): Promise<AuditLog> {
    return new AuditLog(db, await SigningKeys.open(db, master));
  }

  /** Seals what can be sealed; `waitMs` waits that long for open transactions to finish. */
  seal(waitMs = 0): Promise<SealResult> {
    return this.sealer.sealAll(waitMs);
  }

  verify(since?: ExportedCheckpoint): Promise<VerifyReport> {
    return verifyLog(this.db, this.keys, since);
  }

  /** The newest signed checkpoint, in the form an auditor keeps; undefined before the first seal. */
  async checkpoint(): Promise<ExportedCheckpoint | undefined> {
    const head = await store.latestCheckpoint(this.db);
    if (!head) return undefined;
    if (!this.keys.publicKey(head.keyVersion)) await this.keys.refresh(); // rotated by another process
    const key = this.keys.publicKey(head.keyVersion);
    return key && exportCheckpoint(head, key);
  }
}
