// Which drops each photo belongs to (photo_links), recomputed — never patched — whenever something it depends on
// arrives: the photo itself (photo ingest, a reviewer's PATCH) or a drop message (drop ingest). For each photo, the
// first rule that gives a link decides:
//   manual         a reviewer linked it (photos.manual_link): to manual_drop, or to nothing when unlinked by hand;
//   caption        the drops its caption names (caption_drops), those that exist, and those its own message names as
//                  a drop message (a submission with the photo's message id: its caption, or an edit of it, which
//                  the agent delivers under the id of the message it edits and which caption_drops never learn of);
//   reply          else the drops the message it replies to names (quoted_drops), those that exist;
//   sender_window  else the same sender's nearest drop message in the same group (a submission of that chat by the
//                  same sender_jid, or the same sender_phone when both sides know it — one person may post under a
//                  phone JID and a LID): the latest within PHOTO_WINDOW_MINUTES before the photo (inclusive), else
//                  the first within the window after it; linked to every drop that message names;
//   none           the photo stays an unlinked photo of its group.
// Every link of a photo therefore has the same linked_by.
//
// Concurrency. A photo's links depend on its row, its group's submissions and the existence of the drops it names.
// Each writer holds transaction advisory locks, taken in key order in a statement BEFORE the one that computes the
// links — in READ COMMITTED each statement has its own snapshot, so the computing statement then sees everything
// the previous holder committed:
//   chat:<group>  by whoever writes photos of the group or their links, or adds submissions to the group;
//   drop:<drop>   by whoever relinks a photo naming that drop (caption or reply), and by drop ingest creating it,
//                 which also takes chat:<group> of every photo already naming it.
// So when a photo and its drop message arrive in parallel, one of the two transactions waits for the other's
// commit and links them. Lock order everywhere is rows first (drop ingest: its drops; photo ingest and PATCH: the
// photos), then these keys; what the link statement touches afterwards (photo_links rows, KEY SHARE on drops and
// photos for the foreign keys) conflicts with neither. Db.tx retries a deadlock anyway.
import { UNKNOWN_SENDER } from "@wa-monitor/shared";
import type { Queryable } from "./client.ts";

/** Photos recomputed: by id, by sender and time (around new drop messages), and those naming new drops. */
export interface RelinkScope {
  photoIds?: string[];
  /** A sender's photos in a group sent between from and to (ISO), matched by JID or, when known, by phone. */
  senders?: { chatJid: string; senderJid: string; senderPhone?: string | null; from: string; to: string }[];
  /** Photos whose caption or quoted message names one of these drops (drops just created). */
  dropNumbers?: string[];
  /** Messages that just got drop messages: their photos (an edited caption) and the photos in the sender windows
   * of all their posts (an edited drop message, delivered at the edit's time) are recomputed. */
  messages?: { chatJid: string; messageId: string }[];
}

// The two-key form of advisory locks is a key space of its own, apart from the one-key locks (feedback senders).
const LOCK_CLASS = 7010;

const chatLock = (chatJid: string) => `chat:${chatJid}`;
const dropLock = (dropNumber: string) => `drop:${dropNumber}`;

/**
 * SQL evaluating to the number of photo-link locks it took, in key order: those named in the text[] parameter
 * `names`, chat:<group> of every photo naming a drop of the text[] parameter `namingDrops`, and — with `photoIds`
 * (a bigint[] parameter) — chat:<group> and drop:<named drop> of those photos. Drop ingest runs it inside its
 * settle statement (ingest.ts), so that its link statement after it needs no statement of its own for locks.
 */
