// The per-sender lock that claims and releases take turns under (index.ts), held until the transaction ends.
import type { Queryable } from "../../db/client.ts";

const LOCK = /* sql */ `SELECT pg_advisory_xact_lock(hashtext('wa-monitor:feedback:' || $1))`;

export async function lockSender(q: Queryable, sender: string): Promise<void> {
  await q.query(LOCK, [sender]);
}

/** The time to act at: read after the lock is held, so waiting for it never backdates a slot or a lease. */
export type Clock = () => Date;
