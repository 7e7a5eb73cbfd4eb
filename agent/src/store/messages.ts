// Storing monitored messages, queueing their drops and recording their images, in one transaction per batch: a
// message is on disk before anything downstream sees it, and its outbox rows and image record can never exist
// without it (or vice versa).
import type { WAMessage } from "baileys";
import type { Db } from "./db.ts";
import { mediaInserter, type MediaRecord } from "./media.ts";
import { decodeMessage, encodeMessage } from "./message-codec.ts";

export interface StoredMessage {
  session: string;
  chatJid: string;
  messageId: string;
  senderJid: string | null;
  senderPhone: string | null;
  senderName: string | null;
  fromMe: boolean;
  own: boolean;
  text: string | null;
  editOf: string | null;
  sentAtMs: number;
  upsertType: string;
  raw: WAMessage;
}

export interface OutboxItem {
  chatJid: string;
  messageId: string;
  dropNumber: string;
  session: string;
  senderJid: string;
  senderPhone: string | null;
  senderName: string | null;
  text: string;
  sentAt: string;
}

export interface StoreBatchResult {
  stored: number;
  queued: number;
  /** Image records created (an image another session recorded first adds none). */
  media: number;
}

export interface StoreBatchEntry {
  message: StoredMessage;
  drops: OutboxItem[];
  media?: MediaRecord | undefined;
}

export function messageWriter(db: Db) {
  // Positional parameters: binding by name looks every name up again for each row.
  const insertMessage = db.prepare(/* sql */ `
    INSERT INTO messages (session, chat_jid, message_id, sender_jid, sender_phone, sender_name, from_me, own, text,
                          edit_of, sent_at, upsert_type, raw, content, stored_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    -- Seen before by this session: nothing to do, unless we only had it without its text (then it counts now).
    ON CONFLICT (session, chat_jid, message_id) DO UPDATE SET
      text = excluded.text, raw = excluded.raw, content = excluded.content,
      sender_phone = coalesce(messages.sender_phone, excluded.sender_phone),
      sender_name = coalesce(messages.sender_name, excluded.sender_name)
    WHERE messages.text IS NULL AND excluded.text IS NOT NULL`);
  const insertOutbox = db.prepare(/* sql */ `
    INSERT INTO outbox (chat_jid, message_id, drop_number, session, sender_jid, sender_phone, sender_name, text,
                        sent_at, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT DO NOTHING`);
  const insertMedia = mediaInserter(db);

  /** Each entry: a message, the drops it queues if it was not stored before for that session, and its image,
   * recorded once per chat and message id whichever session stores it. */
  return db.transaction((batch: StoreBatchEntry[]): StoreBatchResult => {
    let stored = 0;
    let queued = 0;
    let media = 0;
    const now = Date.now();
    for (const { message: m, drops, media: image } of batch) {
      const { raw, content } = encodeMessage(m.raw);
      const res = insertMessage.run(
        m.session, m.chatJid, m.messageId, m.senderJid, m.senderPhone, m.senderName, m.fromMe ? 1 : 0, m.own ? 1 : 0,
        m.text, m.editOf, m.sentAtMs, m.upsertType, raw, content, now,
      );
      // The first session to see an image records it; the unique key keeps it one record for all of them.
      if (image) media += insertMedia(image, now);
      if (res.changes === 0) continue; // seen before by this session: already handled
      stored++;
      for (const d of drops) {
        queued += insertOutbox.run(
          d.chatJid, d.messageId, d.dropNumber, d.session, d.senderJid, d.senderPhone, d.senderName, d.text, d.sentAt, now,
        ).changes;
      }
    }
    return { stored, queued, media };
  });
}

/** Baileys' getMessage: the content of a message we stored, for retries and poll decryption. */
export function messageReader(db: Db) {
  const select = db.prepare<[string, string], { raw: string; content: Buffer | null }>(
    "SELECT raw, content FROM messages WHERE chat_jid = ? AND message_id = ? LIMIT 1",
  );
  return (chatJid: string, messageId: string): WAMessage | undefined => {
    const row = select.get(chatJid, messageId);
    return row ? decodeMessage(row.raw, row.content) : undefined;
  };
}

export function lidStore(db: Db) {
  const upsert = db.prepare(
    "INSERT INTO lid_map (lid, pn, updated_at) VALUES (?, ?, ?) ON CONFLICT (lid) DO UPDATE SET pn = excluded.pn, updated_at = excluded.updated_at",
  );
  const select = db.prepare<[string], { pn: string }>("SELECT pn FROM lid_map WHERE lid = ?");
  return {
    remember: db.transaction((pairs: { lid: string; pn: string }[]) => {
      const now = Date.now();
      for (const p of pairs) upsert.run(p.lid, p.pn, now);
    }),
    phoneJidFor: (lid: string): string | null => select.get(lid)?.pn ?? null,
  };
}
