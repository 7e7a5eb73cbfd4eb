// → pending: a message due at once. The caller (a review) has cancelled the drop's unsent one first.
import type { Queryable } from "../../db/client.ts";
import type { FeedbackMessage } from "../message.ts";

const SCHEDULE = /* sql */ `
  INSERT INTO feedback (drop_number, review_id, group_jid, text, mentions, due_at)
  VALUES ($1, $2, $3, $4, $5, $6)
  RETURNING id::text AS id`;

export async function scheduleFeedback(
  q: Queryable,
  m: FeedbackMessage & { dropNumber: string; reviewId: string; groupJid: string; dueAt: Date },
): Promise<string> {
  const [row] = await q.query<{ id: string }>(SCHEDULE, [m.dropNumber, m.reviewId, m.groupJid, m.text, m.mentions, m.dueAt]);
  return row!.id;
}
