// The same Worker, this time inside workerd under `wrangler dev`, reaching Postgres through the proxy.
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import { fireCron, startEdgeDev, type EdgeDev } from "../../tools/edge-dev.ts";
import { startLocalR2 } from "../../tools/r2.ts";
import { startNeonProxy, type NeonProxy } from "../../tools/neon-proxy.ts";
import { freshDatabase } from "../../tools/test/db.ts";
import { freePort } from "../../tools/ports.ts";
import { firstReply, sentBeforeFirstReply, wireRecorder } from "../../tools/test/wire.ts";
import { AGENT_TOKEN, DASHBOARD_TOKEN, PROJECTS, submission } from "./harness.ts";
import { apiDocument } from "./openapi-check.ts";
import { launchChromium } from "../../tools/browser.ts";

let edge: EdgeDev;
let stateDir: string;
let proxy: NeonProxy;
const output: string[] = [];
const wire = wireRecorder();

beforeAll(async () => {
  const dir = (stateDir = await mkdtemp(path.join(tmpdir(), "wam-workerd-")));
  // A proxy of this file's own, so the Postgres connections workerd opens can be counted.
  proxy = await startNeonProxy({ target: { host: inject("pg").host, port: inject("pg").port }, observe: wire.observe });
  edge = await startEdgeDev({
    port: await freePort(),
    envFile: path.join(dir, "edge.env"),
    stateDir: dir,
    log: (l) => output.push(l),
    vars: {
      DATABASE_URL: await freshDatabase(),
      AGENT_TOKEN,
      DASHBOARD_TOKEN,
      NEON_LOCAL_PROXY: proxy.address,
      NEON_LOCAL_AUTH: inject("pg").auth,
      HEALTH_PROBE_SECONDS: "1",
    },
  });
}, 90_000);

afterAll(async () => {
  await edge?.stop();
  await proxy?.close();
});

const call = async (method: string, p: string, token?: string, json?: unknown) => {
  const res = await fetch(edge.url + p, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(json ? { "content-type": "application/json" } : {}) },
    body: json ? JSON.stringify(json) : null,
  });
  return { status: res.status, body: (await res.json()) as any };
};

describe("edge under wrangler dev (workerd)", () => {
  it("serves health with the database probed", async () => {
    expect(await call("GET", "/health")).toEqual({ status: 200, body: { status: "ok", db: "ok" } });
  });

  it("shares one database probe between concurrent health checks across requests", async () => {
    await new Promise((r) => setTimeout(r, 1100)); // the last probe is now older than HEALTH_PROBE_SECONDS
    const before = proxy.connections();
    const replies = await Promise.all(Array.from({ length: 20 }, () => call("GET", "/health")));
    expect(replies).toEqual(Array(20).fill({ status: 200, body: { status: "ok", db: "ok" } }));
    expect(proxy.connections() - before).toBe(1);
  });

  it("logs in to Postgres as on Neon: startup, cleartext password and first query before any reply", async () => {
    await call("GET", "/health");
    const conn = wire.connections()[0]!;
    if (inject("pg").auth === "password") {
      expect(sentBeforeFirstReply(conn)).toEqual(["startup", "p", "Q"]);
      expect(firstReply(conn)).toEqual({ type: "R", auth: "cleartext password" });
    } else {
      expect(sentBeforeFirstReply(conn)).toEqual(["startup"]); // PG_AUTH=scram-sha-256: the driver waits
    }
  });

  it("ingests, dedupes and lists drops", async () => {
    expect((await call("PUT", "/v1/agent/projects", AGENT_TOKEN, { projects: PROJECTS })).status).toBe(200);
    const msg = submission({ dropNumber: "DR42424242", messageId: "wd-1" });
    const first = await call("POST", "/v1/agent/drops", AGENT_TOKEN, { submissions: [msg] });
    expect(first.body.results.map((r: any) => r.status)).toEqual(["new"]);
    const again = await call("POST", "/v1/agent/drops", AGENT_TOKEN, { submissions: [{ ...msg, session: "backup" }] });
    expect(again.body.results.map((r: any) => r.status)).toEqual(["duplicate"]);
    const feed = await call("GET", "/v1/drops", DASHBOARD_TOKEN);
    expect(feed.status).toBe(200);
    expect(feed.body.items.map((i: any) => [i.dropNumber, i.session])).toEqual([["DR42424242", "primary"]]);
  });

  it("keeps a photo's exact bytes in its local R2 bucket (PHOTOS), persisted under its state directory", async () => {
    const photo = randomBytes(200_000);
    photo.set([0xff, 0xd8, 0xff], 0);
    const sha = createHash("sha256").update(photo).digest("hex");
    const res = await fetch(`${edge.url}/v1/agent/photos/blobs/${sha}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${AGENT_TOKEN}`, "content-type": "image/jpeg" },
      body: photo,
    });
    expect([res.status, await res.json()]).toEqual([200, { sha256: sha, bytes: photo.length, stored: true }]);
    expect(await call("GET", `/v1/agent/photos/blobs/${sha}`, AGENT_TOKEN)).toEqual({ status: 200, body: { sha256: sha, bytes: photo.length, mimetype: "image/jpeg" } });
    // The object wrangler dev wrote, read back through another local binding on the same directory.
    const r2 = await startLocalR2(path.join(stateDir, "v3"));
    try {
      const obj = await r2.PHOTOS.get(`photos/${sha}`);
      expect(Buffer.from(await obj!.arrayBuffer()).equals(photo)).toBe(true);
    } finally {
      await r2.dispose();
    }
  });

  it("serves the OpenAPI document it is built from", async () => {
    const r = await call("GET", "/openapi.json");
    expect(r.status).toBe(200);
    expect(r.body).toEqual(JSON.parse(JSON.stringify(apiDocument)));
  });

  it("renders the API reference in a browser from its own files only, under its CSP", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on("console", (m) => m.type() === "error" && problems.push(m.text())); // CSP refusals land here
      page.on("pageerror", (e) => problems.push(e.message));
      page.on("request", (r) => !r.url().startsWith(edge.url) && !r.url().startsWith("data:") && problems.push(`request to ${r.url()}`));
      const res = await page.goto(edge.url + "/docs");
      expect(res!.headers()["content-security-policy"]).toContain("default-src 'none'");
      await page.waitForSelector(".opblock");
      const operations = await page.$$eval(".opblock-summary-path", (els) => els.map((e) => e.textContent!.replace(/\u200b/g, "")));
      expect(operations).toEqual(expect.arrayContaining(["/v1/agent/feedback", "/v1/sessions", "/v1/settings", "/openapi.json"]));
      expect(await page.textContent(".info .title")).toContain("wa-monitor edge API");
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);

  it("answers errors as JSON", async () => {
    const r = await call("POST", "/v1/agent/drops", "wrong-token-wrong-token", { submissions: [] });
    expect(r).toMatchObject({ status: 401, body: { error: { code: "unauthorized" } } });
  });

  it("runs the scheduled handler from the cron route", async () => {
    expect(await fireCron(edge.url)).toBe(200);
  });
});
