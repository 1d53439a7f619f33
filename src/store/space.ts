/** SQL for the space a database belongs to. No business rules here. */
import type { Queryable } from './db.js';

/** Records the space if none is yet, and returns the one recorded. */
export async function claimSpace(q: Queryable, name: string, tier: string): Promise<{ name: string; tier: string }> {
  await q.query('INSERT INTO ward_space (name, tier) VALUES ($1, $2) ON CONFLICT (only_row) DO NOTHING', [name, tier]);
  const [row] = await q.query<{ name: string; tier: string }>('SELECT name, tier FROM ward_space');
  return row ?? { name, tier };
}
