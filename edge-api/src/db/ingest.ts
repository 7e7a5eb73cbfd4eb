// Ingest of a batch of drop submissions in one transaction of at most three statements, whatever its size (a fourth
// when a drop posted again has feedback, to cancel what has not gone out); a batch of duplicates only costs one.
//
// The unique key (chat_jid, message_id, drop_number) is the gate: a submission that does not insert is a
// duplicate (a retry, or the backup session seeing the same message) and touches nothing else. Only fresh
// submissions upsert their drop; INSERT … ON CONFLICT on the drop's primary key makes concurrent batches agree
// on exactly one creator, so exactly one item anywhere is ever answered `new` for a drop.
//
// Which post is the original and which are resubmissions goes by WhatsApp time (sent_at), not by arrival: an
// offline catch-up or a second session can deliver an earlier post after a later one. The earliest submission of
// a drop is the original, every later one a resubmission. The per-item answer to the agent stays by arrival (the
// first delivery of a drop is `new`); the stored flags, the comment line and the daily counts follow sent_at.
import type { DropSubmission, IngestStatus } from "@wa-monitor/shared";
import { cancelUnsent } from "../feedback/queue/index.ts";
import type { Queryable } from "./client.ts";
import { missingStatsZone } from "./daily-stats.ts";
import { dropIngestLockNames, relinkLockedPhotos, takePhotoLinkLocks, windowsAround } from "./photo-links.ts";

const INGEST = /* sql */ `
  WITH input AS (
    SELECT *
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                $9::timestamptz[])
         WITH ORDINALITY AS t(message_id, chat_jid, drop_number, session, sender_jid, sender_phone, sender_name,
                              body, sent_at, ord)
  ),
  known AS (
    -- First occurrence of each key in the batch; later copies in the same batch are duplicates of it.
    SELECT DISTINCT ON (i.chat_jid, i.message_id, i.drop_number) i.*, p.id AS project_id
    FROM input i JOIN projects p ON p.group_jid = i.chat_jid
    ORDER BY i.chat_jid, i.message_id, i.drop_number, i.ord
  ),
  inserted AS (
    INSERT INTO submissions (drop_number, project_id, chat_jid, message_id, session, sender_jid, sender_phone,
                             sender_name, text, sent_at)
    SELECT drop_number, project_id, chat_jid, message_id, session, sender_jid, sender_phone, sender_name, body,
           sent_at
    FROM known
    ORDER BY chat_jid, message_id, drop_number
    ON CONFLICT ON CONSTRAINT submissions_message_drop_key DO NOTHING
    RETURNING id, chat_jid, message_id, drop_number, sent_at
  ),
  fresh AS (
    SELECT ins.id, ins.drop_number, ins.sent_at, k.ord, k.project_id,
           row_number() OVER (PARTITION BY ins.drop_number ORDER BY ins.sent_at, k.ord) AS rank_in_batch
    FROM inserted ins JOIN known k USING (chat_jid, message_id, drop_number)
  ),
  per_drop AS (
    SELECT drop_number,
           (array_agg(project_id ORDER BY sent_at, ord))[1] AS project_id,
           min(sent_at) AS first_at, max(sent_at) AS last_at, count(*)::int AS n
    FROM fresh
    GROUP BY drop_number
  ),
  created AS (
    -- Creates the drops new to the database and locks the others without writing them (DO UPDATE … WHERE false
    -- locks every conflicting row, updates none): SETTLE writes each existing drop once, knowing all its posts.
    -- Sorted so concurrent multi-drop batches lock drops in the same order.
    INSERT INTO drops AS d (drop_number, project_id, status, resubmitted, first_submitted_at, last_submitted_at,
                            submission_count)
    SELECT drop_number, project_id, CASE WHEN n > 1 THEN 'resubmitted' ELSE 'new' END, n > 1, first_at, last_at, n
    FROM per_drop
    ORDER BY drop_number
    ON CONFLICT (drop_number) DO UPDATE SET updated_at = d.updated_at WHERE false
    RETURNING d.drop_number
  )
  SELECT i.ord::int AS ord,
         f.id::text AS submission_id,
         f.project_id::text AS project_id,
         CASE
           WHEN p.id IS NULL THEN 'unknown_group'
           WHEN f.id IS NULL THEN 'duplicate'
           WHEN c.drop_number IS NOT NULL AND f.rank_in_batch = 1 THEN 'new'
           ELSE 'resubmission'
         END AS status
  FROM input i
  LEFT JOIN projects p ON p.group_jid = i.chat_jid
  LEFT JOIN fresh f ON f.ord = i.ord
  LEFT JOIN created c ON c.drop_number = i.drop_number
  ORDER BY i.ord`;

