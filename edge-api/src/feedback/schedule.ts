// Sessions whose agent stopped sending heartbeats are flagged stale by cron. (Not feedback: it moves to the
// sessions code in issue 9; the feedback queue is in queue/.)
import type { Queryable } from "../db/client.ts";

const MARK_STALE = /* sql */ `
  UPDATE bridges SET stale = true
  WHERE NOT stale AND last_heartbeat_at < $1::timestamptz - make_interval(secs => $2)
  RETURNING agent, session`;

export async function markStaleBridges(db: Queryable, now: Date, staleSeconds: number): Promise<number> {
  return (await db.query(MARK_STALE, [now, staleSeconds])).length;
}