export function takePhotoLinkLocks(p: { names: string; namingDrops: string; photoIds?: string }): string {
  const ofPhotos = p.photoIds
    ? /* sql */ `
        UNION ALL SELECT 'chat:' || ph.chat_jid FROM photos ph WHERE ph.id = ANY(${p.photoIds}::bigint[])
        UNION ALL SELECT 'drop:' || d FROM photos ph, unnest(ph.caption_drops || ph.quoted_drops) d
                  WHERE ph.id = ANY(${p.photoIds}::bigint[])`
    : "";
  return /* sql */ `
    (SELECT count(pg_advisory_xact_lock(${LOCK_CLASS}, k))
     FROM (SELECT DISTINCT hashtext(n) AS k
           FROM (SELECT unnest(${p.names}::text[])
                 UNION ALL SELECT 'chat:' || ph.chat_jid FROM photos ph
                           WHERE (ph.caption_drops || ph.quoted_drops) && ${p.namingDrops}::text[]
                 ${ofPhotos}) AS names (n)
           ORDER BY k) AS keys)`;
}

/** The lock names a drop ingest batch takes for its fresh submissions and the drops it created. */
export function dropIngestLockNames(fresh: { chatJid: string }[], created: string[]): string[] {
  return [...new Set(fresh.map((s) => chatLock(s.chatJid))), ...created.map(dropLock)];
}

const LOCK = /* sql */ `SELECT ${takePhotoLinkLocks({ names: "$2", namingDrops: "$3", photoIds: "$1" })} AS locks`;