// Runs for the drops that got a resubmission (a fresh post that is not their first in this batch, or any fresh
// post of a drop that existed), after INGEST holds their rows, so no other batch can add to them until this
// transaction ends. It sees every committed submission of those drops (this statement's snapshot is
// newer than INGEST's) and flags each one after the earliest by (sent_at, id). Flags only ever go from false to
// true: a new post can make the drop's earliest post a later one, never the reverse. Then, per drop:
// - first and last post and the number of posts are taken from all its submissions;
// - a line `Resubmitted YYYY-MM-DD HH:MM` (local time of the latest post flagged now) is added to its comment;
//   when a late-delivered earlier post turns the existing one into the resubmission, that is the existing one;
// - a fresh post that is not the drop's earliest means the installer posted again: the review starts over
//   (status resubmitted, feedback_sent_at cleared), and those of such drops that have any feedback are returned,
//   for their unsent feedback to be cancelled (a drop never reviewed incomplete has none: no third statement).
//   A late original behind an already reviewed post changes neither; an unreviewed drop still shows as
//   resubmitted.
// A drop INGEST created with one post is already what it should be and is not read or written again.
// And the daily stats rollup (daily-stats.ts) takes what changed, in the zone it is kept in:
// - `new`: a drop created now counts on the day of its first post (passed in: the items answered `new`); a
//   late earlier post of an existing drop moves it from the day of its previous first post (the earliest of
//   the other posts) to its own;
// - `resubmitted`: a drop counts once per project and day of its resubmission posts, when the first of them
//   (for that project and day) is flagged.
// The counters are the only rows this touches that other drops share: it takes them in (day, project) order,
// after the zone row and its drops' rows, as reviews and rebuilds do, so concurrent writers cannot deadlock.
//
// Every CTE here is a few rows per drop of the batch; the zone is a scalar (an InitPlan), never a join, so the
// planner's row estimates stay those of the batch and every access is by index at any table size.
//
// Before anything else it takes the photo-link locks of the batch's groups and of the drops it created
// (photo-links.ts; $6 their names, $7 the created drops): the link statement that follows this one then sees every
// photo whose ingest held them before, and a photo ingest waiting for them sees this batch's posts.
const SETTLE = /* sql */ `
  WITH zone AS (
    SELECT zone FROM daily_stats_zone WHERE ${takePhotoLinkLocks({ names: "$6", namingDrops: "$7" })} >= 0 FOR SHARE
  ),
  subs AS (
    SELECT s.id, s.drop_number, s.project_id, s.sent_at, s.is_resubmission, s.id = ANY($2::bigint[]) AS fresh,
           row_number() OVER (PARTITION BY s.drop_number ORDER BY s.sent_at, s.id) > 1 AS later,
           (s.sent_at AT TIME ZONE (SELECT zone FROM zone))::date AS day
    FROM submissions s
    WHERE s.drop_number = ANY($1::text[])
  ),
  flagged AS (
    UPDATE submissions s SET is_resubmission = true
    FROM subs r
    WHERE s.id = r.id AND r.later AND NOT s.is_resubmission
  ),
  per_drop AS (
    SELECT drop_number, bool_or(NOT fresh) AS existed,
           min(sent_at) AS first_at, max(sent_at) AS last_at, count(*)::int AS n,
           min(day) AS first_day, min(day) FILTER (WHERE NOT fresh) AS old_first_day,
           max(sent_at) FILTER (WHERE later AND NOT is_resubmission) AS latest_flagged,
           bool_or(fresh AND later) AS reposted
    FROM subs
    GROUP BY drop_number
  ),
  updated AS (
    UPDATE drops d SET
      first_submitted_at = p.first_at,
      last_submitted_at  = p.last_at,
      submission_count   = p.n,
      resubmitted        = p.n > 1,
      status             = CASE WHEN p.reposted OR (p.latest_flagged IS NOT NULL AND d.status = 'new')
                                THEN 'resubmitted' ELSE d.status END,
      feedback_sent_at   = CASE WHEN p.reposted THEN NULL ELSE d.feedback_sent_at END,
      comment            = CASE WHEN p.latest_flagged IS NULL THEN d.comment
                                ELSE concat_ws(E'\\n', nullif(d.comment, ''),
                                  'Resubmitted ' || to_char(p.latest_flagged AT TIME ZONE $3, 'YYYY-MM-DD HH24:MI')) END,
      updated_at         = now()
    FROM per_drop p
    WHERE d.drop_number = p.drop_number AND (p.existed OR p.latest_flagged IS NOT NULL)
    RETURNING d.drop_number, p.reposted
  ),
  counts AS (
    SELECT (c.first_at AT TIME ZONE (SELECT zone FROM zone))::date AS day, c.project_id, 1 AS new, 0 AS resubmitted
    FROM unnest($4::bigint[], $5::timestamptz[]) AS c (project_id, first_at)
    UNION ALL
    SELECT moved.day, d.project_id, moved.new, 0
    FROM per_drop p
    JOIN drops d USING (drop_number)
    CROSS JOIN LATERAL (VALUES (p.first_day, 1), (p.old_first_day, -1)) AS moved (day, new)
    WHERE p.existed AND p.old_first_day <> p.first_day
    UNION ALL
    SELECT day, project_id, 0, 1
    FROM subs
    GROUP BY drop_number, project_id, day
    HAVING bool_or(later AND NOT is_resubmission) AND NOT bool_or(is_resubmission)
  ),
  counted AS (
    INSERT INTO daily_stats AS t (day, project_id, new, resubmitted)
    SELECT day, project_id, sum(new), sum(resubmitted)
    FROM counts
    GROUP BY day, project_id
    HAVING sum(new) <> 0 OR sum(resubmitted) <> 0
    ORDER BY day, project_id
    ON CONFLICT (day, project_id) DO UPDATE SET new = t.new + excluded.new, resubmitted = t.resubmitted + excluded.resubmitted
  )
  SELECT (SELECT zone FROM zone) AS zone,
         (SELECT coalesce(array_agg(u.drop_number ORDER BY u.drop_number), '{}') FROM updated u
          WHERE u.reposted AND EXISTS (SELECT 1 FROM feedback f WHERE f.drop_number = u.drop_number)) AS reposted_with_feedback`;

