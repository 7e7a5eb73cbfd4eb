// The agent's record of each feedback message it sends, keyed by the edge's feedback id alone: the intent (session
// and WhatsApp message id) before the send, the send once WhatsApp took it, the ack once the edge took that.
// sync/feedback.ts reads it to send at most once across crashes and lost acks.
import type { Db } from "./db.ts";

export interface FeedbackSend {
  id: string;
  chatJid: string;
  dropNumber: string | null;
  session: string;
  fallback: boolean;
  waMessageId: string;
  /** ms since epoch; null while only the intent is recorded. */
  sentAt: number | null;
}

interface Row {
  id: string;
  chat_jid: string;
  drop_number: string | null;
  session: string;
  fallback: number;
  wa_message_id: string;
  sent_at: number | null;
}

const fromRow = (r: Row): FeedbackSend => ({
  id: r.id,
  chatJid: r.chat_jid,
  dropNumber: r.drop_number,
  session: r.session,
  fallback: r.fallback === 1,
  waMessageId: r.wa_message_id,
  sentAt: r.sent_at,
});

export function feedbackSends(db: Db) {
  const find = db.prepare<[string], Row>(
    "SELECT id, chat_jid, drop_number, session, fallback, wa_message_id, sent_at FROM feedback_sends WHERE id = ?",
  );
  // A new intent under an id replaces whatever was recorded under it (another message from another edge database).
  const intend = db.prepare(/* sql */ `
    INSERT INTO feedback_sends (id, chat_jid, drop_number, session, fallback, wa_message_id, intended_at)
    VALUES (@id, @chatJid, @dropNumber, @session, @fallback, @waMessageId, @at)
    ON CONFLICT (id) DO UPDATE SET
      chat_jid = excluded.chat_jid, drop_number = excluded.drop_number, session = excluded.session,
      fallback = excluded.fallback, wa_message_id = excluded.wa_message_id, intended_at = excluded.intended_at,
      sent_at = NULL, acked_at = NULL, ack_error = NULL`);
  const sent = db.prepare("UPDATE feedback_sends SET sent_at = ? WHERE id = ?");
  const acked = db.prepare("UPDATE feedback_sends SET acked_at = ?, ack_error = ? WHERE id = ?");
  const unacked = db.prepare<[], Row>(
    "SELECT id, chat_jid, drop_number, session, fallback, wa_message_id, sent_at FROM feedback_sends WHERE sent_at IS NOT NULL AND acked_at IS NULL ORDER BY sent_at LIMIT 100",
  );

  return {
    find(id: string): FeedbackSend | undefined {
      const r = find.get(id);
      return r && fromRow(r);
    },
    recordIntent(s: Omit<FeedbackSend, "sentAt">, at = Date.now()): void {
      intend.run({ ...s, fallback: s.fallback ? 1 : 0, at });
    },
    markSent(id: string, at = Date.now()): void {
      sent.run(at, id);
    },
    /** `error`: the edge refused the ack for good; the record is kept, and never acked again. */
    markAcked(id: string, error: string | null = null, at = Date.now()): void {
      acked.run(at, error, id);
    },
    /** Sends whose ack has not reached the edge yet, oldest first. */
    unacked(): FeedbackSend[] {
      return unacked.all().map(fromRow);
    },
  };
}

export type FeedbackSends = ReturnType<typeof feedbackSends>;