const RELINK = /* sql */ `
  WITH windows AS (
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[])
      AS w (chat_jid, sender_jid, sender_phone, from_at, to_at)
  ),
  messages AS (
    SELECT DISTINCT * FROM unnest($9::text[], $10::text[]) AS m (chat_jid, message_id)
  ),
  edited_posts AS (
    -- The posts of messages posted at more than one time (an edit comes at its own time): the windows above are
    -- around this batch's posts only, and every post of such a message may be the nearest of photos around it.
    SELECT s.chat_jid, s.sender_jid, s.sender_phone, s.sent_at
    FROM messages m JOIN submissions s ON s.chat_jid = m.chat_jid AND s.message_id = m.message_id
    WHERE (SELECT count(DISTINCT x.sent_at) FROM submissions x WHERE x.chat_jid = m.chat_jid AND x.message_id = m.message_id) > 1
  ),
  scope AS (
    SELECT p.id FROM photos p WHERE p.id = ANY($1::bigint[])
    UNION
    SELECT p.id FROM windows w JOIN photos p
      ON p.chat_jid = w.chat_jid AND p.sender_jid = w.sender_jid AND p.sent_at BETWEEN w.from_at AND w.to_at
    UNION
    SELECT p.id FROM windows w JOIN photos p
      ON p.chat_jid = w.chat_jid AND p.sender_phone = w.sender_phone AND p.sent_at BETWEEN w.from_at AND w.to_at
    UNION
    -- The expression of photos_named_drops_idx.
    SELECT p.id FROM photos p WHERE (p.caption_drops || p.quoted_drops) && $7::text[]
    UNION
    SELECT p.id FROM messages m JOIN photos p ON p.chat_jid = m.chat_jid AND p.message_id = m.message_id
    UNION
    SELECT p.id FROM edited_posts s JOIN photos p ON p.chat_jid = s.chat_jid AND p.sender_jid = s.sender_jid
     AND p.sent_at BETWEEN s.sent_at - make_interval(mins => $8::int) AND s.sent_at + make_interval(mins => $8::int)
    UNION
    SELECT p.id FROM edited_posts s JOIN photos p ON p.chat_jid = s.chat_jid AND p.sender_phone = s.sender_phone
     AND p.sent_at BETWEEN s.sent_at - make_interval(mins => $8::int) AND s.sent_at + make_interval(mins => $8::int)
  ),
  photo AS (
    SELECT p.id, p.chat_jid, p.message_id, p.sender_jid, p.sender_phone, p.sent_at, p.caption_drops, p.quoted_drops,
           p.manual_link, p.manual_drop
    FROM scope JOIN photos p USING (id)
  ),
  named AS (
    -- Caption first: a drop both name is a caption link, and reply links count only when no caption link exists.
    SELECT DISTINCT ON (p.id, n.drop_number) p.id, n.drop_number, n.linked_by, n.rule
    FROM photo p
    CROSS JOIN LATERAL (
      SELECT d, 'caption', 1 FROM unnest(p.caption_drops) d
      UNION ALL
      -- The photo's own message as a drop message: its caption as edited since (caption_drops keeps the first one).
      SELECT s.drop_number, 'caption', 1 FROM submissions s WHERE s.chat_jid = p.chat_jid AND s.message_id = p.message_id
      UNION ALL
      SELECT d, 'reply', 2 FROM unnest(p.quoted_drops) d
    ) AS n (drop_number, linked_by, rule)
    WHERE NOT p.manual_link AND EXISTS (SELECT 1 FROM drops d WHERE d.drop_number = n.drop_number)
    ORDER BY p.id, n.drop_number, n.rule
  ),
  best_named AS (
    SELECT id, drop_number, linked_by
    FROM (SELECT *, min(rule) OVER (PARTITION BY id) AS best FROM named) x
    WHERE rule = best
  ),
  nearest AS (
    -- The sender's latest drop message within the window before the photo, else the first within it after.
    SELECT p.id, p.chat_jid, coalesce(b.message_id, a.message_id) AS message_id
    FROM photo p
    LEFT JOIN LATERAL (
      SELECT c.message_id FROM (
        (SELECT s.sent_at, s.message_id FROM submissions s
         WHERE s.chat_jid = p.chat_jid AND s.sender_jid = p.sender_jid
           AND s.sent_at >= p.sent_at - make_interval(mins => $8::int) AND s.sent_at <= p.sent_at
         ORDER BY s.sent_at DESC, s.message_id DESC LIMIT 1)
        UNION ALL
        (SELECT s.sent_at, s.message_id FROM submissions s
         WHERE s.chat_jid = p.chat_jid AND s.sender_phone = p.sender_phone
           AND s.sent_at >= p.sent_at - make_interval(mins => $8::int) AND s.sent_at <= p.sent_at
         ORDER BY s.sent_at DESC, s.message_id DESC LIMIT 1)
      ) c
      ORDER BY c.sent_at DESC, c.message_id DESC LIMIT 1
    ) b ON true
    LEFT JOIN LATERAL (
      SELECT c.message_id FROM (
        (SELECT s.sent_at, s.message_id FROM submissions s
         WHERE s.chat_jid = p.chat_jid AND s.sender_jid = p.sender_jid
           AND s.sent_at > p.sent_at AND s.sent_at <= p.sent_at + make_interval(mins => $8::int)
         ORDER BY s.sent_at, s.message_id LIMIT 1)
        UNION ALL
        (SELECT s.sent_at, s.message_id FROM submissions s
         WHERE s.chat_jid = p.chat_jid AND s.sender_phone = p.sender_phone
           AND s.sent_at > p.sent_at AND s.sent_at <= p.sent_at + make_interval(mins => $8::int)
         ORDER BY s.sent_at, s.message_id LIMIT 1)
      ) c
      WHERE b.message_id IS NULL
      ORDER BY c.sent_at, c.message_id LIMIT 1
    ) a ON true
    -- A photo whose sender WhatsApp did not name ($11) is nobody's nearest: unknown is not one person.
    WHERE NOT p.manual_link AND p.sender_jid <> $11 AND NOT EXISTS (SELECT 1 FROM named x WHERE x.id = p.id)
  ),
  desired AS (
    SELECT id AS photo_id, manual_drop AS drop_number, 'manual' AS linked_by
    FROM photo WHERE manual_link AND manual_drop IS NOT NULL
    UNION ALL
    SELECT id, drop_number, linked_by FROM best_named
    UNION ALL
    SELECT n.id, s.drop_number, 'sender_window'
    FROM nearest n JOIN submissions s ON s.chat_jid = n.chat_jid AND s.message_id = n.message_id
  ),
  unlinked AS (
    DELETE FROM photo_links l
    USING scope
    WHERE l.photo_id = scope.id
      AND NOT EXISTS (SELECT 1 FROM desired d WHERE d.photo_id = l.photo_id AND d.drop_number = l.drop_number)
    RETURNING l.photo_id
  ),
  linked AS (
    INSERT INTO photo_links AS l (photo_id, drop_number, linked_by)
    SELECT photo_id, drop_number, linked_by FROM desired
    ORDER BY photo_id, drop_number
    ON CONFLICT (photo_id, drop_number) DO UPDATE SET linked_by = excluded.linked_by
      WHERE l.linked_by <> excluded.linked_by
    RETURNING l.photo_id
  )
  SELECT (SELECT count(*) FROM scope)::int AS photos,
         (SELECT count(*) FROM unlinked)::int + (SELECT count(*) FROM linked)::int AS changes`;

