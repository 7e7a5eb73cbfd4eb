// Moving due feedback to "ready" within the rate limits. One transaction holds a per-sender advisory lock, so
// overlapping cron runs and agent polls take turns: each counts the slots already taken in the ledger and
// takes what is left, in the same transaction that marks the messages ready. The clock is a parameter so
// tests can drive it.
import type { Db, Queryable } from "../db/client.ts";
import type { FeedbackLimits } from "./limits.ts";

// Claims whose ack never came: hand them out again (they keep the slot they took), or give up after N tries.
const RELEASE_EXPIRED = /* sql */ `
  UPDATE feedback
  SET status        = CASE WHEN attempts >= $2 THEN 'failed' ELSE 'ready' END,
      claimed_until = NULL,
      error         = 'no ack before the lease expired',
      updated_at    = $1
  WHERE status = 'claimed' AND claimed_until <= $1
  RETURNING id, status`;

const PROMOTE = /* sql */ `
  WITH used AS (
    SELECT count(*) FILTER (WHERE taken_at > $1::timestamptz - interval '1 minute') AS minute,
           count(*) FILTER (WHERE taken_at > $1::timestamptz - interval '1 hour')   AS hour,
           count(*)                                                                AS day
    FROM feedback_ledger
    WHERE sender = $2 AND taken_at > $1::timestamptz - interval '1 day'
  ),
  capacity AS (
    SELECT greatest(0, least($3 - minute, $4 - hour, $5 - day)) AS n FROM used
  ),
  candidates AS (
    -- At most one per drop, and none for a drop that had feedback within the quiet period.
    SELECT DISTINCT ON (f.drop_number) f.id, f.drop_number, f.due_at
    FROM feedback f
    WHERE f.status = 'pending' AND f.due_at <= $1
      AND NOT EXISTS (
        SELECT 1 FROM feedback_ledger l
        WHERE l.drop_number = f.drop_number AND l.taken_at > $1::timestamptz - make_interval(secs => $6)
      )
    ORDER BY f.drop_number, f.due_at, f.id
  ),
  picked AS (
    SELECT id FROM candidates ORDER BY due_at, id LIMIT (SELECT n FROM capacity)
  ),
  promoted AS (
    -- Re-checks status: a review or resubmission may have cancelled it meanwhile.
    UPDATE feedback f SET status = 'ready', ready_at = $1, updated_at = $1
    FROM picked p
    WHERE f.id = p.id AND f.status = 'pending'
    RETURNING f.id, f.drop_number
  )
  INSERT INTO feedback_ledger (sender, feedback_id, drop_number, taken_at)
  SELECT $2, id, drop_number, $1 FROM promoted
  RETURNING feedback_id::text AS id`;

export interface PromoteResult {
  promoted: string[];
  released: number;
  failed: number;
}

export async function promoteDue(db: Pick<Db, "tx">, limits: FeedbackLimits, now: Date): Promise<PromoteResult> {
  return db.tx(async (q: Queryable) => {
    await q.query("SELECT pg_advisory_xact_lock(hashtext('wa-monitor:feedback:' || $1))", [limits.sender]);
    const released = await q.query<{ id: string; status: string }>(RELEASE_EXPIRED, [now, limits.maxAttempts]);
    const promoted = await q.query<{ id: string }>(PROMOTE, [
      now,
      limits.sender,
      limits.perMinute,
      limits.perHour,
      limits.perDay,
      limits.sameDropSeconds,
    ]);
    return {
      promoted: promoted.map((r) => r.id),
      released: released.filter((r) => r.status === "ready").length,
      failed: released.filter((r) => r.status === "failed").length,
    };
  });
}

const MARK_STALE = /* sql */ `
  UPDATE bridges SET stale = true
  WHERE NOT stale AND last_heartbeat_at < $1::timestamptz - make_interval(secs => $2)
  RETURNING agent, session`;

export async function markStaleBridges(db: Queryable, now: Date, staleSeconds: number): Promise<number> {
  return (await db.query(MARK_STALE, [now, staleSeconds])).length;
}
