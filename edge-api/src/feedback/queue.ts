// The agent's side of the feedback outbox: claim ready messages for a lease (SKIP LOCKED, so concurrent polls
// never get the same one) and acknowledge them, idempotently.
import type { AckRequest, FeedbackStatus, OutboxMessage } from "@wa-monitor/shared";
import type { Queryable } from "../db/client.ts";
import { ApiError } from "../errors.ts";

const CLAIM = /* sql */ `
  UPDATE feedback f
  SET status = 'claimed', claimed_until = $1::timestamptz + make_interval(secs => $3), attempts = attempts + 1,
      updated_at = $1
  WHERE f.id IN (
    SELECT id FROM feedback WHERE status = 'ready' ORDER BY ready_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
  )
  RETURNING f.id::text AS id, f.group_jid, f.text, f.drop_number, f.mentions, f.ready_at`;

export async function claimReady(db: Queryable, now: Date, limit: number, leaseSeconds: number): Promise<OutboxMessage[]> {
  const rows = await db.query<{ id: string; group_jid: string; text: string; drop_number: string; mentions: string[]; ready_at: Date }>(
    CLAIM,
    [now, limit, leaseSeconds],
  );
  rows.sort((a, b) => +a.ready_at - +b.ready_at || Number(a.id) - Number(b.id));
  return rows.map((r) => ({ id: r.id, chatJid: r.group_jid, text: r.text, dropNumber: r.drop_number, mentions: r.mentions }));
}

// A "sent" ack records what happened even if the message had been cancelled or its lease had run out: it is
// in the group now. Repeating the ack changes nothing.
const ACK_SENT = /* sql */ `
  WITH f AS (
    UPDATE feedback
    SET status = 'sent', wa_message_id = $2, sent_by = $3, sent_at = $4, claimed_until = NULL, updated_at = $4,
        error = CASE WHEN $5 THEN 'sent by fallback session ' || coalesce($3, '?') END
    WHERE id = $1 AND status <> 'sent'
    RETURNING drop_number
  )
  UPDATE drops d SET feedback_sent_at = $4, updated_at = $4 FROM f WHERE d.drop_number = f.drop_number`;

// A "failed" ack only counts for a message that is still claimed; it goes back to ready or, out of tries, failed.
const ACK_FAILED = /* sql */ `
  UPDATE feedback
  SET status = CASE WHEN attempts >= $3 THEN 'failed' ELSE 'ready' END, claimed_until = NULL, error = $2,
      updated_at = $4
  WHERE id = $1 AND status = 'claimed'`;

const STATUS = /* sql */ `SELECT status FROM feedback WHERE id = $1`;

export async function acknowledge(
  db: Queryable,
  id: string,
  ack: AckRequest,
  now: Date,
  maxAttempts: number,
): Promise<{ id: string; status: FeedbackStatus }> {
  if (ack.status === "sent") {
    await db.query(ACK_SENT, [id, ack.waMessageId, ack.session ?? null, now, ack.fallback === true]);
  } else {
    await db.query(ACK_FAILED, [id, ack.error, maxAttempts, now]);
  }
  const [row] = await db.query<{ status: FeedbackStatus }>(STATUS, [id]);
  if (!row) throw new ApiError(404, "not_found", `no feedback message ${id}`);
  return { id, status: row.status };
}
