// → sent, or claimed → pending | failed: the agent's acknowledgement of a message it was handed, idempotent.
import type { FeedbackAckRequest, FeedbackStatus } from "@wa-monitor/shared";
import type { Db, Queryable } from "../../db/client.ts";
import { ApiError } from "../../errors.ts";

// The drop is locked before its feedback row, in the same order reviews and ingest lock them.
const LOCK_DROP = /* sql */ `
  SELECT d.drop_number FROM drops d JOIN feedback f ON f.drop_number = d.drop_number WHERE f.id = $1 FOR UPDATE OF d`;

// A "sent" ack records what happened even if the message had been cancelled or its lease had run out: it is
// in the group now. Repeating the ack changes nothing. The message's last rate-limit slot moves to the time it
// was really sent, so a slow send cannot squeeze the next ones closer together than the limits allow.
const ACK_SENT = /* sql */ `
  WITH f AS (
    UPDATE feedback
    SET status = 'sent', wa_message_id = $2, sent_by = $3, sent_at = $4, claimed_until = NULL, updated_at = $4,
        error = CASE WHEN $5 THEN 'sent by fallback session ' || coalesce($3, '?') END
    WHERE id = $1 AND status <> 'sent'
    RETURNING id, drop_number
  ),
  slot AS (
    UPDATE feedback_ledger l SET taken_at = greatest(l.taken_at, $4)
    WHERE l.id = (SELECT max(id) FROM feedback_ledger WHERE feedback_id = (SELECT id FROM f))
  )
  UPDATE drops d SET feedback_sent_at = $4, updated_at = $4 FROM f WHERE d.drop_number = f.drop_number`;

// A "failed" ack only counts for the claim it names (when it names one) while that claim still holds; the
// message goes back to pending or, out of tries, failed.
const ACK_FAILED = /* sql */ `
  UPDATE feedback
  SET status = CASE WHEN attempts >= $3 THEN 'failed' ELSE 'pending' END, claimed_until = NULL, error = $2,
      updated_at = $4
  WHERE id = $1 AND status = 'claimed' AND ($5::int IS NULL OR attempts = $5)`;

const STATUS = /* sql */ `SELECT status FROM feedback WHERE id = $1`;

export async function acknowledge(
  db: Pick<Db, "tx">,
  id: string,
  ack: FeedbackAckRequest,
  now: Date,
  maxAttempts: number,
): Promise<{ id: string; status: FeedbackStatus }> {
  return db.tx(async (q: Queryable) => {
    if (ack.status === "sent") {
      await q.query(LOCK_DROP, [id]);
      await q.query(ACK_SENT, [id, ack.waMessageId, ack.session ?? null, now, ack.fallback === true]);
    } else {
      await q.query(ACK_FAILED, [id, ack.error, maxAttempts, now, ack.attempt ?? null]);
    }
    const [row] = await q.query<{ status: FeedbackStatus }>(STATUS, [id]);
    if (!row) throw new ApiError("not_found", `no feedback message ${id}`);
    return { id, status: row.status };
  });
}
