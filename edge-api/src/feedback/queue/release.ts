// claimed → pending, or failed when out of attempts: the lease ran out and no ack came. Pending again, the
// message keeps its due time, so it is the first to be claimed again (taking a new slot).
import type { Db, Queryable } from "../../db/client.ts";
import type { FeedbackLimits } from "../limits.ts";
import { lockSender, type Clock } from "./lock.ts";

const RELEASE_EXPIRED = /* sql */ `
  WITH released AS (
    UPDATE feedback
    SET status        = CASE WHEN attempts >= $2 THEN 'failed' ELSE 'pending' END,
        claimed_until = NULL,
        error         = 'no ack before the lease expired',
        updated_at    = $1
    WHERE status = 'claimed' AND claimed_until <= $1
    RETURNING status
  )
  SELECT count(*) FILTER (WHERE status = 'pending')::int AS released,
         count(*) FILTER (WHERE status = 'failed')::int AS failed
  FROM released`;

export type Released = {
  /** Pending again. */
  released: number;
  /** Out of attempts. */
  failed: number;
};

/** Under the caller's per-sender lock. */
export async function releaseExpired(q: Queryable, now: Date, maxAttempts: number): Promise<Released> {
  const [row] = await q.query<Released>(RELEASE_EXPIRED, [now, maxAttempts]);
  return row!;
}

/** Cron: so that an expired claim is pending (or failed) again even while no agent polls. */
export async function releaseExpiredClaims(db: Pick<Db, "tx">, limits: FeedbackLimits, clock: Clock): Promise<Released> {
  return db.tx(async (q) => {
    await lockSender(q, limits.sender);
    return releaseExpired(q, clock(), limits.maxAttempts);
  });
}
