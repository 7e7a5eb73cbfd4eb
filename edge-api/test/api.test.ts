import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { inject } from "vitest";
import { startNeonProxy, type NeonProxy } from "../../tools/neon-proxy.ts";
import { query, sqlClient } from "../../tools/test/db.ts";
import { AGENT_TOKEN, DASHBOARD_TOKEN, edgeHarness, LAWLEY, PROJECTS, submission, type CallOptions, type Edge } from "./harness.ts";
import { operations } from "./openapi-check.ts";
import { QA_STEPS } from "@wa-monitor/shared";

let edge: Edge;
// A JPEG no other test uploads, so the bucket (shared by this file's tests) holds it only if a request stored it.
const authTestJpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xfe, 0x00, 0x0b]), Buffer.from("auth-test"), Buffer.from([0xff, 0xd9])]);
const sha256Hex = (b: Buffer) => createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  edge = await edgeHarness();
  expect((await edge.agent("PUT", "/v1/agent/projects", { projects: PROJECTS })).status).toBe(200);
});

async function rowCounts() {
  const c = await sqlClient(edge.databaseUrl);
  try {
    const { rows } = await c.query(
      "SELECT (SELECT count(*) FROM drops)::int AS drops, (SELECT count(*) FROM submissions)::int AS submissions, (SELECT count(*) FROM projects)::int AS projects",
    );
    return rows[0];
  } finally {
    await c.end();
  }
}

function expectError(r: { status: number; body: any }, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body.error.code).toBe(code);
  expect(typeof r.body.error.message).toBe("string");
  expect(JSON.stringify(r.body)).not.toMatch(/at .*\.ts:\d+/); // no stack traces
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Neon proxy of this test's own, so the Postgres connections the Worker opens can be counted. */
function ownProxy(port?: number): Promise<NeonProxy> {
  const { host, port: pgPort } = inject("pg");
  return startNeonProxy({ target: { host, port: pgPort }, ...(port ? { port } : {}) });
}

/** Runs fn with the Worker's console.error lines captured instead of printed; returns the lines. */
async function capturingErrors(fn: () => Promise<unknown>): Promise<string[]> {
  const logged: string[] = [];
  const spy = vi.spyOn(console, "error").mockImplementation((line: unknown) => void logged.push(String(line)));
  try {
    await fn();
    return logged;
  } finally {
    spy.mockRestore();
  }
}

