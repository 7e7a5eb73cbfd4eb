// Routes the agent calls with AGENT_TOKEN.
import { DropsIngestRequest, ProjectsUpsertRequest } from "@wa-monitor/shared";
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
  });
