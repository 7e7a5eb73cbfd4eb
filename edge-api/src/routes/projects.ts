import { createRoute } from "@hono/zod-openapi";
import { ProjectsResponse } from "@wa-monitor/shared";
import { listProjects } from "../db/projects.ts";
import { dashboardToken, errors, json, routes, V1 } from "../http/openapi.ts";

const list = createRoute({
  method: "get",
  path: "/v1/projects",
  operationId: "listProjects",
  tags: ["dashboard"],
  summary: "Projects",
  description: "The projects the agents have pushed, one per WhatsApp group, by name.",
  ...dashboardToken,
  responses: { 200: json(ProjectsResponse, "The projects."), ...errors(...V1) },
});

export const projects = routes().openapi(list, async (c) => c.json({ projects: await listProjects(c.var.db) }, 200));
