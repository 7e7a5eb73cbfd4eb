// Feedback leaves under the rate limits. A rate-limit slot is taken when a message is handed to an agent (the
// claim), recorded in a ledger; the limits are counts over that ledger in sliding windows. Every step runs in
// a transaction holding a per-sender advisory lock, so overlapping cron runs and agent polls take turns.
//
//   promote (cron and polls): due pending → ready, never more ready than the slots left right now
//   claim   (polls):          ready → claimed for a lease, one slot each, re-checked against the ledger
//
// Because a slot is only taken at the claim, messages that pile up while no agent can send still leave at
// the limited pace afterwards, never in a burst. The clock is a parameter so tests can drive it.
import type { OutboxMessage } from "@wa-monitor/shared";
import type { Db, Queryable } from "../db/client.ts";
import type { FeedbackLimits } from "./limits.ts";

const LOCK = /* sql */ `SELECT pg_advisory_xact_lock(hashtext('wa-monitor:feedback:' || $1))`;

// Claims whose ack never came: handed out again (taking a new slot), or given up after N tries.
const RELEASE_EXPIRED = /* sql */ `
  UPDATE feedback
  SET status        = CASE WHEN attempts >= $2 THEN 'failed' ELSE 'ready' END,
      claimed_until = NULL,
      error         = 'no ack before the lease expired',
      updated_at    = $1
  WHERE status = 'claimed' AND claimed_until <= $1
  RETURNING id, status`;

// Slots left now: the tightest of the three windows.
const SLOTS_LEFT = /* sql */ `
  SELECT greatest(0, least(
           $3 - count(*) FILTER (WHERE taken_at > $1::timestamptz - interval '1 minute'),
           $4 - count(*) FILTER (WHERE taken_at > $1::timestamptz - interval '1 hour'),
           $5 - count(*)))::int AS n
  FROM feedback_ledger
  WHERE sender = $2 AND taken_at > $1::timestamptz - interval '1 day'`;

// A drop is quiet while another message of its own was handed out within the period.
const QUIET = /* sql */ `
  EXISTS (SELECT 1 FROM feedback_ledger l
          WHERE l.drop_number = f.drop_number AND l.feedback_id <> f.id
            AND l.taken_at > $1::timestamptz - make_interval(secs => $2))`;

const PROMOTE = /* sql */ `
  WITH candidates AS (
    -- At most one per drop, none for a drop with a message already on its way or in its quiet period.
    SELECT DISTINCT ON (f.drop_number) f.id, f.due_at
    FROM feedback f
    WHERE f.status = 'pending' AND f.due_at <= $1
      AND NOT ${QUIET}
      AND NOT EXISTS (SELECT 1 FROM feedback o WHERE o.drop_number = f.drop_number AND o.status IN ('ready', 'claimed'))
    ORDER BY f.drop_number, f.due_at, f.id
  ),
  picked AS (
    SELECT id FROM candidates ORDER BY due_at, id
    LIMIT greatest(0, $3::int - (SELECT count(*) FROM feedback WHERE status = 'ready'))
  )
  -- Re-checks status: a review or resubmission may have cancelled it meanwhile.
  UPDATE feedback f SET status = 'ready', ready_at = $1, updated_at = $1
  FROM picked p
  WHERE f.id = p.id AND f.status = 'pending'
  RETURNING f.id::text AS id`;

const CLAIM = /* sql */ `
  WITH picked AS (
    SELECT f.id FROM feedback f
    WHERE f.status = 'ready' AND NOT ${QUIET}
    ORDER BY f.ready_at, f.id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
  ),
  claimed AS (
    UPDATE feedback f
    SET status = 'claimed', claimed_until = $1::timestamptz + make_interval(secs => $4), attempts = attempts + 1,
        updated_at = $1
    FROM picked p WHERE f.id = p.id
    RETURNING f.id, f.group_jid, f.text, f.drop_number, f.mentions, f.ready_at, f.attempts, f.claimed_until
  ),
  slots AS (
    INSERT INTO feedback_ledger (sender, feedback_id, drop_number, taken_at)
    SELECT $5, id, drop_number, $1 FROM claimed
  )
  SELECT id::text AS id, group_jid, text, drop_number, mentions, attempts, claimed_until FROM claimed ORDER BY ready_at, id`;

export interface ScheduleResult {
  promoted: string[];
  released: number;
  failed: number;
}

async function slotsLeft(q: Queryable, limits: FeedbackLimits, now: Date): Promise<number> {
  const [row] = await q.query<{ n: number }>(SLOTS_LEFT, [now, limits.sender, limits.perMinute, limits.perHour, limits.perDay]);
  return row!.n;
}

async function releaseAndPromote(q: Queryable, limits: FeedbackLimits, now: Date): Promise<ScheduleResult> {
  const released = await q.query<{ id: string; status: string }>(RELEASE_EXPIRED, [now, limits.maxAttempts]);
  const slots = await slotsLeft(q, limits, now);
  const promoted = slots > 0 ? await q.query<{ id: string }>(PROMOTE, [now, limits.sameDropSeconds, slots]) : [];
  return {
    promoted: promoted.map((r) => r.id),
    released: released.filter((r) => r.status === "ready").length,
    failed: released.filter((r) => r.status === "failed").length,
  };
}

/** The time to act at: read after the lock is held, so waiting for it never backdates a slot. */
export type Clock = () => Date;

/** Cron: release expired leases and move due messages to ready, within the slots left. */
export async function promoteDue(db: Pick<Db, "tx">, limits: FeedbackLimits, clock: Clock): Promise<ScheduleResult> {
  return db.tx(async (q) => {
    await q.query(LOCK, [limits.sender]);
    return releaseAndPromote(q, limits, clock());
  });
}

/** Agent poll: the same, then hand out up to `max` ready messages, one rate-limit slot each. */
export async function handOut(db: Pick<Db, "tx">, limits: FeedbackLimits, clock: Clock, max: number): Promise<OutboxMessage[]> {
  return db.tx(async (q) => {
    await q.query(LOCK, [limits.sender]);
    const now = clock();
    await releaseAndPromote(q, limits, now);
    const take = Math.min(max, await slotsLeft(q, limits, now));
    if (take <= 0) return [];
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
      limits.sameDropSeconds,
      take,
      limits.leaseSeconds,
      limits.sender,
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

const MARK_STALE = /* sql */ `
  UPDATE bridges SET stale = true
  WHERE NOT stale AND last_heartbeat_at < $1::timestamptz - make_interval(secs => $2)
  RETURNING agent, session`;

export async function markStaleBridges(db: Queryable, now: Date, staleSeconds: number): Promise<number> {
  return (await db.query(MARK_STALE, [now, staleSeconds])).length;
}
