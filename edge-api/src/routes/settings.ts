import { createRoute } from "@hono/zod-openapi";
import { QA_STEPS, SettingsResponse } from "@wa-monitor/shared";
import { dashboardToken, errors, json, routes } from "../http/openapi.ts";

const read = createRoute({
  method: "get",
  path: "/v1/settings",
  operationId: "getSettings",
  tags: ["dashboard"],
  summary: "The dashboard's settings",
  description: "The time zone of the teams' calendar days and the QA steps, in order, with their labels.",
  ...dashboardToken,
  responses: { 200: json(SettingsResponse, "The settings."), ...errors("unauthorized") },
});

export const settings = routes().openapi(read, (c) =>
  c.json({ timeZone: c.var.config.TIMEZONE, qaSteps: QA_STEPS.map(({ key, label }) => ({ key, label })) }, 200),
);
