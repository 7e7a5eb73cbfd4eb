// What every route definition is built from, so the OpenAPI document and the Worker's behaviour come from one
// place: responses from the shared contract's schemas, error answers from ErrorBody and ERROR_STATUS, and each
// bearer scheme together with the middleware that enforces it.
import { zodToOpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import { OpenAPIHono, type Hook } from "@hono/zod-openapi";
import * as contract from "@wa-monitor/shared";
import { ERROR_STATUS, ErrorBody, ErrorCode } from "@wa-monitor/shared";
import { z, type ZodType } from "zod";
import type { AppEnv } from "../context.ts";
import { ApiError } from "../errors.ts";
import { requireToken } from "./auth.ts";

// The contract's schemas become named components, each under its export name: the name is attached here, in
// the generator's own registry, so the contract stays plain zod. Query schemas stay inline, spread into
// parameters; so do plain strings (DropNumber, IsoTimestamp…), which the generator cannot reference as nullable
// (it would emit `allOf: [{$ref}, {type: [string, null]}]`, which no null satisfies).
for (const [name, schema] of Object.entries(contract)) {
  if (schema instanceof z.ZodType && schema.def.type !== "string" && !name.endsWith("Query")) {
    zodToOpenAPIRegistry.add(schema, { _internal: { refId: name } });
  }
}

/** Bad input is a 400 with zod's issues as details, whichever part of the request it was in. */
const rejectInvalid: Hook<unknown, AppEnv, string, void> = (result) => {
  if (!result.success) throw new ApiError("invalid_request", `invalid ${result.target}`, result.error.issues);
};

/** A group of routes, validating with rejectInvalid. */
export const routes = () => new OpenAPIHono<AppEnv>({ defaultHook: rejectInvalid });

export const SECURITY_SCHEMES = {
  agentToken: { type: "http", scheme: "bearer", description: "`AGENT_TOKEN`: the agents' routes (`/v1/agent/…`)." },
  dashboardToken: { type: "http", scheme: "bearer", description: "`DASHBOARD_TOKEN`: the dashboard's routes." },
} as const;

// The declared security and the middleware enforcing it travel together, so the document cannot claim a token the
// route does not check.
export const agentToken = { security: [{ agentToken: [] }], middleware: requireToken("AGENT_TOKEN") };
export const dashboardToken = { security: [{ dashboardToken: [] }], middleware: requireToken("DASHBOARD_TOKEN") };

export const json = <S extends ZodType>(schema: S, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

/** A required JSON body, with the example the reference shows (and the auth tests send). */
export const jsonBody = <S extends ZodType>(schema: S, example: z.input<S>) => ({
  required: true,
  content: { "application/json": { schema, example } },
});

type ErrorStatusOf<C extends ErrorCode> = (typeof ERROR_STATUS)[C];
type ErrorResponses<C extends ErrorCode> = {
  [S in ErrorStatusOf<C>]: { description: string; content: { "application/json": { schema: typeof ErrorBody } } };
};

/** Every request reads the Worker's configuration, and any request can meet a bug. */
const ANY_ROUTE = ["misconfigured", "internal"] as const satisfies ErrorCode[];
/** A `/v1` route: a bearer token, and Postgres behind it. */
export const V1 = [...ANY_ROUTE, "unauthorized", "db_unavailable"] as const satisfies ErrorCode[];
/** A route that reads a JSON body. */
export const BODY = ["invalid_request", "invalid_json", "payload_too_large"] as const satisfies ErrorCode[];

/** The error answers a route can give, one response per status, each listing the codes it can carry there. */
export function errors<const C extends ErrorCode = never>(...codes: C[]): ErrorResponses<C | (typeof ANY_ROUTE)[number]> {
  const all = [...new Set([...ANY_ROUTE, ...codes])];
  const out: Record<number, unknown> = {};
  for (const status of new Set(all.map((c) => ERROR_STATUS[c]))) {
    const here = all.filter((c) => ERROR_STATUS[c] === status);
    const schema = ErrorBody.extend({ error: ErrorBody.shape.error.extend({ code: ErrorCode.extract(here) }) });
    out[status] = { description: here.map((c) => `\`${c}\``).join(", "), content: { "application/json": { schema } } };
  }
  return out as ErrorResponses<C | (typeof ANY_ROUTE)[number]>;
}

/** The document's top: served at /openapi.json and rendered at /docs. */
export const DOCUMENT = {
  openapi: "3.1.0",
  info: {
    title: "wa-monitor edge API",
    version: "1",
    description:
      "Drops from the fibre teams' WhatsApp groups, their QA review, and the feedback that goes back to the groups. " +
      "Errors are `{\"error\":{code,message,details?}}`; bad input never changes stored data.",
  },
  tags: [
    { name: "agent", description: "Called by the WhatsApp agents with `AGENT_TOKEN`." },
    { name: "dashboard", description: "Called by the QA dashboard with `DASHBOARD_TOKEN`." },
    { name: "service", description: "Public: health, the dashboard page, this document and its reference." },
  ],
};
