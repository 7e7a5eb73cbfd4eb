// The wire contract between the agent and the edge, and the edge's public API. Both sides import these
// schemas; nothing here is ever copied into either side.
import { z } from "zod";
import { QA_STEP_KEYS } from "./qa-steps.ts";

// Field descriptions and `deprecated` marks are plain zod metadata (`.meta()`); the edge turns these schemas
// into its OpenAPI document and names each component after its export here.

export const MAX_BATCH = 500;

/** Normalised drop number: the detector upper-cases and strips separators. Per-project patterns may differ
 * from DR+8 digits, so the wire form is any short upper-case token. */
export const DropNumber = z
  .string()
  .regex(/^[A-Z0-9]{2,40}$/, "drop number must be 2-40 upper-case letters or digits, e.g. DR12345678");

export const GroupJid = z
  .string()
  .max(64)
  .regex(/^[0-9-]+@g\.us$/, "group JID must look like 120363000000000000@g.us");

/** Free text: Postgres refuses NUL characters, so they are refused here, at the door. */
export const Text = (max: number) =>
  z.string().max(max).refine((s) => !s.includes("\u0000"), "must not contain NUL characters");

const inRange = (ms: number) => ms >= Date.UTC(2000, 0, 1) && ms < Date.UTC(2100, 0, 1);

/** ISO 8601 with an offset, between 2000 and 2099 (WhatsApp timestamps; nothing else is meaningful). */
export const IsoTimestamp = z.iso
  .datetime({ offset: true })
  .refine((s) => inRange(Date.parse(s)), "must be a time between 2000 and 2099 with a valid offset");

export const ProjectInput = z.object({
  name: Text(100).trim().min(1),
  groupJid: GroupJid,
  enabled: z.boolean(),
  description: Text(1000).default(""),
});
export type ProjectInput = z.infer<typeof ProjectInput>;

export const ProjectsUpsertRequest = z
  .object({ projects: z.array(ProjectInput).min(1).max(1000) })
  .superRefine((v, ctx) => {
    const names = new Set<string>();
    const jids = new Set<string>();
    v.projects.forEach((p, i) => {
      if (names.has(p.name)) ctx.addIssue({ code: "custom", path: ["projects", i, "name"], message: "duplicate project name" });
      if (jids.has(p.groupJid)) ctx.addIssue({ code: "custom", path: ["projects", i, "groupJid"], message: "duplicate group JID" });
      names.add(p.name);
      jids.add(p.groupJid);
    });
  });
export type ProjectsUpsertRequest = z.infer<typeof ProjectsUpsertRequest>;

export const ProjectsUpsertResponse = z.object({
  upserted: z.number().int().meta({ description: "How many projects the request named." }),
  changed: z.number().int().meta({ description: "How many of them were new or differed from what the edge had." }),
});
export type ProjectsUpsertResponse = z.infer<typeof ProjectsUpsertResponse>;

/** A project as the edge holds it (GET /v1/projects). */
export const ProjectView = z.object({ name: z.string(), groupJid: z.string(), enabled: z.boolean(), description: z.string() });
export const ProjectsResponse = z.object({ projects: z.array(ProjectView) });
export type ProjectsResponse = z.infer<typeof ProjectsResponse>;

/** A WhatsApp session: one number linked to an agent, named in the agent's config. */
export const SessionName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, "use lower-case letters, digits, - and _ (at most 40, starting with a letter or digit)");

const deprecatedBridge = "Deprecated: the old name of `session`, with the same value. Kept until a migration note says otherwise.";

/** Longest text a submission carries, in UTF-16 code units (JavaScript string length): longer messages are
 * truncated by the agent, never refused. */
export const SUBMISSION_TEXT_MAX = 65536;

/** One drop seen in one WhatsApp message. `session` names the session that saw it; agents older than the rename
 * send `bridge` instead, which is still accepted: at least one is required, and both must agree. Parsed, it
 * always carries `session` and never `bridge`. */