export interface RelinkResult {
  /** Photos whose links were recomputed. */
  photos: number;
  /** Links removed, added or changed. */
  changes: number;
}

function relinkParams(scope: RelinkScope, windowMinutes: number): unknown[] {
  const senders = scope.senders ?? [];
  return [
    scope.photoIds ?? [],
    senders.map((s) => s.chatJid),
    senders.map((s) => s.senderJid),
    senders.map((s) => s.senderPhone ?? null),
    senders.map((s) => s.from),
    senders.map((s) => s.to),
    scope.dropNumbers ?? [],
    windowMinutes,
    (scope.messages ?? []).map((m) => m.chatJid),
    (scope.messages ?? []).map((m) => m.messageId),
    UNKNOWN_SENDER,
  ];
}

/**
 * Recomputes the links of the photos in scope, in the caller's transaction: takes the locks its scope needs, then
 * computes and writes the links in one statement. For photo ingest ({photoIds}) and a reviewer's PATCH.
 */
export async function relinkPhotos(q: Queryable, scope: RelinkScope, windowMinutes: number): Promise<RelinkResult> {
  const names = [...new Set((scope.senders ?? []).map((s) => chatLock(s.chatJid))), ...(scope.dropNumbers ?? []).map(dropLock)];
  await q.query(LOCK, [scope.photoIds ?? [], names, scope.dropNumbers ?? []]);
  return relinkLockedPhotos(q, scope, windowMinutes);
}

/**
 * The link statement alone, for a caller that took takePhotoLinkLocks for this scope in an earlier statement of its
 * transaction (drop ingest, in its settle statement).
 */
export async function relinkLockedPhotos(q: Queryable, scope: RelinkScope, windowMinutes: number): Promise<RelinkResult> {
  const [row] = await q.query<{ photos: number; changes: number }>(RELINK, relinkParams(scope, windowMinutes));
  return { photos: row!.photos, changes: row!.changes };
}

/**
 * The sender windows around new drop messages: each post can change the nearest drop message of its sender's
 * photos sent within the window either side of it. Posts of one sender (JID and phone) in one group whose windows
 * overlap make one window.
 */
export function windowsAround(
  posts: { chatJid: string; senderJid: string; senderPhone?: string | null | undefined; sentAt: string }[],
  windowMinutes: number,
): NonNullable<RelinkScope["senders"]> {
  // A millisecond wider either side: sentAt may carry microseconds, which Date.parse drops.
  const span = windowMinutes * 60_000 + 1;
  const bySender = new Map<string, { chatJid: string; senderJid: string; senderPhone: string | null; times: number[] }>();
  for (const p of posts) {
    const key = JSON.stringify([p.chatJid, p.senderJid, p.senderPhone ?? null]);
    const entry = bySender.get(key) ?? { chatJid: p.chatJid, senderJid: p.senderJid, senderPhone: p.senderPhone ?? null, times: [] };
    entry.times.push(Date.parse(p.sentAt));
    bySender.set(key, entry);
  }
  const out: NonNullable<RelinkScope["senders"]> = [];
  for (const { times, ...sender } of bySender.values()) {
    times.sort((a, b) => a - b);
    let from = times[0]! - span;
    let to = times[0]! + span;
    for (const t of times.slice(1)) {
      if (t - span > to) {
        out.push({ ...sender, from: new Date(from).toISOString(), to: new Date(to).toISOString() });
        from = t - span;
      }
      to = t + span;
    }
    out.push({ ...sender, from: new Date(from).toISOString(), to: new Date(to).toISOString() });
  }
  return out;
}
