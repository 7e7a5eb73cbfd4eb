// Routes the agent calls with AGENT_TOKEN.
import { createRoute, z } from "@hono/zod-openapi";
import {
  DropsIngestRequest,
  DropsIngestResponse,
  FeedbackAckRequest,
  FeedbackAckResponse,
  FeedbackHandOutQuery,
  FeedbackHandOutResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  ProjectsUpsertRequest,
  ProjectsUpsertResponse,
} from "@wa-monitor/shared";
import { recordHeartbeat } from "../db/sessions.ts";
import { ingestSubmissions } from "../db/ingest.ts";
import { upsertProjects } from "../db/projects.ts";
import { feedbackLimits } from "../feedback/limits.ts";
import { acknowledge, handOut } from "../feedback/queue/index.ts";
import { agentToken, BODY, errors, json, jsonBody, routes, V1 } from "../http/openapi.ts";

const tags = ["agent"];
const LAWLEY = "120363418298130331@g.us";

const putProjects = createRoute({
  method: "put",
  path: "/v1/agent/projects",
  operationId: "putProjects",
  tags,
  summary: "Upsert the agent's projects",
  description: "Keyed on the group JID: a name may cover several groups (a recreated group), a rename keeps the project.",
  ...agentToken,
  request: {
    body: jsonBody(ProjectsUpsertRequest, {
      projects: [{ name: "Lawley", groupJid: LAWLEY, enabled: true, description: "Lawley fibre rollout" }],
    }),
  },
  responses: { 200: json(ProjectsUpsertResponse, "The projects are stored."), ...errors(...V1, ...BODY, "conflict") },
});

const postDrops = createRoute({
  method: "post",
  path: "/v1/agent/drops",
  operationId: "postDrops",
  tags,
  summary: "Ingest drop submissions",
  description:
    "1–500 submissions; one result per submission, in order: `new`, `resubmission`, `duplicate` (the same " +
    "message, drop and group again: changes nothing) or `unknown_group`. Safe to retry.",
  ...agentToken,
  request: {
    body: jsonBody(DropsIngestRequest, {
      submissions: [
        {
          messageId: "3EB0A1B2C3D4E5F60718",
          chatJid: LAWLEY,
          dropNumber: "DR12345678",
          session: "primary",
          senderJid: "27821234567@s.whatsapp.net",
          senderPhone: "+27821234567",
          senderName: "Thabo",
          text: "DR12345678 done, all photos posted",
          sentAt: "2026-11-24T08:15:00.000Z",
        },
      ],
    }),
  },
  responses: { 200: json(DropsIngestResponse, "A result per submission."), ...errors(...V1, ...BODY, "conflict") },
});

const heartbeat = createRoute({
  method: "post",
  path: "/v1/agent/heartbeat",
  operationId: "postHeartbeat",
  tags,
  summary: "Report the agent's sessions",
  description: "Every 30 s. A session whose agent stops reporting is flagged `stale` in GET /v1/sessions.",
  ...agentToken,
  request: {
    body: jsonBody(HeartbeatRequest, {
      agent: "vps-1",
      sessions: [{ name: "primary", role: "capture", state: "open", phone: "27821234567", lastEventAt: "2026-11-24T08:15:00.000Z" }],
    }),
  },
  responses: { 200: json(HeartbeatResponse, "Recorded."), ...errors(...V1, ...BODY) },
});

const handOutFeedback = {
  method: "get",
  tags,
  summary: "Claim feedback messages to post",
  description:
    "Claims up to `limit` due feedback messages for a lease, within the sending number's rate limits. " +
    "`leaseSeconds` is what is left of the claim on the edge's clock: do not start a send after it.",
  ...agentToken,
  request: { query: FeedbackHandOutQuery },
  responses: { 200: json(FeedbackHandOutResponse, "The claimed messages, possibly none."), ...errors(...V1, "invalid_request") },
} as const;

const FeedbackId = z.object({
  id: z.string().regex(/^\d{1,18}$/, "a feedback message id").meta({ description: "A feedback message's id.", example: "1" }),
});

const ackFeedback = {
  method: "post",
  tags,
  summary: "Acknowledge a feedback message",
  description: "`sent` with the WhatsApp message id, or `failed`. Idempotent: a repeated `sent` changes nothing.",
  ...agentToken,
  request: {
    params: FeedbackId,
    body: jsonBody(FeedbackAckRequest, { status: "sent", waMessageId: "3EB0FEEDBACK000000001", session: "sender" }),
  },
  responses: { 200: json(FeedbackAckResponse, "The message's status now."), ...errors(...V1, ...BODY, "not_found") },
} as const;

const DEPRECATED_OUTBOX = "Deprecated alias, for agents not yet updated: ";

export const agent = routes()
  .openapi(putProjects, async (c) => {
    const { projects } = c.req.valid("json");
    const changed = await upsertProjects(c.var.db, projects);
    return c.json({ upserted: projects.length, changed }, 200);
  })
  .openapi(postDrops, async (c) => {
    const { submissions } = c.req.valid("json");
    const results = await ingestSubmissions(c.var.db, submissions, c.var.config.TIMEZONE, c.var.config.PHOTO_WINDOW_MINUTES);
    return c.json({ results }, 200);
  })
  .openapi(heartbeat, async (c) => {
    await recordHeartbeat(c.var.db, c.req.valid("json"), new Date());
    return c.json({ ok: true as const }, 200);
  })
  // Handing out schedules as well as cron, so feedback leaves within seconds of a review, under the same limits.
  .openapi(createRoute({ ...handOutFeedback, path: "/v1/agent/feedback", operationId: "handOutFeedback" }), async (c) => {
    const messages = await handOut(c.var.db, feedbackLimits(c.var.config), () => new Date(), c.req.valid("query").limit);
    return c.json({ messages }, 200);
  })
  .openapi(createRoute({ ...ackFeedback, path: "/v1/agent/feedback/{id}/ack", operationId: "ackFeedback" }), async (c) => {
    const { config, db } = c.var;
    return c.json(await acknowledge(db, c.req.valid("param").id, c.req.valid("json"), new Date(), config.FEEDBACK_MAX_ATTEMPTS), 200);
  })
  .openapi(
    createRoute({
      ...handOutFeedback,
      path: "/v1/agent/outbox",
      operationId: "handOutFeedbackViaOutbox",
      deprecated: true,
      description: `${DEPRECATED_OUTBOX}GET /v1/agent/feedback.`,
    }),
    async (c) => {
      const messages = await handOut(c.var.db, feedbackLimits(c.var.config), () => new Date(), c.req.valid("query").limit);
      return c.json({ messages }, 200);
    },
  )
  .openapi(
    createRoute({
      ...ackFeedback,
      path: "/v1/agent/outbox/{id}/ack",
      operationId: "ackFeedbackViaOutbox",
      deprecated: true,
      description: `${DEPRECATED_OUTBOX}POST /v1/agent/feedback/{id}/ack.`,
    }),
    async (c) => {
      const { config, db } = c.var;
      return c.json(await acknowledge(db, c.req.valid("param").id, c.req.valid("json"), new Date(), config.FEEDBACK_MAX_ATTEMPTS), 200);
    },
  );