describe("health", () => {
  it("reports the database", async () => {
    const r = await edge.call("GET", "/health");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: "ok", db: "ok" });
  });

  it("says degraded with 503 when Postgres cannot be reached, and never echoes the driver's words", async () => {
    const broken = await edgeHarness({ DATABASE_URL: "postgres://postgres:x@127.0.0.1:1/none" });
    const logged = await capturingErrors(async () => {
      const r = await broken.call("GET", "/health");
      expect(r.status).toBe(503);
      expect(r.body).toEqual({ status: "degraded", db: "unavailable" });
      const ingest = await broken.agent("POST", "/v1/agent/drops", { submissions: [submission()] });
      expectError(ingest, 503, "db_unavailable");
      expect(ingest.body).toEqual({ error: { code: "db_unavailable", message: "the database is unavailable; retry later" } });
    });
    // What the client was spared is in the Worker's log.
    expect(logged.some((l) => JSON.parse(l).msg === "database unavailable" && JSON.parse(l).error)).toBe(true);
  });

  it("probes the database once for many concurrent hits, and not again within the interval", async () => {
    const proxy = await ownProxy();
    try {
      const own = await edgeHarness({ NEON_LOCAL_PROXY: proxy.address });
      const replies = await Promise.all(Array.from({ length: 20 }, () => own.call("GET", "/health")));
      expect(replies.map((r) => [r.status, r.body])).toEqual(Array(20).fill([200, { status: "ok", db: "ok" }]));
      expect(proxy.connections()).toBe(1);
      for (let i = 0; i < 10; i++) expect((await own.call("GET", "/health")).status).toBe(200);
      expect(proxy.connections()).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it("answers from the last probe until the interval passes: down gives 503, back up gives 200", async () => {
    let proxy = await ownProxy();
    const port = proxy.port;
    try {
      const own = await edgeHarness({ NEON_LOCAL_PROXY: proxy.address, HEALTH_PROBE_SECONDS: "1" });
      expect((await own.call("GET", "/health")).status).toBe(200);
      await proxy.close(); // the database is now unreachable
      expect((await own.call("GET", "/health")).status).toBe(200); // within the interval: the last answer
      await sleep(1100);
      await capturingErrors(async () => {
        const down = await own.call("GET", "/health");
        expect(down.status).toBe(503);
        expect(down.body).toEqual({ status: "degraded", db: "unavailable" });
      });
      proxy = await ownProxy(port); // back
      expect((await own.call("GET", "/health")).status).toBe(503); // the last probe failed
      await sleep(1100);
      expect((await own.call("GET", "/health")).body).toEqual({ status: "ok", db: "ok" });
      expect(proxy.connections()).toBe(1);
    } finally {
      await proxy.close();
    }
  });

  it("refuses to run on a misconfigured Worker without leaking secrets", async () => {
    const bad = await edgeHarness({ AGENT_TOKEN: "short" });
    const r = await bad.call("GET", "/health");
    expectError(r, 500, "misconfigured");
    expect(JSON.stringify(r.body)).not.toContain("short");
  });

  it("refuses to run without the PHOTOS bucket, naming the binding", async () => {
    const bad = await edgeHarness({ PHOTOS: undefined });
    const logged = await capturingErrors(async () => expectError(await bad.call("GET", "/health"), 500, "misconfigured"));
    expect(logged.join("\n")).toMatch(/PHOTOS: must be an R2 bucket binding/);
  });

  it("refuses an AGENT_TOKEN equal to the DASHBOARD_TOKEN, naming both fields and neither value", async () => {
    const same = "the-same-token-for-both-0123";
    const bad = await edgeHarness({ AGENT_TOKEN: same, DASHBOARD_TOKEN: same });
    const logged = await capturingErrors(async () => {
      for (const [path, token] of [["/health", null], ["/v1/drops", same], ["/v1/agent/feedback", same]] as const) {
        const r = await bad.call("GET", path, { token });
        expectError(r, 500, "misconfigured");
        expect(JSON.stringify(r.body)).not.toContain(same);
      }
    });
    expect(logged.length).toBeGreaterThan(0);
    expect(logged[0]).toMatch(/AGENT_TOKEN.*DASHBOARD_TOKEN/);
    expect(logged.join("\n")).not.toContain(same);
  });
});

describe("conflicts", () => {
  it("answers 409 without naming the constraint, and logs it", async () => {
    const own = await edgeHarness();
    await query(own.databaseUrl, "CREATE UNIQUE INDEX projects_secret_description_key ON projects (description)");
    const twins = PROJECTS.slice(0, 2).map((p) => ({ ...p, description: "same" }));
    const logged = await capturingErrors(async () => {
      const r = await own.agent("PUT", "/v1/agent/projects", { projects: twins });
      expectError(r, 409, "conflict");
      expect(r.body).toEqual({ error: { code: "conflict", message: "conflicts with existing data" } });
    });
    expect(logged.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({ msg: "conflict", constraint: "projects_secret_description_key" }),
    );
  });
});

describe("auth", () => {
  // Every operation of the document that names a bearer scheme, with the example request it documents.
  const TOKENS: Record<string, string> = { agentToken: AGENT_TOKEN, dashboardToken: DASHBOARD_TOKEN };
  const secured = operations.filter((op) => op.security?.length);

  it("covers every /v1 operation, and only those", () => {
    expect(secured.map((op) => op.path).every((p) => p.startsWith("/v1/"))).toBe(true);
    expect(operations.filter((op) => op.path.startsWith("/v1/")).length).toBe(secured.length);
  });

  for (const op of secured) {
    const [scheme, ...others] = op.security!.flatMap((s) => Object.keys(s));
    const param = (where: string, name: string) => op.parameters?.find((p) => p.in === where && p.name === name)?.schema?.example;
    // A raw body (a photo's bytes) is sent as a real file of its first type, under its own hash.
    const rawType = op.requestBody && !op.requestBody.content["application/json"] ? Object.keys(op.requestBody.content)[0] : undefined;
    const raw = rawType ? authTestJpeg : undefined;
    const pathValue = (name: string) => (raw && name === "sha256" ? sha256Hex(raw) : String(param("path", name)));
    const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => pathValue(name));
    const query = new URLSearchParams(
      (op.parameters ?? []).filter((p) => p.in === "query" && p.required).map((p) => [p.name, String(p.schema?.example)]),
    ).toString();
    const url = query ? `${path}?${query}` : path;
    const json = op.requestBody?.content["application/json"]?.example;
    const body: CallOptions = raw ? { rawBody: new Uint8Array(raw), headers: { "content-type": rawType! } } : { json };

    it(`${op.method} ${op.path} needs the ${scheme} token`, async () => {
      expect(others).toEqual([]);
      expect(Object.keys(TOKENS)).toContain(scheme);
      const before = await rowCounts();
      const wrong = scheme === "agentToken" ? DASHBOARD_TOKEN : AGENT_TOKEN;
      expectError(await edge.call(op.method, url, { ...body }), 401, "unauthorized");
      expectError(await edge.call(op.method, url, { ...body, token: wrong }), 401, "unauthorized");
      expectError(await edge.call(op.method, url, { ...body, token: "x".repeat(40) }), 401, "unauthorized");
      expectError(await edge.call(op.method, url, { ...body, headers: { ...body.headers, authorization: "Basic YWdlbnQ6eA==" } }), 401, "unauthorized");
      if (raw) expect(await edge.env.PHOTOS.head(`photos/${sha256Hex(raw)}`)).toBeNull();
      const ok = await edge.call(op.method, url, { ...body, token: TOKENS[scheme!] });
      expect([200, 404], JSON.stringify(ok.body)).toContain(ok.status);
      expect(ok.headers.get("content-type")).toMatch(/application\/json/);
      // Reads change nothing (handing out feedback claims it, but touches no drop, submission or project).
      if (op.method === "GET") expect(await rowCounts()).toEqual(before);
    });
  }
});

