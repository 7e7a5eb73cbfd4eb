// The image records on their way to the edge: every record whose download is over (bytes kept, or a reason not to
// keep them) and that the edge has not acknowledged yet, oldest first. uploaded_at is set only on the edge's answer
// for that record, so a crash or an outage anywhere before it leaves the record waiting, never lost.
import type { MediaState } from "../media/policy.ts";
import type { Db } from "./db.ts";
import { messageSideOf, type MessageSide } from "./media.ts";

/** A record as the uploader reads it: the message's side of it as the download loop reads it, with what was kept. */
export type UploadRow = MessageSide & {
  width: number | null;
  height: number | null;
  /** WhatsApp's embedded thumbnail. */
  thumbnail: Buffer | null;
  state: Exclude<MediaState, "pending_download">;
  /** Hex SHA-256 and size of the bytes in the store (state downloaded). */
  sha256: string | null;
  size: number | null;
  uploadAttempts: number;
};

export type UploadResult = "new" | "updated" | "duplicate";

export interface UploadStats {
  /** Records waiting for the edge. */
  pending: number;
  uploaded: number;
  /** Waiting records the edge could not take at their last attempt (upload_error says why). */
  failing: number;
}

const PENDING = /* sql */ `uploaded_at IS NULL AND state <> 'pending_download'`;

export function mediaUploads(db: Db) {
  const due = db.prepare<[number, number], Record<string, unknown>>(/* sql */ `
    SELECT id, chat_jid, message_id, session, kind, sender_jid, sender_phone, sender_name, sent_at, caption, quoted_id,
           mimetype, width, height, thumbnail, state, sha256, size, upload_attempts
    FROM media INDEXED BY media_upload_pending
    WHERE ${PENDING} AND upload_next_at <= ?
    ORDER BY id LIMIT ?`);
  const nextDueAt = db.prepare<[], { at: number | null }>(`SELECT min(upload_next_at) AS at FROM media WHERE ${PENDING}`);
  const blob = db.prepare<[string], { bytes: Buffer }>("SELECT bytes FROM media_blobs WHERE sha256 = ?");
  const uploaded = db.prepare(`UPDATE media SET uploaded_at = ?, upload_result = ?, upload_error = NULL WHERE id = ? AND uploaded_at IS NULL`);
  const defer = db.prepare(
    `UPDATE media SET upload_attempts = upload_attempts + 1, upload_error = ?, upload_next_at = ? WHERE id = ? AND uploaded_at IS NULL`,
  );
  const counts = db.prepare<[], { pending: number; uploaded: number; failing: number }>(/* sql */ `
    SELECT coalesce(sum(${PENDING}), 0) AS pending, coalesce(sum(uploaded_at IS NOT NULL), 0) AS uploaded,
           coalesce(sum(${PENDING} AND upload_error IS NOT NULL), 0) AS failing
    FROM media`);

  return {
    /** Up to `limit` records due at `now`, oldest first. */
    due(now: number, limit: number): UploadRow[] {
      return due.all(now, limit).map((r) => ({
        ...messageSideOf(r),
        width: r.width as number | null,
        height: r.height as number | null,
        thumbnail: r.thumbnail as Buffer | null,
        state: r.state as UploadRow["state"],
        sha256: r.sha256 as string | null,
        size: r.size as number | null,
        uploadAttempts: r.upload_attempts as number,
      }));
    },
    /** When the next waiting record falls due; null when none waits. */
    nextDueAt: (): number | null => nextDueAt.get()!.at,
    /** The bytes kept under a hash (undefined if they are not: never the case for a record still waiting). */
    blob: (sha256: string): Buffer | undefined => blob.get(sha256)?.bytes,
    /** The edge has these records. */
    markUploaded: db.transaction((done: { id: number; result: UploadResult }[], now: number = Date.now()) => {
      for (const d of done) uploaded.run(now, d.result, d.id);
    }),
    /** The edge could not take these records yet: tried again at `retryAt`. */
    defer: db.transaction((rows: { id: number; retryAt: number }[], error: string) => {
      for (const r of rows) defer.run(error, r.retryAt, r.id);
    }),
    stats: (): UploadStats => counts.get()!,
  };
}

export type MediaUploads = ReturnType<typeof mediaUploads>;
