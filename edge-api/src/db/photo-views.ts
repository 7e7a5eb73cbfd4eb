// Photos as the dashboard reads them: beside their drop (in the drop's one statement, feed.ts), one by one, and
// listed by group and day. A photo's links all share one rule (photo-links.ts), which is its linkedBy.
import type { PhotoLinkedBy, PhotoState, PhotoView, QaStepKey } from "@wa-monitor/shared";
import type { Queryable } from "./client.ts";

type Row = Record<string, unknown>;

const iso = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString();
const strOrNull = (v: unknown): string | null => (v == null ? null : String(v));

/** A photo's columns as json, named as toPhotoView reads them; `ph` a photos row, `linkedBy` an SQL expression. */
export const photoJson = (linkedBy: string) => /* sql */ `json_build_object(
  'id', ph.id::text, 'message_id', ph.message_id, 'sender_jid', ph.sender_jid, 'sender_name', ph.sender_name,
  'sent_at', ph.sent_at, 'caption', ph.caption, 'mimetype', ph.mimetype, 'bytes', ph.bytes, 'sha256', ph.sha256,
  'state', ph.state, 'linked_by', ${linkedBy}, 'step', ph.step, 'suggested_step', ph.suggested_step)`;

export function toPhotoView(r: Row): PhotoView {
  return {
    id: String(r.id),
    messageId: String(r.message_id),
    senderJid: String(r.sender_jid),
    senderName: strOrNull(r.sender_name),
    sentAt: iso(r.sent_at),
    caption: strOrNull(r.caption),
    mimetype: strOrNull(r.mimetype),
    bytes: r.bytes == null ? null : Number(r.bytes),
    sha256: strOrNull(r.sha256),
    state: r.state as PhotoState,
    linkedBy: (r.linked_by ?? null) as PhotoLinkedBy | null,
    step: (r.step ?? null) as QaStepKey | null,
    suggestedStep: (r.suggested_step ?? null) as QaStepKey | null,
  };
}

/** A photo with its group and its drops (GET /v1/photos, and the answer to a PATCH). */
export interface PhotoItem extends PhotoView {
  project: string;
  chatJid: string;
  dropNumbers: string[];
}

// The photo's columns for a list item (never the thumbnail), its drops, and its sent_at to the microsecond for the
// next page's cursor.
const ITEM_COLUMNS = /* sql */ `
  ph.id::text AS id, ph.message_id, ph.sender_jid, ph.sender_name, ph.sent_at, ph.caption, ph.mimetype, ph.bytes,
  ph.sha256, ph.state, ph.step, ph.suggested_step, ph.chat_jid, p.name AS project,
  to_char(ph.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_at,
  (SELECT min(l.linked_by) FROM photo_links l WHERE l.photo_id = ph.id) AS linked_by,
  ARRAY(SELECT l.drop_number FROM photo_links l WHERE l.photo_id = ph.id ORDER BY l.drop_number) AS drop_numbers`;

const PHOTO = /* sql */ `
  SELECT ${ITEM_COLUMNS}
  FROM photos ph JOIN projects p ON p.id = ph.project_id
  WHERE ph.id = $1`;

// Newest first, each group's page straight from photos_project_idx (as the feed reads drops by project), then the
// newest of those. $1 project name (null: all), $2 local day, $3/$4 cursor, $5 linked or not (null: both),
// $6 page size, $7 time zone.
const LIST = /* sql */ `
  SELECT ${ITEM_COLUMNS}
  FROM projects p
  CROSS JOIN LATERAL (
    SELECT * FROM photos ph
    WHERE ph.project_id = p.id
      AND ($2::date IS NULL OR (ph.sent_at >= ($2::date)::timestamp AT TIME ZONE $7
                                AND ph.sent_at < ($2::date + 1)::timestamp AT TIME ZONE $7))
      AND ($3::timestamptz IS NULL OR (ph.sent_at, ph.id) < ($3::timestamptz, $4::bigint))
      AND ($5::boolean IS NULL OR $5 = NOT EXISTS (SELECT 1 FROM photo_links l WHERE l.photo_id = ph.id))
    ORDER BY ph.sent_at DESC, ph.id DESC
    LIMIT $6
  ) ph
  WHERE $1::text IS NULL OR p.name = $1
  ORDER BY ph.sent_at DESC, ph.id DESC
  LIMIT $6`;

function toItem(r: Row): PhotoItem & { cursorAt: string } {
  return {
    ...toPhotoView(r),
    project: String(r.project),
    chatJid: String(r.chat_jid),
    dropNumbers: (r.drop_numbers as string[]) ?? [],
    cursorAt: String(r.cursor_at),
  };
}

export async function getPhotoItem(q: Queryable, id: string): Promise<PhotoItem | null> {
  const [row] = await q.query(PHOTO, [id]);
  if (!row) return null;
  const { cursorAt: _, ...item } = toItem(row);
  return item;
}

export interface PhotoFilter {
  project?: string | undefined;
  /** true: only photos linked to no drop; false: only linked ones. */
  unlinked?: boolean | undefined;
  date?: string | undefined;
  after?: { at: string; id: string } | undefined;
  limit: number;
}

/** A page of photos, and the position of its last one (for the next page's cursor). */
export async function listPhotos(q: Queryable, f: PhotoFilter, timeZone: string): Promise<(PhotoItem & { cursorAt: string })[]> {
  const rows = await q.query(LIST, [
    f.project ?? null,
    f.date ?? null,
    f.after?.at ?? null,
    f.after?.id ?? null,
    f.unlinked ?? null,
    f.limit,
    timeZone,
  ]);
  return rows.map(toItem);
}

/** Where a photo's bytes are: its SHA-256 (null when the agent recorded it without them — whatever hash a record
 * not `stored` may name) and content type. */
export async function photoBytesRef(q: Queryable, id: string): Promise<{ sha256: string | null; mimetype: string | null } | null> {
  const [row] = await q.query<{ sha256: string | null; mimetype: string | null }>(
    "SELECT CASE WHEN state = 'stored' THEN sha256 END AS sha256, mimetype FROM photos WHERE id = $1",
    [id],
  );
  return row ?? null;
}

/** The photo's small JPEG. Read as base64 text, so the bytes arrive the same way whatever the driver makes of bytea. */
export async function photoThumbnail(q: Queryable, id: string): Promise<{ thumbnail: Uint8Array<ArrayBuffer> | null } | null> {
  const [row] = await q.query<{ thumbnail: string | null }>("SELECT encode(thumbnail, 'base64') AS thumbnail FROM photos WHERE id = $1", [id]);
  if (!row) return null;
  if (row.thumbnail === null) return { thumbnail: null };
  // encode() breaks lines every 76 characters.
  const binary = atob(row.thumbnail.replace(/\s/g, ""));
  return { thumbnail: Uint8Array.from(binary, (ch) => ch.charCodeAt(0)) };
}
