// Feedback leaves under the rate limits. A rate-limit slot is taken when a message is handed to an agent (the
// claim), recorded in a ledger; the limits are counts over that ledger in sliding windows. Every step runs in
// a transaction holding a per-sender advisory lock, so overlapping cron runs and agent polls take turns.
//
//   promote (cron and polls): due pending → ready, never more ready than the slots left right now
//   claim   (polls):          ready → claimed for a lease, one slot each, re-checked against the ledger
//
// Because a slot is only taken at the claim, messages that pile up while no agent can send still leave at
// the limited pace afterwards, never in a burst. The clock is a parameter so tests can drive it.
import type { FeedbackHandOut } from "@wa-monitor/shared";
import type { Db, Queryable } from "../db/client.ts";
import type { FeedbackLimits } from "./limits.ts";

const LOCK = /* sql */ `SELECT pg_advisory_xact_lock(hashtext('wa-monitor:feedback:' || $1))`;

// The statements below run while the lock is held, so each is one round trip doing a whole step. Parameters:
// $1 now, $2 sender, $3/$4/$5 per minute/hour/day, $6 same-drop seconds, then each statement's own.

// Slots left now: the tightest of the three windows.
const SLOTS_LEFT = /* sql */ `
  SELECT greatest(0, least(
           $3 - count(*) FILTER (WHERE taken_at > $1::timestamptz - interval '1 minute'),
           $4 - count(*) FILTER (WHERE taken_at > $1::timestamptz - interval '1 hour'),
           $5 - count(*)))::int
  FROM feedback_ledger
  WHERE sender = $2 AND taken_at > $1::timestamptz - interval '1 day'`;

// A drop is quiet while another message of its own was handed out within the period.
const QUIET = /* sql */ `
  EXISTS (SELECT 1 FROM feedback_ledger l
          WHERE l.drop_number = f.drop_number AND l.feedback_id <> f.id
            AND l.taken_at > $1::timestamptz - make_interval(secs => $6))`;

// Claims whose ack never came are released — handed out again (taking a new slot) or given up after $7 tries —
// and due messages move to ready, never more ready than the slots left: at most one per drop, none for a drop
// with a message already on its way or in its quiet period. The released rows still read as claimed in this
// statement's snapshot, so their drops get no second message now, as if the release had run first; the room
// for promotion counts those handed out again as ready.
const RELEASE_AND_PROMOTE = /* sql */ `
  WITH released AS (
    UPDATE feedback
    SET status        = CASE WHEN attempts >= $7 THEN 'failed' ELSE 'ready' END,
        claimed_until = NULL,
        error         = 'no ack before the lease expired',
        updated_at    = $1
    WHERE status = 'claimed' AND claimed_until <= $1
    RETURNING id, status
  ),
  room AS (
    SELECT greatest(0, (${SLOTS_LEFT})
                       - (SELECT count(*) FROM feedback WHERE status = 'ready')
                       - (SELECT count(*) FROM released WHERE status = 'ready')) AS n
  ),
  candidates AS (
    SELECT DISTINCT ON (f.drop_number) f.id, f.due_at
    FROM feedback f
    WHERE f.status = 'pending' AND f.due_at <= $1
      AND NOT ${QUIET}
      AND NOT EXISTS (SELECT 1 FROM feedback o WHERE o.drop_number = f.drop_number AND o.status IN ('ready', 'claimed'))
    ORDER BY f.drop_number, f.due_at, f.id
  ),
  picked AS (SELECT id FROM candidates ORDER BY due_at, id LIMIT (SELECT n FROM room)),
  -- Re-checks status: a review or resubmission may have cancelled it meanwhile.
  promoted AS (
    UPDATE feedback f SET status = 'ready', ready_at = $1, updated_at = $1
    FROM picked p
    WHERE f.id = p.id AND f.status = 'pending'
    RETURNING f.id
  )
  SELECT (SELECT coalesce(array_agg(id::text ORDER BY id), '{}') FROM promoted) AS promoted,
         (SELECT count(*) FROM released WHERE status = 'ready')::int AS released,
         (SELECT count(*) FROM released WHERE status = 'failed')::int AS failed`;

// Up to $7 ready messages, never more than the slots left, claimed for a lease of $8 seconds: one slot each.
// The scan's own LIMIT is the plain parameter, so the planner walks feedback_ready_idx in order and stops early;
// the slots cut the locked rows down afterwards.
const CLAIM = /* sql */ `
  WITH picked AS (
    SELECT f.id, f.ready_at FROM feedback f
    WHERE f.status = 'ready' AND NOT ${QUIET}
    ORDER BY f.ready_at, f.id
    LIMIT $7
    FOR UPDATE SKIP LOCKED
  ),
  taken AS (SELECT id FROM picked ORDER BY ready_at, id LIMIT (${SLOTS_LEFT})),
  claimed AS (
    UPDATE feedback f
    SET status = 'claimed', claimed_until = $1::timestamptz + make_interval(secs => $8), attempts = attempts + 1,
        updated_at = $1
    FROM taken t WHERE f.id = t.id
    RETURNING f.id, f.group_jid, f.text, f.drop_number, f.mentions, f.ready_at, f.attempts, f.claimed_until
  ),
  slots AS (
    INSERT INTO feedback_ledger (sender, feedback_id, drop_number, taken_at)
    SELECT $2, id, drop_number, $1 FROM claimed
  )
  -- claimed.id, not the text column of the same name: ids in numeric order.
  SELECT id::text AS id, group_jid, text, drop_number, mentions, attempts, claimed_until
  FROM claimed ORDER BY claimed.ready_at, claimed.id`;

/** The statements of a hand-out, in the order a poll runs them (the benchmark EXPLAINs them). */
export const HAND_OUT_SQL = { LOCK, RELEASE_AND_PROMOTE, CLAIM };

export interface ScheduleResult {
  promoted: string[];
  released: number;
  failed: number;
}

const common = (limits: FeedbackLimits, now: Date) =>
  [now, limits.sender, limits.perMinute, limits.perHour, limits.perDay, limits.sameDropSeconds] as const;

async function releaseAndPromote(q: Queryable, limits: FeedbackLimits, now: Date): Promise<ScheduleResult> {
  const [row] = await q.query<{ promoted: string[]; released: number; failed: number }>(RELEASE_AND_PROMOTE, [
    ...common(limits, now),
    limits.maxAttempts,
  ]);
  return { promoted: row!.promoted, released: row!.released, failed: row!.failed };
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
export async function handOut(db: Pick<Db, "tx">, limits: FeedbackLimits, clock: Clock, max: number): Promise<FeedbackHandOut[]> {
  return db.tx(async (q) => {
    await q.query(LOCK, [limits.sender]);
    const now = clock();
    await releaseAndPromote(q, limits, now);
    const rows = await q.query<{
      id: string;
      group_jid: string;
      text: string;
      drop_number: string;
      mentions: string[];
      attempts: number;
      claimed_until: Date;
    }>(CLAIM, [...common(limits, now), max, limits.leaseSeconds]);
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
