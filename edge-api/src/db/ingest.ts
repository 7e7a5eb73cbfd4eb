// Ingest of a batch of drop submissions in one transaction of at most three statements, whatever its size.
//
// The unique key (chat_jid, message_id, drop_number) is the gate: a submission that does not insert is a
// duplicate (a retry, or the backup bridge seeing the same message) and touches nothing else. Only fresh
// submissions upsert their drop; INSERT … ON CONFLICT on the drop's primary key makes concurrent batches agree
// on exactly one creator, so exactly one item anywhere is ever answered `new` for a drop.
import type { DropSubmission, IngestStatus } from "@wa-monitor/shared";
import type { Queryable } from "./client.ts";
import { CANCEL_UNSENT } from "./reviews.ts";

const INGEST = /* sql */ `
  WITH input AS (
    SELECT *
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                $9::timestamptz[])
         WITH ORDINALITY AS t(message_id, chat_jid, drop_number, bridge, sender_jid, sender_phone, sender_name,
                              body, sent_at, ord)
  ),
  known AS (
    -- First occurrence of each key in the batch; later copies in the same batch are duplicates of it.
    SELECT DISTINCT ON (i.chat_jid, i.message_id, i.drop_number) i.*, p.id AS project_id
    FROM input i JOIN projects p ON p.group_jid = i.chat_jid
    ORDER BY i.chat_jid, i.message_id, i.drop_number, i.ord
  ),
  inserted AS (
    INSERT INTO submissions (drop_number, project_id, chat_jid, message_id, bridge, sender_jid, sender_phone,
                             sender_name, text, sent_at)
    SELECT drop_number, project_id, chat_jid, message_id, bridge, sender_jid, sender_phone, sender_name, body,
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
  upserted AS (
    -- Sorted so concurrent multi-drop batches lock drops in the same order.
    INSERT INTO drops AS d (drop_number, project_id, status, resubmitted, first_submitted_at, last_submitted_at,
                            submission_count, comment)
    SELECT drop_number, project_id,
           CASE WHEN n > 1 THEN 'resubmitted' ELSE 'new' END, n > 1, first_at, last_at, n,
           CASE WHEN n > 1 THEN 'Resubmitted ' || to_char(last_at AT TIME ZONE $10, 'YYYY-MM-DD HH24:MI') END
    FROM per_drop
    ORDER BY drop_number
    ON CONFLICT (drop_number) DO UPDATE SET
      status             = 'resubmitted',
      resubmitted        = true,
      first_submitted_at = least(d.first_submitted_at, excluded.first_submitted_at),
      last_submitted_at  = greatest(d.last_submitted_at, excluded.last_submitted_at),
      submission_count   = d.submission_count + excluded.submission_count,
      feedback_sent_at   = NULL,
      comment            = concat_ws(E'\\n', nullif(d.comment, ''),
                             'Resubmitted ' || to_char(excluded.last_submitted_at AT TIME ZONE $10, 'YYYY-MM-DD HH24:MI')),
      updated_at         = now()
    RETURNING d.drop_number, (d.xmax = 0) AS created
  )
  SELECT i.ord::int AS ord,
         f.id::text AS submission_id,
         CASE
           WHEN p.id IS NULL THEN 'unknown_group'
           WHEN f.id IS NULL THEN 'duplicate'
           WHEN u.created AND f.rank_in_batch = 1 THEN 'new'
           ELSE 'resubmission'
         END AS status
  FROM input i
  LEFT JOIN projects p ON p.group_jid = i.chat_jid
  LEFT JOIN fresh f ON f.ord = i.ord
  LEFT JOIN upserted u ON u.drop_number = i.drop_number
  ORDER BY i.ord`;

// Kept on the submission so daily stats can count resubmissions by the day they happened.
const MARK_RESUBMISSIONS = /* sql */ `
  UPDATE submissions SET is_resubmission = true WHERE id = ANY($1::bigint[])`;

export interface IngestResult {
  messageId: string;
  dropNumber: string;
  status: IngestStatus;
}

export async function ingestSubmissions(
  db: { tx<T>(fn: (q: Queryable) => Promise<T>): Promise<T> },
  items: DropSubmission[],
  timeZone: string,
): Promise<IngestResult[]> {
  const rows = await db.tx(async (q) => {
    const rows = await q.query<{ ord: number; submission_id: string | null; status: IngestStatus }>(INGEST, [
      items.map((s) => s.messageId),
      items.map((s) => s.chatJid),
      items.map((s) => s.dropNumber),
      items.map((s) => s.bridge),
      items.map((s) => s.senderJid),
      items.map((s) => s.senderPhone ?? null),
      items.map((s) => s.senderName ?? null),
      items.map((s) => s.text),
      items.map((s) => s.sentAt),
      timeZone,
    ]);
    const resubmitted = rows.filter((r) => r.status === "resubmission");
    if (resubmitted.length) {
      await q.query(MARK_RESUBMISSIONS, [resubmitted.map((r) => r.submission_id)]);
      // The installer posted again: feedback about the old state must not go out.
      const drops = [...new Set(resubmitted.map((r) => items[r.ord - 1]!.dropNumber))];
      await q.query(CANCEL_UNSENT, [drops, "drop was resubmitted"]);
    }
    return rows;
  });
  return rows.map((r) => {
    const item = items[r.ord - 1]!;
    return { messageId: item.messageId, dropNumber: item.dropNumber, status: r.status };
  });
}
