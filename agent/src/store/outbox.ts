// The agent's durable outbox of drop submissions. Rows are only ever marked delivered — after the edge
// answered 2xx with a result for them — and never deleted, so a crash at any point loses nothing and a retry
// is made safe by the edge's idempotency.
import type { DropSubmission, IngestStatus } from "@wa-monitor/shared";
import type { Db } from "./db.ts";

export interface OutboxRow extends DropSubmission {
  id: number;
  attempts: number;
}

export function outboxStore(db: Db) {
  const pending = db.prepare<[number, number], Record<string, unknown>>(/* sql */ `
    SELECT id, chat_jid, message_id, drop_number, session, sender_jid, sender_phone, sender_name, text, sent_at, attempts
    FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?`);
  const deliver = db.prepare("UPDATE outbox SET delivered_at = ?, result = ?, last_error = NULL WHERE id = ? AND delivered_at IS NULL");
  const reject = db.prepare("UPDATE outbox SET delivered_at = ?, result = 'rejected', last_error = ? WHERE id = ? AND delivered_at IS NULL");
  const attempt = db.prepare("UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ?");
  const defer = db.prepare("UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?");
  const stats = db.prepare<[], { pending: number; oldest: number | null }>(
    "SELECT count(*) AS pending, min(created_at) AS oldest FROM outbox WHERE delivered_at IS NULL",
  );
  const rejected = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM outbox WHERE result = 'rejected'");
  const due = db.prepare<[number], { due: number }>(
    "SELECT EXISTS (SELECT 1 FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= ?) AS due",
  );

  return {
    /** Undelivered rows that are due, oldest first. */
    pending(limit: number, now = Date.now()): OutboxRow[] {
      return pending.all(now, limit).map((r) => ({
        id: r.id as number,
        attempts: r.attempts as number,
        chatJid: r.chat_jid as string,
        messageId: r.message_id as string,
        dropNumber: r.drop_number as string,
        session: r.session as string,
        senderJid: r.sender_jid as string,
        senderPhone: (r.sender_phone as string | null) ?? null,
        senderName: (r.sender_name as string | null) ?? null,
        text: r.text as string,
        sentAt: r.sent_at as string,
      }));
    },
    markDelivered: db.transaction((results: { id: number; status: IngestStatus }[]) => {
      const now = Date.now();
      for (const r of results) deliver.run(now, r.status, r.id);
    }),
    markRejected: db.transaction((rows: { id: number; error: string }[]) => {
      const now = Date.now();
      for (const r of rows) reject.run(now, r.error, r.id);
    }),
    markAttempt: db.transaction((ids: number[], error: string) => {
      for (const id of ids) attempt.run(error, id);
    }),
    /** Not delivered, and not due again before `retryAt` (ms). */
    defer: db.transaction((rows: { id: number; retryAt: number }[], error: string) => {
      for (const r of rows) defer.run(error, r.retryAt, r.id);
    }),
    /** Whether some undelivered row is due now (what delivery would send next). */
    hasDue: (now = Date.now()): boolean => due.get(now)!.due === 1,
    stats() {
      const s = stats.get()!;
      return {
        pending: s.pending,
        oldestPendingAt: s.oldest === null ? null : new Date(s.oldest).toISOString(),
        rejected: rejected.get()!.n,
      };
    },
  };
}

/** Puts every rejected row back in the outbox as new: pending, due now, attempts reset. Returns how many. */
export function requeueRejected(db: Db): number {
  return db
    .prepare("UPDATE outbox SET delivered_at = NULL, result = NULL, attempts = 0, next_attempt_at = 0 WHERE result = 'rejected'")
    .run().changes;
}

export type OutboxStore = ReturnType<typeof outboxStore>;