export const DropSubmission = z
  .object({
    messageId: Text(128).min(1),
    chatJid: GroupJid,
    dropNumber: DropNumber,
    session: SessionName.optional().meta({ description: "The session that saw the message. Required unless `bridge` is given." }),
    bridge: SessionName.optional().meta({ deprecated: true, description: deprecatedBridge }),
    senderJid: Text(128).min(1),
    senderPhone: z.string().regex(/^\+?[0-9]{5,20}$/).nullish(),
    senderName: Text(200).nullish(),
    text: Text(SUBMISSION_TEXT_MAX),
    sentAt: IsoTimestamp,
  })
  .refine((s) => s.session !== undefined || s.bridge !== undefined, { path: ["session"], message: "required" })
  .refine((s) => s.session === undefined || s.bridge === undefined || s.session === s.bridge, {
    path: ["bridge"],
    message: "must equal session when both are given (bridge is the deprecated name of session)",
  })
  .transform(({ bridge, ...s }) => ({ ...s, session: (s.session ?? bridge)! }));
export type DropSubmission = z.infer<typeof DropSubmission>;

export const DropsIngestRequest = z.object({
  submissions: z.array(DropSubmission).min(1).max(MAX_BATCH),
});
export type DropsIngestRequest = z.infer<typeof DropsIngestRequest>;

export const IngestStatus = z.enum(["new", "resubmission", "duplicate", "unknown_group"]);
export type IngestStatus = z.infer<typeof IngestStatus>;

export const DropsIngestResponse = z.object({
  results: z.array(z.object({ messageId: z.string(), dropNumber: DropNumber, status: IngestStatus })),
});
export type DropsIngestResponse = z.infer<typeof DropsIngestResponse>;

export const DropStatus = z.enum(["new", "resubmitted", "complete", "incomplete"]);
export type DropStatus = z.infer<typeof DropStatus>;

const stepShape = Object.fromEntries(QA_STEP_KEYS.map((k) => [k, z.boolean()])) as Record<
  (typeof QA_STEP_KEYS)[number],
  z.ZodBoolean
>;
export const StepsMap = z.object(stepShape);

/** What became of an image at the agent: its bytes uploaded (`stored`), or recorded without them and why. */
export const PhotoState = z.enum(["stored", "too_large", "unsupported", "failed", "skipped"]);
export type PhotoState = z.infer<typeof PhotoState>;

/** A QA step key (shared/src/qa-steps.ts). */
export const QaStep = z.enum(QA_STEP_KEYS);
export const PhotoLinkedBy = z.enum(["caption", "reply", "sender_window", "manual"]);
export type PhotoLinkedBy = z.infer<typeof PhotoLinkedBy>;

/** A photo as the dashboard sees it, beside a drop. */
export const PhotoView = z.object({
  id: z.string().regex(/^\d+$/),
  messageId: z.string(),
  senderJid: z.string(),
  senderName: z.string().nullable(),
  sentAt: IsoTimestamp,
  caption: z.string().nullable(),
  mimetype: z.string().nullable(),
  bytes: z.number().int().nullable(),
  sha256: z.string().nullable(),
  state: PhotoState,
  linkedBy: PhotoLinkedBy.nullable().meta({ description: "How it is linked to the drop it is listed with; null when unlinked." }),
  step: QaStep.nullable().meta({ description: "The QA step a reviewer tagged it with." }),
  suggestedStep: QaStep.nullable().meta({ description: "The step its caption suggests; the reviewer decides." }),
});
export type PhotoView = z.infer<typeof PhotoView>;

export const FeedItem = z.object({
  dropNumber: DropNumber,
  project: z.string(),
  status: DropStatus,
  resubmitted: z.boolean(),
  firstSubmittedAt: IsoTimestamp,
  lastSubmittedAt: IsoTimestamp,
  senderName: z.string().nullable(),
  senderPhone: z.string().nullable(),
  session: z.string().nullable().meta({ description: "The session that delivered the drop's latest post." }),
  bridge: z.string().nullable().meta({ deprecated: true, description: deprecatedBridge }),
  steps: StepsMap,
  comment: z.string().nullable(),
  feedbackSentAt: IsoTimestamp.nullable(),
  photoCount: z.number().int().min(0).meta({ description: "How many photos are linked to the drop." }),
});
export type FeedItem = z.infer<typeof FeedItem>;

export const FeedResponse = z.object({ items: z.array(FeedItem), nextCursor: z.string().nullable() });
export type FeedResponse = z.infer<typeof FeedResponse>;