export interface IngestResult {
  messageId: string;
  dropNumber: string;
  status: IngestStatus;
}

export async function ingestSubmissions(
  db: { tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> },
  items: DropSubmission[],
  timeZone: string,
  photoWindowMinutes: number,
): Promise<IngestResult[]> {
  const rows = await db.tx(async (q) => {
    const rows = await q.query<{ ord: number; submission_id: string | null; project_id: string | null; status: IngestStatus }>(INGEST, [
      items.map((s) => s.messageId),
      items.map((s) => s.chatJid),
      items.map((s) => s.dropNumber),
      items.map((s) => s.session),
      items.map((s) => s.senderJid),
      items.map((s) => s.senderPhone ?? null),
      items.map((s) => s.senderName ?? null),
      items.map((s) => s.text),
      items.map((s) => s.sentAt),
    ]);
    // `new` answers the first post of each drop this batch created: its project and time are the drop's.
    const created = rows.filter((r) => r.status === "new");
    const again = rows.filter((r) => r.status === "resubmission");
    if (created.length || again.length) {
      const fresh = rows.filter((r) => r.submission_id !== null).map((r) => items[r.ord - 1]!);
      const createdDrops = created.map((r) => items[r.ord - 1]!.dropNumber);
      const [settled] = await q.query<{ zone: string | null; reposted_with_feedback: string[] }>(SETTLE, [
        [...new Set(again.map((r) => items[r.ord - 1]!.dropNumber))],
        rows.filter((r) => r.submission_id !== null).map((r) => r.submission_id),
        timeZone,
        created.map((r) => r.project_id),
        created.map((r) => items[r.ord - 1]!.sentAt),
        dropIngestLockNames(fresh, createdDrops),
        createdDrops,
      ]);
      if (!settled?.zone) throw missingStatsZone();
      // The installer posted again: feedback about the old state must not go out.
      if (settled.reposted_with_feedback.length) await cancelUnsent(q, settled.reposted_with_feedback, "drop was resubmitted");
      // New drop messages: their senders' photos around them may now have a nearer one, photos naming a drop just
      // created (in a caption or a quoted message) can now link to it, and an edit (delivered under the id of the
      // message it edits) adds its drops to the photo whose caption it is, or to the photos around that message.
      await relinkLockedPhotos(
        q,
        { senders: windowsAround(fresh, photoWindowMinutes), dropNumbers: createdDrops, messages: fresh },
        photoWindowMinutes,
      );
    }
    return rows;
  });
  return rows.map((r) => {
    const item = items[r.ord - 1]!;
    return { messageId: item.messageId, dropNumber: item.dropNumber, status: r.status };
  });
}
