// Keeps the store from growing without bound: messages and delivered outbox rows older than the retention
// period are removed once a day. Undelivered and rejected rows are never touched, whatever their age, and
// neither are WhatsApp sessions. The edge keeps every submission; this is the agent's working copy.
import type { Logger } from "pino";
import type { Db } from "./db.ts";

export function pruneStore(db: Db, olderThanMs: number, now = Date.now()) {
  const cutoff = now - olderThanMs;
  return db.transaction(() => {
    const messages = db.prepare("DELETE FROM messages WHERE stored_at < ?").run(cutoff).changes;
    // Rejected rows never reached the edge: they stay until a person has looked at them.
    const outbox = db
      .prepare("DELETE FROM outbox WHERE delivered_at IS NOT NULL AND result IS NOT 'rejected' AND delivered_at < ?")
      .run(cutoff).changes;
    // An intent never confirmed that old will not be handed out again either.
    const feedback = db
      .prepare("DELETE FROM feedback_sends WHERE acked_at < ? OR (sent_at IS NULL AND intended_at < ?)")
      .run(cutoff, cutoff).changes;
    const sim = db.prepare("DELETE FROM sim_sent WHERE sent_at < ?").run(cutoff).changes;
    return { messages, outbox, feedback, sim };
  })();
}

export function startRetention(db: Db, days: number, log: Logger) {
  const run = () => {
    try {
      const removed = pruneStore(db, days * 86_400_000);
      if (removed.messages || removed.outbox || removed.feedback) log.info({ removed, days }, "pruned old store rows");
    } catch (err) {
      log.error({ err }, "pruning the store failed");
    }
  };
  const timer = setInterval(run, 86_400_000);
  timer.unref();
  const first = setTimeout(run, 60_000);
  first.unref();
  return { stop: () => (clearInterval(timer), clearTimeout(first)) };
}