export const CalendarDate = z.iso
  .date()
  .refine((d) => inRange(Date.parse(d)), "must be a date between 2000-01-01 and 2099-12-31");

export const FeedQuery = z.object({
  project: z.string().min(1).max(100).optional(),
  status: DropStatus.optional(),
  date: CalendarDate.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
});
export type FeedQuery = z.infer<typeof FeedQuery>;

export const SubmissionView = z.object({
  messageId: z.string(),
  chatJid: z.string(),
  session: z.string().meta({ description: "The session that delivered this post first." }),
  bridge: z.string().meta({ deprecated: true, description: deprecatedBridge }),
  senderJid: z.string(),
  senderPhone: z.string().nullable(),
  senderName: z.string().nullable(),
  text: z.string(),
  sentAt: IsoTimestamp,
  receivedAt: IsoTimestamp,
  resubmission: z.boolean(),
});

export const ReviewView = z.object({
  status: z.enum(["complete", "incomplete"]),
  steps: StepsMap,
  comment: z.string().nullable(),
  reviewer: z.string(),
  createdAt: IsoTimestamp,
});

export const FeedbackStatus = z.enum(["pending", "claimed", "sent", "failed", "cancelled"]);
export type FeedbackStatus = z.infer<typeof FeedbackStatus>;

export const FeedbackView = z.object({
  id: z.string(),
  status: FeedbackStatus,
  text: z.string(),
  dueAt: IsoTimestamp,
  sentAt: IsoTimestamp.nullable(),
  attempts: z.number().int(),
  error: z.string().nullable(),
});

export const DropDetail = FeedItem.extend({
  reviewer: z.string().nullable(),
  reviewedAt: IsoTimestamp.nullable(),
  submissions: z.array(SubmissionView),
  reviews: z.array(ReviewView),
  feedback: z.array(FeedbackView),
  photos: z.array(PhotoView).meta({ description: "The photos linked to the drop, in the order they were sent, each once." }),
});
export type DropDetail = z.infer<typeof DropDetail>;

/** A review's answer: the drop as it now is, the review's id, and the feedback it scheduled (incomplete only). */
export const ReviewResponse = DropDetail.extend({ reviewId: z.string(), feedbackId: z.string().nullable() });
export type ReviewResponse = z.infer<typeof ReviewResponse>;

export const StatsQuery = z
  .object({
    from: CalendarDate.meta({ description: "First local day, inclusive.", example: "2026-11-01" }),
    to: CalendarDate.meta({ description: "Last local day, inclusive.", example: "2026-11-30" }),
  })
  .refine((q) => q.from <= q.to, { message: "from must not be after to", path: ["from"] })
  .refine((q) => (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 < 366, {
    message: "at most 366 days per request",
    path: ["to"],
  });

export const DailyStats = z.object({
  days: z.array(
    z.object({
      date: CalendarDate,
      project: z.string(),
      new: z.number().int(),
      resubmitted: z.number().int(),
      complete: z.number().int(),
      incomplete: z.number().int(),
    }),
  ),
});
export type DailyStats = z.infer<typeof DailyStats>;

// QA review: a partial step map is merged into the drop's; unknown step names are refused.
export const ReviewRequest = z
  .object({
    steps: StepsMap.partial().strict().default({}),
    status: z.enum(["complete", "incomplete"]),
    comment: Text(2000).trim().optional(),
    reviewer: Text(100).trim().min(1),
  })
  .strict();
export type ReviewRequest = z.infer<typeof ReviewRequest>;

export const SessionState = z.enum(["connecting", "qr", "open", "stale", "closed", "logged_out", "failed"]);
export type SessionState = z.infer<typeof SessionState>;

export const SessionRole = z.enum(["capture", "sender", "both"]);
export type SessionRole = z.infer<typeof SessionRole>;

export const SessionReport = z.object({
  name: SessionName,
  role: SessionRole,
  state: SessionState,
  phone: z.string().max(32).nullable(),
  lastEventAt: IsoTimestamp.nullable(),
});
export type SessionReport = z.infer<typeof SessionReport>;

export const HeartbeatRequest = z.object({
  agent: Text(100).trim().min(1),
  sessions: z
    .array(SessionReport)
    .max(50)
    .refine((ss) => new Set(ss.map((s) => s.name)).size === ss.length, "session names must be unique"),
});
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

export const HeartbeatResponse = z.object({ ok: z.literal(true) });

/** One feedback message the agent should post now; claimed for a lease until it acks. */
export const FeedbackHandOut = z.object({
  id: z.string().regex(/^\d+$/),
  chatJid: GroupJid,
  text: z.string(),
  dropNumber: DropNumber,
  mentions: z.array(z.string()),
  /** Which hand-out of this message this is; a "failed" ack names it so a stale one cannot undo a newer claim. */
  attempt: z.number().int().min(1),
  /** Past this the edge may hand the message to someone else: do not start sending it after. */
  claimedUntil: IsoTimestamp,
  /** Seconds of the claim left when the edge answered. The agent times its claim from when it received this,
   * on its own monotonic clock, so a skewed agent clock cannot make it send on a claim that has run out. */
  leaseSeconds: z.number().int().min(0),
});
export type FeedbackHandOut = z.infer<typeof FeedbackHandOut>;

export const FeedbackHandOutResponse = z.object({ messages: z.array(FeedbackHandOut) });
export type FeedbackHandOutResponse = z.infer<typeof FeedbackHandOutResponse>;

// Up to 500 per poll: a backlog is claimed in few requests, each with its own database connection. The agent
// itself asks for no more than it can send within a lease (its feedback.batchSize, at most 50).
export const FeedbackHandOutQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(10) });

