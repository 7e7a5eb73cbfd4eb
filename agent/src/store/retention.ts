// Keeps the store from growing without bound: messages and delivered outbox rows older than the retention
// period are removed once a day. Undelivered and rejected rows are never touched, whatever their age, and
// neither are WhatsApp sessions. The edge keeps every submission; this is the agent's working copy.
// Images: their bytes leave `mediaDays` after the edge has them (upload), and never before; their records leave
// with the messages, once uploaded.
import type { Logger } from "pino";
import type { Db } from "./db.ts";

const DAY_MS = 86_400_000;

export function pruneStore(db: Db, olderThanMs: number, now = Date.now(), mediaOlderThanMs = 7 * DAY_MS) {
  const cutoff = now - olderThanMs;
  const mediaCutoff = now - mediaOlderThanMs;
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
    db.prepare("DELETE FROM sim_media WHERE created_at < ?").run(cutoff);
    // Records, like outbox rows: only once the edge has them.
    const mediaRecords = db.prepare("DELETE FROM media WHERE uploaded_at IS NOT NULL AND uploaded_at < ? AND created_at < ?").run(cutoff, cutoff).changes;
    // Bytes are shared by every record with the same hash: they go when no record still needs them — none not yet
    // uploaded, none uploaded within the media retention period.
    const mediaBytes = db
      .prepare(/* sql */ `
        DELETE FROM media_blobs WHERE NOT EXISTS (
          SELECT 1 FROM media WHERE media.sha256 = media_blobs.sha256 AND (media.uploaded_at IS NULL OR media.uploaded_at >= ?))`)
      .run(mediaCutoff).changes;
    return { messages, outbox, feedback, sim, mediaRecords, mediaBytes };
  })();
}

export function startRetention(db: Db, days: { days: number; mediaDays: number }, log: Logger) {
  const run = () => {
    try {
      const removed = pruneStore(db, days.days * DAY_MS, Date.now(), days.mediaDays * DAY_MS);
      if (removed.messages || removed.outbox || removed.feedback || removed.mediaRecords || removed.mediaBytes) {
        log.info({ removed, ...days }, "pruned old store rows");
      }
    } catch (err) {
      log.error({ err }, "pruning the store failed");
    }
  };
  const timer = setInterval(run, DAY_MS);
  timer.unref();
  const first = setTimeout(run, 60_000);
  first.unref();
  return { stop: () => (clearInterval(timer), clearTimeout(first)) };
}
