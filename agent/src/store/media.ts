// Image records and their bytes. A record is written with its message (store/messages.ts), once per chat and
// message id whichever session saw it; the download loop then moves it out of pending_download. The bytes are
// kept once per SHA-256 in media_blobs, written in the same transaction as the record that says they are there.
import type { ImageInfo } from "../media/detect.ts";
import type { MediaState } from "../media/policy.ts";
import type { Db } from "./db.ts";

export interface MediaRecord {
  chatJid: string;
  messageId: string;
  session: string;
  senderJid: string | null;
  senderPhone: string | null;
  senderName: string | null;
  fromMe: boolean;
  sentAtMs: number;
  caption: string | null;
  image: ImageInfo;
  state: MediaState;
  error: string | null;
}

/** A record as the download loop (and, later, the uploader) reads it. */
export interface MediaRow {
  id: number;
  chatJid: string;
  messageId: string;
  session: string;
  kind: "image" | "document";
  senderJid: string | null;
  senderPhone: string | null;
  senderName: string | null;
  fromMe: boolean;
  sentAtMs: number;
  caption: string | null;
  quotedId: string | null;
  mimetype: string | null;
  fileName: string | null;
  fileLength: number | null;
  fileSha256: Buffer | null;
  fileEncSha256: Buffer | null;
  mediaKey: Buffer | null;
  url: string | null;
  directPath: string | null;
  state: MediaState;
  attempts: number;
}

/** The insert the message writer runs inside its transaction: the first session to see an image records it. */
export function mediaInserter(db: Db) {
  const insert = db.prepare(/* sql */ `
    INSERT INTO media (chat_jid, message_id, session, kind, sender_jid, sender_phone, sender_name, from_me, sent_at,
                       caption, quoted_id, mimetype, file_name, file_length, width, height, file_sha256,
                       file_enc_sha256, media_key, media_key_ts, url, direct_path, thumbnail, state, last_error,
                       created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (chat_jid, message_id) DO NOTHING`);
  return (r: MediaRecord, now: number): number => {
    const i = r.image;
    return insert.run(
      r.chatJid, r.messageId, r.session, i.kind, r.senderJid, r.senderPhone, r.senderName, r.fromMe ? 1 : 0, r.sentAtMs,
      r.caption, i.quotedId, i.mimetype, i.fileName, i.fileLength, i.width, i.height, i.fileSha256, i.fileEncSha256,
      i.mediaKey, i.mediaKeyTimestamp, i.url, i.directPath, i.thumbnail, r.state, r.error, now,
    ).changes;
  };
}

const COLUMNS = /* sql */ `id, chat_jid, message_id, session, kind, sender_jid, sender_phone, sender_name, from_me, sent_at,
  caption, quoted_id, mimetype, file_name, file_length, file_sha256, file_enc_sha256, media_key, url, direct_path,
  state, attempts`;

/** The fields of a record that come from its message, as both the download loop and the uploader read them. */
export type MessageSide = Pick<
  MediaRow,
  "id" | "chatJid" | "messageId" | "session" | "kind" | "senderJid" | "senderPhone" | "senderName" | "sentAtMs" | "caption" | "quotedId" | "mimetype"
>;

export function messageSideOf(r: Record<string, unknown>): MessageSide {
  return {
    id: r.id as number,
    chatJid: r.chat_jid as string,
    messageId: r.message_id as string,
    session: r.session as string,
    kind: r.kind as MediaRow["kind"],
    senderJid: r.sender_jid as string | null,
    senderPhone: r.sender_phone as string | null,
    senderName: r.sender_name as string | null,
    sentAtMs: r.sent_at as number,
    caption: r.caption as string | null,
    quotedId: r.quoted_id as string | null,
    mimetype: r.mimetype as string | null,
  };
}

function toRow(r: Record<string, unknown>): MediaRow {
  return {
    ...messageSideOf(r),
    fromMe: r.from_me === 1,
    fileName: r.file_name as string | null,
    fileLength: r.file_length as number | null,
    fileSha256: r.file_sha256 as Buffer | null,
    fileEncSha256: r.file_enc_sha256 as Buffer | null,
    mediaKey: r.media_key as Buffer | null,
    url: r.url as string | null,
    directPath: r.direct_path as string | null,
    state: r.state as MediaState,
    attempts: r.attempts as number,
  };
}

