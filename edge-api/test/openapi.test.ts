// The API describes itself: GET /openapi.json is a valid OpenAPI 3.1 document of exactly the routes the Worker
// serves, and GET /docs renders it under a strict CSP. (Live answers are checked against the document in every
// test, by the harness's call: openapi-check.ts.)
import { Validator } from "@seriousme/openapi-schema-validator";
import { PHOTO_MIMETYPES } from "@wa-monitor/shared";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { edgeHarness, type Edge } from "./harness.ts";
import { apiDocument, checkAnswer, operations } from "./openapi-check.ts";

let edge: Edge;
beforeAll(async () => {
  edge = await edgeHarness();
});

describe("GET /openapi.json", () => {
  it("is a valid OpenAPI 3.1 document, the one the tests check answers against", async () => {
    const r = await edge.call("GET", "/openapi.json");
    expect(r.status).toBe(200);
    const validator = new Validator();
    expect(await validator.validate(r.body)).toEqual({ valid: true });
    expect(validator.version).toBe("3.1");
    expect(r.body).toEqual(JSON.parse(JSON.stringify(apiDocument)));
  });

  it("describes every route the Worker serves, and no other", () => {
    // Hono lists each handler of a route (middleware, validators, the handler itself); "ALL" are app middleware.
    const served = new Set(createApp().routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`));
    expect([...served].sort()).toEqual(operations.map((op) => `${op.method} ${op.path}`).sort());
  });

  it("names a bearer scheme on every /v1 operation: the agent token for /v1/agent, the dashboard token for the rest", () => {
    expect(apiDocument.components.securitySchemes).toEqual({
      agentToken: expect.objectContaining({ type: "http", scheme: "bearer" }),
      dashboardToken: expect.objectContaining({ type: "http", scheme: "bearer" }),
    });
    for (const op of operations) {
      const expected = op.path.startsWith("/v1/agent/") ? [{ agentToken: [] }] : op.path.startsWith("/v1/") ? [{ dashboardToken: [] }] : undefined;
      expect([op.operationId, op.security]).toEqual([op.operationId, expected]);
    }
  });

  it("marks the old names deprecated: the bridges and outbox routes, and the bridge fields", () => {
    expect(operations.filter((op) => op.deprecated).map((op) => `${op.method} ${op.path}`).sort()).toEqual([
      "GET /v1/agent/outbox",
      "GET /v1/bridges",
      "POST /v1/agent/outbox/{id}/ack",
    ]);
    const schemas = apiDocument.components.schemas as Record<string, { properties: Record<string, { deprecated?: boolean }> }>;
    for (const name of ["DropSubmission", "FeedItem", "SubmissionView"]) {
      expect([name, schemas[name]!.properties.bridge!.deprecated, schemas[name]!.properties.session!.deprecated]).toEqual([name, true, undefined]);
    }
  });

  it("answers with the contract's response schemas, for every operation", () => {
    const ok = (method: string, path: string) => operations.find((op) => op.method === method && op.path === path)!.responses["200"]!.content!;
    expect(ok("PUT", "/v1/agent/projects")["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/ProjectsUpsertResponse" });
    expect(apiDocument.components.schemas.ProjectsUpsertResponse).toMatchObject({ required: ["upserted", "changed"] });
    expect(ok("GET", "/v1/projects")["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/ProjectsResponse" });
    expect(ok("GET", "/v1/sessions")["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/SessionsResponse" });
    expect(ok("GET", "/v1/bridges")["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/BridgesResponse" });
    // One media type per success, bar a photo's bytes: whichever of the image types the agent uploaded.
    const mediaTypes = (op: (typeof operations)[number]) => Object.keys(op.responses["200"]?.content ?? {});
    for (const op of operations.filter((op) => op.operationId !== "getPhoto")) expect([op.operationId, mediaTypes(op).length]).toEqual([op.operationId, 1]);
    expect(mediaTypes(operations.find((op) => op.operationId === "getPhoto")!)).toEqual([...PHOTO_MIMETYPES]);
  });

  it("lets a test see an answer that strays from the document", () => {
    expect(() => checkAnswer("PUT", "/v1/agent/projects", 200, "application/json", { upserted: 1, changed: 1 })).not.toThrow();
    expect(() => checkAnswer("PUT", "/v1/agent/projects", 200, "application/json", { upserted: 1 })).toThrow(/changed/);
    expect(() => checkAnswer("PUT", "/v1/agent/projects", 200, "application/json", { upserted: 1, changed: 1, more: 1 })).toThrow(/unevaluated/);
    expect(() => checkAnswer("GET", "/v1/drops?limit=5", 200, "application/json", { items: [{}], nextCursor: null })).toThrow(/schema refuses/);
    expect(() => checkAnswer("GET", "/v1/projects", 418, "application/json", {})).toThrow(/does not document/);
    expect(() => checkAnswer("GET", "/v1/projects", 401, "application/json", { error: { code: "not_found", message: "x" } })).toThrow(/schema refuses/);
    expect(() => checkAnswer("GET", "/v1/projects", 200, "text/html", "<p>")).toThrow(/does not document/);
  });
});

describe("GET /docs", () => {
  it("serves the reference page under the dashboard's strict CSP, loading only this origin's files", async () => {
    const r = await edge.call("GET", "/docs");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = r.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).not.toMatch(/unsafe|https?:|\*/);
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    const page = String(r.body);
    const urls = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(urls).toEqual(expect.arrayContaining(["/docs/swagger-ui/swagger-ui-bundle.js", "/docs/swagger-ui/swagger-ui.css", "/docs/reference.js"]));
    for (const u of urls) expect(u).toMatch(/^(\/|data:,$)/);
    expect(page).not.toMatch(/<script>|<script [^>]*>[^<]|<style|style=/); // nothing inline for the CSP to refuse
  });
});
