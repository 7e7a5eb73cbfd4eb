// Routes the agent calls with AGENT_TOKEN.
import { AckRequest, DropsIngestRequest, HeartbeatRequest, OutboxQuery, ProjectsUpsertRequest } from "@wa-monitor/shared";
import { z } from "zod";
import { recordHeartbeat } from "../db/bridges.ts";
import { feedbackLimits } from "../feedback/limits.ts";
import { acknowledge, handOut } from "../feedback/queue/index.ts";
import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { ingestSubmissions } from "../db/ingest.ts";
import { upsertProjects } from "../db/projects.ts";
import { requireToken } from "../http/auth.ts";
import { validate } from "../http/validate.ts";

export const agent = new Hono<AppEnv>()
  .use(requireToken("AGENT_TOKEN"))
  .put("/projects", validate("json", ProjectsUpsertRequest), async (c) => {
    const { projects } = c.req.valid("json");
    const changed = await upsertProjects(c.var.db, projects);
    return c.json({ upserted: projects.length, changed });
  })
  .post("/drops", validate("json", DropsIngestRequest), async (c) => {
    const { submissions } = c.req.valid("json");
    const results = await ingestSubmissions(c.var.db, submissions, c.var.config.TIMEZONE);
    return c.json({ results });
  })
  .post("/heartbeat", validate("json", HeartbeatRequest), async (c) => {
    await recordHeartbeat(c.var.db, c.req.valid("json"), new Date());
    return c.json({ ok: true });
  })
  .get("/outbox", validate("query", OutboxQuery), async (c) => {
    const messages = await handOut(c.var.db, feedbackLimits(c.var.config), () => new Date(), c.req.valid("query").limit);
    return c.json({ messages });
  })
  .post(
    "/outbox/:id/ack",
    validate("param", z.object({ id: z.string().regex(/^\d{1,18}$/, "a feedback message id") })),
    validate("json", AckRequest),
    async (c) => {
      const result = await acknowledge(c.var.db, c.req.valid("param").id, c.req.valid("json"), new Date(), c.var.config.FEEDBACK_MAX_ATTEMPTS);
      return c.json(result);
    },
  );