describe("settings", () => {
  it("gives the dashboard the Worker's time zone and the QA steps in order, with their labels", async () => {
    const own = await edgeHarness({ TIMEZONE: "Europe/London" });
    const r = await own.dash("GET", "/v1/settings");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ timeZone: "Europe/London", qaSteps: QA_STEPS.map(({ key, label }) => ({ key, label })) });
    expect(r.body.qaSteps[0]).toEqual({ key: "house_photo", label: "House photo" });
    expect(r.body.qaSteps).toHaveLength(12);
  });
});

describe("bad input changes nothing", () => {
  it("rejects invalid submissions with zod details", async () => {
    const before = await rowCounts();
    const r = await edge.agent("POST", "/v1/agent/drops", {
      submissions: [submission(), submission({ dropNumber: "dr 1", sentAt: "yesterday" })],
    });
    expectError(r, 400, "invalid_request");
    const paths = r.body.error.details.map((i: { path: unknown[] }) => i.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["submissions.1.dropNumber", "submissions.1.sentAt"]));
    expect(await rowCounts()).toEqual(before);
  });

  it("refuses values Postgres cannot store: NUL characters, far-off times and dates", async () => {
    const before = await rowCounts();
    for (const bad of [
      submission({ text: "DR12345678\u0000 done" }),
      submission({ senderName: "Th\u0000abo" }),
      submission({ sentAt: "2026-11-24T10:00:00+16:00" }),
      submission({ sentAt: "0001-01-01T00:00:00Z" }),
    ]) {
      expectError(await edge.agent("POST", "/v1/agent/drops", { submissions: [bad] }), 400, "invalid_request");
    }
    expectError(await edge.dash("GET", "/v1/drops?date=0000-01-01"), 400, "invalid_request");
    expectError(await edge.dash("GET", "/v1/stats/daily?from=0000-01-01&to=0000-01-02"), 400, "invalid_request");
    const dupSessions = { agent: "vps", sessions: [1, 2].map(() => ({ name: "primary", role: "capture", state: "open", phone: null, lastEventAt: null })) };
    expectError(await edge.agent("POST", "/v1/agent/heartbeat", dupSessions), 400, "invalid_request");
    expect(await rowCounts()).toEqual(before);
  });

  it("rejects empty and oversized batches", async () => {
    expectError(await edge.agent("POST", "/v1/agent/drops", { submissions: [] }), 400, "invalid_request");
    const many = Array.from({ length: 501 }, (_, i) => submission({ messageId: `m${i}` }));
    expectError(await edge.agent("POST", "/v1/agent/drops", { submissions: many }), 400, "invalid_request");
  });

  it("rejects malformed JSON", async () => {
    const r = await edge.call("POST", "/v1/agent/drops", {
      token: AGENT_TOKEN,
      rawBody: '{"submissions": [',
      headers: { "content-type": "application/json" },
    });
    expectError(r, 400, "invalid_json");
  });

  it("rejects a body that is not JSON at all", async () => {
    const r = await edge.call("POST", "/v1/agent/drops", { token: AGENT_TOKEN, rawBody: "DR12345678", headers: { "content-type": "text/plain" } });
    expectError(r, 400, "invalid_request");
  });

  it("rejects bodies over 1 MiB with 413", async () => {
    const before = await rowCounts();
    const huge = JSON.stringify({ submissions: [submission({ text: "x".repeat(1024 * 1024 + 10) })] });
    const r = await edge.call("POST", "/v1/agent/drops", {
      token: AGENT_TOKEN,
      rawBody: huge,
      headers: { "content-type": "application/json" },
    });
    expectError(r, 413, "payload_too_large");
    expect(await rowCounts()).toEqual(before);
  });

  it("rejects duplicate projects in one payload", async () => {
    const dup = { projects: [PROJECTS[0], { ...PROJECTS[1], name: PROJECTS[0]!.name }] };
    expectError(await edge.agent("PUT", "/v1/agent/projects", dup), 400, "invalid_request");
  });

  it("answers unknown routes and drops with JSON 404", async () => {
    expectError(await edge.call("GET", "/nope"), 404, "not_found");
    expectError(await edge.dash("GET", "/v1/drops/DR99999999"), 404, "not_found");
    expectError(await edge.dash("GET", "/v1/drops/not-a-drop"), 400, "invalid_request");
  });

  it("rejects bad feed and stats queries", async () => {
    expectError(await edge.dash("GET", "/v1/drops?status=done"), 400, "invalid_request");
    expectError(await edge.dash("GET", "/v1/drops?limit=0"), 400, "invalid_request");
    expectError(await edge.dash("GET", "/v1/drops?date=2026-13-01"), 400, "invalid_request");
    expectError(await edge.dash("GET", "/v1/drops?cursor=garbage"), 400, "invalid_request");
    expectError(await edge.dash("GET", "/v1/stats/daily?from=2026-11-30&to=2026-11-01"), 400, "invalid_request");
    expectError(await edge.dash("GET", "/v1/stats/daily?from=2024-01-01&to=2026-11-01"), 400, "invalid_request");
    expectError(await edge.dash("GET", "/v1/stats/daily"), 400, "invalid_request");
  });
});

