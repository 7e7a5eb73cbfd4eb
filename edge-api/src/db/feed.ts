// Read side for the dashboard: the feed (keyset-paginated, newest activity first) and one drop with its
// submissions, reviews, feedback and photos (daily counts: daily-stats.ts). Calendar days are taken in the
// configured time zone and turned into timestamptz bounds, so the range conditions stay index-friendly.
import { QA_STEP_KEYS, type DropDetail, type DropStatus, type FeedbackStatus, type FeedItem, type QaSteps } from "@wa-monitor/shared";
import type { Queryable } from "./client.ts";
import { photoJson, toPhotoView } from "./photo-views.ts";

const STEP_COLUMNS = QA_STEP_KEYS.map((k) => `d.${k}`).join(", ");

// The photo count is read from photo_links_drop_idx for each drop of the page only (after its LIMIT).
const DROP_COLUMNS = /* sql */ `
  d.drop_number, p.name AS project, d.status, d.resubmitted, d.first_submitted_at, d.last_submitted_at,
  d.comment, d.feedback_sent_at, d.reviewer, d.reviewed_at, ${STEP_COLUMNS},
  ls.sender_name, ls.sender_phone, ls.session,
  (SELECT count(*) FROM photo_links pl WHERE pl.drop_number = d.drop_number)::int AS photo_count`;

// The sender shown for a drop is the one of its latest submission.
const LATEST_SUBMISSION = /* sql */ `
  LEFT JOIN LATERAL (
    SELECT s.sender_name, s.sender_phone, s.session
    FROM submissions s
    WHERE s.drop_number = d.drop_number
    ORDER BY s.sent_at DESC, s.id DESC
    LIMIT 1
  ) ls ON true`;

// What a drop must match, whatever the shape of the query: status, local calendar day, and the keyset cursor.
// Parameters: $1 status, $2 date, $3/$4 cursor, $6 time zone ($5 is the page size).
const DROP_MATCHES = /* sql */ `
  ($1::text IS NULL OR d.status = $1)
  AND ($2::date IS NULL OR (d.last_submitted_at >= ($2::date)::timestamp AT TIME ZONE $6
                            AND d.last_submitted_at < ($2::date + 1)::timestamp AT TIME ZONE $6))
  AND ($3::timestamptz IS NULL OR (d.last_submitted_at, d.drop_number) < ($3::timestamptz, $4::text))`;

const NEWEST_FIRST = /* sql */ `ORDER BY d.last_submitted_at DESC, d.drop_number DESC`;

const FEED = /* sql */ `
  SELECT ${DROP_COLUMNS}
  FROM drops d
  JOIN projects p ON p.id = d.project_id
  ${LATEST_SUBMISSION}
  WHERE ${DROP_MATCHES}
  ${NEWEST_FIRST}
  LIMIT $5`;

// A project is a name ($7), which may cover several groups (projects rows). Filtering the join by name would
// leave Postgres to walk the whole feed until it met a page of that project's drops — hundreds of thousands of
// rows for a small project, such as a test group. Instead each group's newest drops come straight from its own
// index (drops by project, or by project and status), and the page is the newest of those.
const FEED_OF_PROJECT = /* sql */ `
  SELECT ${DROP_COLUMNS}
  FROM projects p
  CROSS JOIN LATERAL (
    SELECT * FROM drops d
    WHERE d.project_id = p.id AND ${DROP_MATCHES}
    ${NEWEST_FIRST}
    LIMIT $5
  ) d
  ${LATEST_SUBMISSION}
  WHERE p.name = $7
  ${NEWEST_FIRST}
  LIMIT $5`;

// One drop with everything recorded about it, in one statement: a Worker pays a network round trip per
// statement, and this page is opened for every drop a reviewer looks at.
const DROP = /* sql */ `
  SELECT ${DROP_COLUMNS},
    (SELECT coalesce(json_agg(json_build_object(
              'message_id', s.message_id, 'chat_jid', s.chat_jid, 'session', s.session, 'sender_jid', s.sender_jid,
              'sender_phone', s.sender_phone, 'sender_name', s.sender_name, 'text', s.text, 'sent_at', s.sent_at,
              'received_at', s.received_at, 'is_resubmission', s.is_resubmission) ORDER BY s.sent_at, s.id), '[]')
     FROM submissions s WHERE s.drop_number = d.drop_number) AS submissions,
    (SELECT coalesce(json_agg(json_build_object(
              'status', r.status, 'steps', r.steps, 'comment', r.comment, 'reviewer', r.reviewer,
              'created_at', r.created_at) ORDER BY r.created_at, r.id), '[]')
     FROM reviews r WHERE r.drop_number = d.drop_number) AS reviews,
    (SELECT coalesce(json_agg(json_build_object(
              'id', f.id::text, 'status', f.status, 'text', f.text, 'due_at', f.due_at, 'sent_at', f.sent_at,
              'attempts', f.attempts, 'error', f.error) ORDER BY f.created_at, f.id), '[]')
     FROM feedback f WHERE f.drop_number = d.drop_number) AS feedback,
    (SELECT coalesce(json_agg(${photoJson("l.linked_by")} ORDER BY ph.sent_at, ph.id), '[]')
     FROM photo_links l JOIN photos ph ON ph.id = l.photo_id WHERE l.drop_number = d.drop_number) AS photos
  FROM drops d
  JOIN projects p ON p.id = d.project_id
  ${LATEST_SUBMISSION}
  WHERE d.drop_number = $1`;


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
    session: strOrNull(r.session),
    bridge: strOrNull(r.session), // deprecated name, same value
    steps,
    comment: strOrNull(r.comment),
    feedbackSentAt: isoOrNull(r.feedback_sent_at),
    photoCount: Number(r.photo_count),
  };
}

export interface FeedFilter {
  project?: string | undefined;
  status?: DropStatus | undefined;
  date?: string | undefined;
  after?: { at: string; dropNumber: string } | undefined;
  limit: number;
}

/** The statement and parameters behind a feed page (exported so tests can read its plan). */
export function feedQuery(f: FeedFilter, timeZone: string): { text: string; params: unknown[] } {
  const params = [f.status ?? null, f.date ?? null, f.after?.at ?? null, f.after?.dropNumber ?? null, f.limit, timeZone];
  return f.project === undefined ? { text: FEED, params } : { text: FEED_OF_PROJECT, params: [...params, f.project] };
}

export async function listDrops(db: Queryable, f: FeedFilter, timeZone: string): Promise<FeedItem[]> {
  const { text, params } = feedQuery(f, timeZone);
  return (await db.query(text, params)).map(toFeedItem);
}

export async function getDrop(db: Queryable, dropNumber: string): Promise<DropDetail | null> {
  const [row] = await db.query(DROP, [dropNumber]);
  if (!row) return null;
  // The driver parses the json columns into arrays of objects with the column names as keys.
  const subs = row.submissions as Row[];
  const reviews = row.reviews as Row[];
  const feedback = row.feedback as Row[];
  return {
    ...toFeedItem(row),
    reviewer: strOrNull(row.reviewer),
    reviewedAt: isoOrNull(row.reviewed_at),
    submissions: subs.map((s) => ({
      messageId: String(s.message_id),
      chatJid: String(s.chat_jid),
      session: String(s.session),
      bridge: String(s.session), // deprecated name, same value
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
    photos: (row.photos as Row[]).map(toPhotoView),
  };
}
