// Ingest of the agent's photo records (POST /v1/agent/photos) in one transaction: one statement upserts the batch
// by (chat_jid, message_id), then the photos it wrote are linked to their drops.
//
// A message has one record whichever session or agent uploads it. A copy that says more than the stored one (its
// bytes arrived: failed → stored) updates it (`updated`); anything else changes nothing (`duplicate`), so a retry,
// the backup number, or an agent that failed to download what another stored can never take a photo backwards.
// A stored record whose bytes R2 lacks is answered `missing_bytes` before any of this and changes nothing.
import { suggestStep, type PhotoRecord } from "@wa-monitor/shared";
import type { Queryable } from "./client.ts";
import { relinkPhotos } from "./photo-links.ts";

export type PhotoIngestStatus = "new" | "updated" | "duplicate" | "unknown_group";

// How much a record says about its image: the bytes beat a reason for not having them, and a reason about the
// image itself beats a failed or skipped download.
const RANK = /* sql */ `CASE $state WHEN 'stored' THEN 4 WHEN 'too_large' THEN 3 WHEN 'unsupported' THEN 3 WHEN 'failed' THEN 2 ELSE 1 END`;
const rank = (col: string) => RANK.replace("$state", col);

const INGEST = /* sql */ `
  WITH input AS (
    SELECT e.ord::int AS ord, t.*
    FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(item, ord),
         jsonb_to_record(e.item) AS t(chat_jid text, message_id text, session text, sender_jid text, sender_phone text,
                                      sender_name text, sent_at timestamptz, kind text, state text, sha256 text,
                                      mimetype text, bytes int, width int, height int, caption text, quoted_id text,
                                      caption_drops text[], quoted_drops text[], thumbnail text,
                                      suggested_step text)
  ),
  best AS (
    -- One copy per message: the one that says most, the first of those.
    SELECT DISTINCT ON (i.chat_jid, i.message_id) i.*, p.id AS project_id
    FROM input i JOIN projects p ON p.group_jid = i.chat_jid
    ORDER BY i.chat_jid, i.message_id, ${rank("i.state")} DESC, i.ord
  ),
  written AS (
    INSERT INTO photos AS ph (project_id, chat_jid, message_id, session, sender_jid, sender_phone, sender_name, sent_at,
                              kind, state, sha256, mimetype, bytes, width, height, caption, quoted_id, caption_drops,
                              quoted_drops, thumbnail, suggested_step)
    SELECT project_id, chat_jid, message_id, session, sender_jid, sender_phone, sender_name, sent_at, kind, state,
           sha256, mimetype, bytes, width, height, caption, quoted_id, coalesce(caption_drops, '{}'),
           coalesce(quoted_drops, '{}'), decode(thumbnail, 'base64'), suggested_step
    FROM best
    ORDER BY chat_jid, message_id -- concurrent batches lock the same rows in the same order
    ON CONFLICT ON CONSTRAINT photos_message_key DO UPDATE SET
      state = excluded.state, sha256 = excluded.sha256, mimetype = excluded.mimetype, bytes = excluded.bytes,
      width = coalesce(excluded.width, ph.width), height = coalesce(excluded.height, ph.height),
      thumbnail = coalesce(excluded.thumbnail, ph.thumbnail), caption_drops = excluded.caption_drops,
      quoted_drops = excluded.quoted_drops, updated_at = now()
    WHERE ${rank("excluded.state")} > ${rank("ph.state")}
    RETURNING ph.id, ph.chat_jid, ph.message_id, (ph.xmax = 0) AS inserted
  )
  SELECT i.ord, w.id::text AS photo_id,
         CASE WHEN p.id IS NULL THEN 'unknown_group'
              WHEN w.id IS NULL THEN 'duplicate'
              WHEN w.inserted THEN 'new'
              ELSE 'updated' END AS status
  FROM input i
  LEFT JOIN projects p ON p.group_jid = i.chat_jid
  LEFT JOIN best b ON b.ord = i.ord
  LEFT JOIN written w ON b.ord IS NOT NULL AND w.chat_jid = i.chat_jid AND w.message_id = i.message_id
  ORDER BY i.ord`;

// WhatsApp sends an image's width and height as uint32; the columns are Postgres integers. A dimension beyond them
// is no real image's: it is recorded as unknown rather than refusing the record (the agent would hold it forever).
const INT4_MAX = 2_147_483_647;
const dimension = (v: number | null | undefined) => (v != null && v <= INT4_MAX ? v : null);

const toRow = (p: PhotoRecord) => ({
  chat_jid: p.chatJid,
  message_id: p.messageId,
  session: p.session,
  sender_jid: p.senderJid,
  sender_phone: p.senderPhone ?? null,
  sender_name: p.senderName ?? null,
  sent_at: p.sentAt,
  kind: p.kind,
  state: p.state,
  sha256: p.sha256,
  mimetype: p.mimetype,
  bytes: p.bytes,
  width: dimension(p.width),
  height: dimension(p.height),
  caption: p.caption,
  quoted_id: p.quotedId,
  caption_drops: p.captionDrops,
  quoted_drops: p.quotedDrops,
  // "" is valid base64 for no bytes: no thumbnail, rather than an empty one served as a JPEG.
  thumbnail: p.thumbnail || null,
  // Computed here, from the one keyword map in shared, and kept: the caption of a message never changes.
  suggested_step: suggestStep(p.caption),
});

/** Upserts the records and relinks the photos written; a status per record, in order. */
export async function ingestPhotos(q: Queryable, records: PhotoRecord[], photoWindowMinutes: number): Promise<PhotoIngestStatus[]> {
  const rows = await q.query<{ ord: number; photo_id: string | null; status: PhotoIngestStatus }>(INGEST, [JSON.stringify(records.map(toRow))]);
  const written = rows.flatMap((r) => (r.photo_id ? [r.photo_id] : []));
  if (written.length) await relinkPhotos(q, { photoIds: written }, photoWindowMinutes);
  return rows.map((r) => r.status);
}