describe("projects", () => {
  it("accepts a group recreated under an existing project name", async () => {
    const recreated = { name: PROJECTS[0]!.name, groupJid: "120363499999999999@g.us", enabled: true, description: "new group" };
    expect((await edge.agent("PUT", "/v1/agent/projects", { projects: [recreated] })).status).toBe(200);
    const c = await sqlClient(edge.databaseUrl);
    const { rows } = await c.query("SELECT group_jid FROM projects WHERE name = $1 ORDER BY id", [PROJECTS[0]!.name]);
    await c.end();
    expect(rows.map((r) => r.group_jid)).toEqual([PROJECTS[0]!.groupJid, "120363499999999999@g.us"]);
  });

  it("upserts by group JID, so a rename keeps the project", async () => {
    const renamed = { ...PROJECTS[3]!, name: "Mamelodi East", enabled: false };
    const r = await edge.agent("PUT", "/v1/agent/projects", { projects: [renamed] });
    expect(r.status).toBe(200);
    const c = await sqlClient(edge.databaseUrl);
    const { rows } = await c.query("SELECT name, enabled FROM projects WHERE group_jid = $1", [renamed.groupJid]);
    await c.end();
    expect(rows).toEqual([{ name: "Mamelodi East", enabled: false }]);
    await edge.agent("PUT", "/v1/agent/projects", { projects: [PROJECTS[3]] });
  });
});
