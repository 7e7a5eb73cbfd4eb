// Read side for the dashboard: the feed (keyset-paginated, newest activity first) and one drop with its
// submissions (daily counts: daily-stats.ts). Calendar days are taken in the configured time zone and turned into
// timestamptz bounds, so the range conditions stay index-friendly.
import { QA_STEP_KEYS, type DropDetail, type DropStatus, type FeedbackStatus, type FeedItem, type QaSteps } from "@wa-monitor/shared";
import type { Queryable } from "./client.ts";

const STEP_COLUMNS = QA_STEP_KEYS.map((k) => `d.${k}`).join(", ");

const DROP_COLUMNS = /* sql */ `
  d.drop_number, p.name AS project, d.status, d.resubmitted, d.first_submitted_at, d.last_submitted_at,
  d.comment, d.feedback_sent_at, d.reviewer, d.reviewed_at, ${STEP_COLUMNS},
  ls.sender_name, ls.sender_phone, ls.bridge`;

// The sender shown for a drop is the one of its latest submission.
const LATEST_SUBMISSION = /* sql */ `
  LEFT JOIN LATERAL (
    SELECT s.sender_name, s.sender_phone, s.bridge
    FROM submissions s
    WHERE s.drop_number = d.drop_number
    ORDER BY s.sent_at DESC, s.id DESC
    LIMIT 1
  ) ls ON true`;

const FEED = /* sql */ `
  SELECT ${DROP_COLUMNS}
  FROM drops d
  JOIN projects p ON p.id = d.project_id
  ${LATEST_SUBMISSION}
  WHERE ($1::text IS NULL OR p.name = $1)
    AND ($2::text IS NULL OR d.status = $2)
    AND ($3::date IS NULL OR (d.last_submitted_at >= ($3::date)::timestamp AT TIME ZONE $7
                              AND d.last_submitted_at < ($3::date + 1)::timestamp AT TIME ZONE $7))
    AND ($4::timestamptz IS NULL OR (d.last_submitted_at, d.drop_number) < ($4::timestamptz, $5::text))
  ORDER BY d.last_submitted_at DESC, d.drop_number DESC
  LIMIT $6`;

const DROP = /* sql */ `
  SELECT ${DROP_COLUMNS}
  FROM drops d
  JOIN projects p ON p.id = d.project_id
  ${LATEST_SUBMISSION}
  WHERE d.drop_number = $1`;

const SUBMISSIONS = /* sql */ `
  SELECT message_id, chat_jid, bridge, sender_jid, sender_phone, sender_name, text, sent_at, received_at,
         is_resubmission
  FROM submissions
  WHERE drop_number = $1
  ORDER BY sent_at, id`;

const REVIEWS = /* sql */ `
  SELECT status, steps, comment, reviewer, created_at FROM reviews WHERE drop_number = $1 ORDER BY created_at, id`;

const FEEDBACK = /* sql */ `
  SELECT id::text AS id, status, text, due_at, sent_at, attempts, error
  FROM feedback WHERE drop_number = $1 ORDER BY created_at, id`;

type Row = Record<string, unknown>;

const iso = (v: unknown): string => (v instanceof Date ? v : new Date(String(v))).toISOString();
const isoOrNull = (v: unknown): string | null => (v == null ? null : iso(v));
const strOrNull = (v: unknown): string | null => (v == null ? null : String(v));

function toFeedItem(r: Row): FeedItem {
  const steps = Object.fromEntries(QA_STEP_KEYS.map((k) => [k, r[k] === true])) as QaSteps;
  return {
    dropNumber: String(r.drop_number),
    project: String(r.project),
    status: r.status as DropStatus,
    resubmitted: r.resubmitted === true,
    firstSubmittedAt: iso(r.first_submitted_at),
    lastSubmittedAt: iso(r.last_submitted_at),
    senderName: strOrNull(r.sender_name),
    senderPhone: strOrNull(r.sender_phone),
    bridge: strOrNull(r.bridge),
    steps,
    comment: strOrNull(r.comment),
    feedbackSentAt: isoOrNull(r.feedback_sent_at),
  };
}

export interface FeedFilter {
  project?: string | undefined;
  status?: DropStatus | undefined;
  date?: string | undefined;
  after?: { at: string; dropNumber: string } | undefined;
  limit: number;
}

export async function listDrops(db: Queryable, f: FeedFilter, timeZone: string): Promise<FeedItem[]> {
  const rows = await db.query(FEED, [
    f.project ?? null,
    f.status ?? null,
    f.date ?? null,
    f.after?.at ?? null,
    f.after?.dropNumber ?? null,
    f.limit,
    timeZone,
  ]);
  return rows.map(toFeedItem);
}

export async function getDrop(db: Queryable, dropNumber: string): Promise<DropDetail | null> {
  const [row] = await db.query(DROP, [dropNumber]);
  if (!row) return null;
  const subs = await db.query(SUBMISSIONS, [dropNumber]);
  const reviews = await db.query(REVIEWS, [dropNumber]);
  const feedback = await db.query(FEEDBACK, [dropNumber]);
  return {
    ...toFeedItem(row),
    reviewer: strOrNull(row.reviewer),
    reviewedAt: isoOrNull(row.reviewed_at),
    submissions: subs.map((s) => ({
      messageId: String(s.message_id),
      chatJid: String(s.chat_jid),
      bridge: String(s.bridge),
      senderJid: String(s.sender_jid),
      senderPhone: strOrNull(s.sender_phone),
      senderName: strOrNull(s.sender_name),
      text: String(s.text),
      sentAt: iso(s.sent_at),
      receivedAt: iso(s.received_at),
      resubmission: s.is_resubmission === true,
    })),
    reviews: reviews.map((r) => ({
      status: r.status as "complete" | "incomplete",
      steps: r.steps as QaSteps,
      comment: strOrNull(r.comment),
      reviewer: String(r.reviewer),
      createdAt: iso(r.created_at),
    })),
    feedback: feedback.map((f) => ({
      id: String(f.id),
      status: f.status as FeedbackStatus,
      text: String(f.text),
      dueAt: iso(f.due_at),
      sentAt: isoOrNull(f.sent_at),
      attempts: Number(f.attempts),
      error: strOrNull(f.error),
    })),
  };
}
