import { Hono } from "hono";
import type { AppEnv } from "../context.ts";
import { requireToken } from "../http/auth.ts";

const LIST = /* sql */ `
  SELECT name, group_jid, enabled, description FROM projects ORDER BY name, group_jid`;

export const projects = new Hono<AppEnv>().use(requireToken("DASHBOARD_TOKEN")).get("/", async (c) => {
  const rows = await c.var.db.query(LIST);
  return c.json({
    projects: rows.map((r) => ({
      name: String(r.name),
      groupJid: String(r.group_jid),
      enabled: r.enabled === true,
      description: String(r.description),
    })),
  });
});