export interface MediaStats {
  pending: number;
  downloaded: number;
  tooLarge: number;
  unsupported: number;
  failed: number;
  skipped: number;
  /** Distinct images whose bytes are in the store, and their size. */
  blobs: number;
  blobBytes: number;
}

export function mediaStore(db: Db) {
  const due = db.prepare<[number], Record<string, unknown>>(
    `SELECT ${COLUMNS} FROM media WHERE state = 'pending_download' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1`,
  );
  const nextDueAt = db.prepare<[], { at: number | null }>("SELECT min(next_attempt_at) AS at FROM media WHERE state = 'pending_download'");
  const insertBlob = db.prepare("INSERT INTO media_blobs (sha256, size, stored_at, bytes) VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING");
  const setDownloaded = db.prepare(/* sql */ `
    UPDATE media SET state = 'downloaded', sha256 = ?, size = ?, mimetype = ?, stored_at = ?, attempts = attempts + 1,
      last_error = NULL
    WHERE id = ? AND state = 'pending_download'`);
  const setFinal = db.prepare(
    "UPDATE media SET state = ?, last_error = ?, attempts = attempts + 1 WHERE id = ? AND state = 'pending_download'",
  );
  const charge = db.prepare(/* sql */ `
    UPDATE media SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,
      state = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE state END
    WHERE id = ? AND state = 'pending_download'
    RETURNING state`);
  const defer = db.prepare("UPDATE media SET last_error = ?, next_attempt_at = ? WHERE id = ? AND state = 'pending_download'");
  const relocate = db.prepare("UPDATE media SET url = ?, direct_path = ? WHERE id = ?");
  const sessionsOf = db.prepare<[string, string], { session: string }>(
    "SELECT session FROM messages WHERE chat_jid = ? AND message_id = ? ORDER BY stored_at",
  );
  const counts = db.prepare<[], { state: MediaState; n: number }>("SELECT state, count(*) AS n FROM media GROUP BY state");
  const blobs = db.prepare<[], { n: number; bytes: number | null }>("SELECT count(*) AS n, sum(size) AS bytes FROM media_blobs");

  return {
    /** The pending record due first, if one is due at `now`. */
    nextDue(now = Date.now()): MediaRow | undefined {
      const r = due.get(now);
      return r ? toRow(r) : undefined;
    },
    /** When the next pending record falls due; null when none is pending. */
    nextDueAt: (): number | null => nextDueAt.get()!.at,
    /** The bytes and the record that says they are here, in one transaction; `mimetype` is what the bytes are. */
    markDownloaded: db.transaction((id: number, sha256: string, bytes: Buffer, mimetype: string) => {
      const now = Date.now();
      insertBlob.run(sha256, bytes.length, now, bytes);
      setDownloaded.run(sha256, bytes.length, mimetype, now, id);
    }),
    /** A final state without bytes (too_large, unsupported, failed). */
    markFinal(id: number, state: MediaState, error: string): void {
      setFinal.run(state, error, id);
    },
    /** A failed attempt that counts: retried at `retryAt`, or given up (failed) at `maxAttempts`. */
    charge(id: number, error: string, retryAt: number, maxAttempts: number): MediaState | undefined {
      return (charge.get(error, retryAt, maxAttempts, id) as { state: MediaState } | undefined)?.state;
    },
    /** Not tried for a reason outside the image (WhatsApp unreachable, no session open): later, not counted. */
    defer(id: number, error: string, retryAt: number): void {
      defer.run(error, retryAt, id);
    },
    /** Where the media lives after the sender's phone re-uploaded it. */
    relocate(id: number, url: string | null, directPath: string | null): void {
      relocate.run(url, directPath, id);
    },
    /** Sessions that stored the message, first first: who may ask for a re-upload. */
    sessionsOf: (chatJid: string, messageId: string): string[] => sessionsOf.all(chatJid, messageId).map((r) => r.session),
    stats(): MediaStats {
      const by = Object.fromEntries(counts.all().map((r) => [r.state, r.n])) as Partial<Record<MediaState, number>>;
      const b = blobs.get()!;
      return {
        pending: by.pending_download ?? 0,
        downloaded: by.downloaded ?? 0,
        tooLarge: by.too_large ?? 0,
        unsupported: by.unsupported ?? 0,
        failed: by.failed ?? 0,
        skipped: by.skipped ?? 0,
        blobs: b.n,
        blobBytes: b.bytes ?? 0,
      };
    },
  };
}

export type MediaStore = ReturnType<typeof mediaStore>;
