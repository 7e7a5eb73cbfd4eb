// pending → claimed: an agent's poll. Under the per-sender lock, expired claims are released first, then due
// messages are claimed for a lease, oldest first, one rate-limit slot each, recorded in the ledger in the same
// statement — three round trips in all (lock, release, claim), however many messages.
import type { FeedbackHandOut } from "@wa-monitor/shared";
import type { Db } from "../../db/client.ts";
import type { FeedbackLimits } from "../limits.ts";
import { lockSender, type Clock } from "./lock.ts";
import { releaseExpired } from "./release.ts";

// $1 now, $2 sender, $3/$4/$5 per minute/hour/day, $6 same-drop seconds, $7 most to hand out, $8 lease seconds.
// The scan's own LIMIT is the plain parameter $7, so the planner walks feedback_pending_idx in order and stops
// early (with the slots in that LIMIT it would sort every due row); the slots then cut the locked rows down. With
// no slot left the scan does not run at all (a one-time filter), so polls at the limit lock nothing.
const CLAIM = /* sql */ `
  WITH slots AS MATERIALIZED (
    SELECT greatest(0, least(
             $3 - count(*) FILTER (WHERE taken_at > $1::timestamptz - interval '1 minute'),
             $4 - count(*) FILTER (WHERE taken_at > $1::timestamptz - interval '1 hour'),
             $5 - count(*)))::int AS n
    FROM feedback_ledger
    WHERE sender = $2 AND taken_at > $1::timestamptz - interval '1 day'
  ),
  picked AS (
    SELECT f.id, f.due_at FROM feedback f
    WHERE f.status = 'pending' AND f.due_at <= $1
      AND (SELECT n FROM slots) > 0
      AND NOT EXISTS (SELECT 1 FROM feedback_ledger l
                      WHERE l.drop_number = f.drop_number AND l.feedback_id <> f.id
                        AND l.taken_at > $1::timestamptz - make_interval(secs => $6))
    ORDER BY f.due_at, f.id
    LIMIT $7
    FOR UPDATE SKIP LOCKED
  ),
  taken AS (SELECT id FROM picked ORDER BY due_at, id LIMIT (SELECT n FROM slots)),
  claimed AS (
    UPDATE feedback f
    SET status = 'claimed', claimed_until = $1::timestamptz + make_interval(secs => $8), attempts = attempts + 1,
        updated_at = $1
    FROM taken t WHERE f.id = t.id
    RETURNING f.id, f.group_jid, f.text, f.drop_number, f.mentions, f.due_at, f.attempts, f.claimed_until
  ),
  ledger AS (
    INSERT INTO feedback_ledger (sender, feedback_id, drop_number, taken_at)
    SELECT $2, id, drop_number, $1 FROM claimed
  )
  -- claimed.id, not the text column of the same name: ids in numeric order.
  SELECT id::text AS id, group_jid, text, drop_number, mentions, attempts, claimed_until
  FROM claimed ORDER BY claimed.due_at, claimed.id`;

/** Up to `max` messages for the agent to post, each with what is left of its lease on the edge's clock. */
export async function handOut(db: Pick<Db, "tx">, limits: FeedbackLimits, clock: Clock, max: number): Promise<FeedbackHandOut[]> {
  return db.tx(async (q) => {
    await lockSender(q, limits.sender);
    const now = clock();
    await releaseExpired(q, now, limits.maxAttempts);
    const rows = await q.query<{
      id: string;
      group_jid: string;
      text: string;
      drop_number: string;
      mentions: string[];
      attempts: number;
      claimed_until: Date;
    }>(CLAIM, [
      now,
      limits.sender,
      limits.perMinute,
      limits.perHour,
      limits.perDay,
      limits.sameDropSeconds,
      max,
      limits.leaseSeconds,
    ]);
    return rows.map((r) => ({
      id: r.id,
      chatJid: r.group_jid,
      text: r.text,
      dropNumber: r.drop_number,
      mentions: r.mentions,
      attempt: r.attempts,
      claimedUntil: new Date(r.claimed_until).toISOString(),
      leaseSeconds: Math.max(0, Math.floor((new Date(r.claimed_until).getTime() - now.getTime()) / 1000)),
    }));
  });
}