export const FeedbackAckRequest = z.discriminatedUnion("status", [
  z.object({
    status: z.literal("sent"),
    waMessageId: z.string().min(1).max(128),
    /** The session that sent it, and whether that was a fallback because the sender session was down. */
    session: SessionName.optional(),
    fallback: z.boolean().optional(),
  }),
  z.object({ status: z.literal("failed"), error: Text(1000).min(1), attempt: z.number().int().min(1).optional() }),
]);
export type FeedbackAckRequest = z.infer<typeof FeedbackAckRequest>;

export const FeedbackAckResponse = z.object({ id: z.string(), status: FeedbackStatus });

/** A session as its agent last reported it (heartbeats), with the last drop it delivered. */
export const SessionView = z.object({
  agent: z.string(),
  session: z.string(),
  role: SessionRole,
  state: SessionState,
  phone: z.string().nullable(),
  lastHeartbeatAt: IsoTimestamp,
  lastEventAt: IsoTimestamp.nullable(),
  lastMessageAt: IsoTimestamp.nullable(),
  /** No heartbeat from its agent for the configured period. */
  stale: z.boolean(),
});
export type SessionView = z.infer<typeof SessionView>;
export const SessionsResponse = z.object({ sessions: z.array(SessionView) });
export type SessionsResponse = z.infer<typeof SessionsResponse>;
/** Deprecated: GET /v1/bridges, the old name of GET /v1/sessions. */
export const BridgesResponse = z.object({ bridges: z.array(SessionView) });

/** What the dashboard needs to know of the edge's configuration. */
export const SettingsResponse = z.object({
  timeZone: z.string().meta({ description: "IANA zone of the teams' calendar days (the feed's date filter, daily stats)." }),
  qaSteps: z.array(z.object({ key: z.enum(QA_STEP_KEYS), label: z.string() })).meta({ description: "The QA photo steps, in order." }),
});
export type SettingsResponse = z.infer<typeof SettingsResponse>;

export const HealthOk = z.object({ status: z.literal("ok"), db: z.literal("ok") });
export const HealthDegraded = z.object({ status: z.literal("degraded"), db: z.literal("unavailable") });

export const ErrorCode = z.enum([
  "invalid_request",
  "invalid_json",
  "unauthorized",
  "not_found",
  "payload_too_large",
  "conflict",
  "db_unavailable",
  "misconfigured",
  "stats_zone_mismatch",
  "internal",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** The HTTP status of each error code: the one place they are paired, so an answer's status and code agree. */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  stats_zone_mismatch: 409,
  payload_too_large: 413,
  misconfigured: 500,
  internal: 500,
  db_unavailable: 503,
} as const satisfies Record<ErrorCode, number>;
export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];

export const ErrorBody = z.object({
  error: z.object({ code: ErrorCode, message: z.string(), details: z.unknown().optional() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The one error body every HTTP surface of the project answers with. */
export function errorBody(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}
