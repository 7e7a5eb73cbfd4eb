// How the Worker connects to Postgres locally: as on Neon, startup + cleartext password + first query in one
// round trip (tools/pg-auth.ts), watched on the wire between the driver and the test cluster — or, when the run
// was started with PG_AUTH=scram-sha-256, a SCRAM login the driver waits for. Plus the bindings that go with it.
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { openDb } from "../src/db/client.ts";
import { loadConfig } from "../src/env.ts";
import { startNeonProxy, type NeonProxy } from "../../tools/neon-proxy.ts";
import { firstReply, sentBeforeFirstReply, wireRecorder } from "../../tools/test/wire.ts";
import { edgeHarness, PROJECTS } from "./harness.ts";

const { host, port, auth } = inject("pg");

let proxy: NeonProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

async function watchedProxy() {
  const wire = wireRecorder();
  proxy = await startNeonProxy({ target: { host, port }, observe: wire.observe });
  return { proxy, wire };
}

describe("the Worker's database connection", () => {
  const pipelined = auth === "password";

  it(
    pipelined
      ? "sends startup, a cleartext password and the first query before the server answers, and the server asked for exactly that"
      : "waits for the server's SCRAM request before logging in (PG_AUTH=scram-sha-256)",
    async () => {
      const { proxy, wire } = await watchedProxy();
      const edge = await edgeHarness({ NEON_LOCAL_PROXY: proxy.address });
      expect(await edge.call("GET", "/health")).toMatchObject({ status: 200, body: { status: "ok", db: "ok" } });
      const [conn, ...more] = wire.connections();
      expect(more).toEqual([]);
      if (pipelined) {
        expect(sentBeforeFirstReply(conn!)).toEqual(["startup", "p", "Q"]);
        expect(firstReply(conn!)).toEqual({ type: "R", auth: "cleartext password" });
      } else {
        expect(sentBeforeFirstReply(conn!)).toEqual(["startup"]);
        expect(firstReply(conn!)).toEqual({ type: "R", auth: "SASL" });
      }
    },
  );

  it("is authenticated by the server with the method the run asked for (system_user)", async () => {
    const edge = await edgeHarness();
    const db = openDb(loadConfig(edge.env));
    try {
      const [row] = await db.query<{ system_user: string }>("SELECT system_user");
      expect(row!.system_user).toBe(`${auth}:postgres`);
    } finally {
      await db.end();
    }
  });

  it(`${pipelined ? "pipelines" : "does not pipeline"} a query with parameters either (the feed), and serves it`, async () => {
    const { proxy, wire } = await watchedProxy();
    const edge = await edgeHarness({ NEON_LOCAL_PROXY: proxy.address });
    expect((await edge.dash("GET", "/v1/drops?limit=5&status=new")).status).toBe(200);
    const sent = sentBeforeFirstReply(wire.connections()[0]!);
    if (pipelined) expect(sent.slice(0, 3)).toEqual(["startup", "p", "P"]);
    else expect(sent).toEqual(["startup"]);
  });
});

describe("a login the server refuses", () => {
  // A pipelined login is accepted by the driver before the server has answered; the refusal comes later, as an
  // error on a connection the request already holds.
  it.each([
    ["a wrong password", (url: string) => url.replace(/\/\/([^:]+):[^@]*@/, "//$1:wrong-password@")],
    ["a proxy that hangs up", () => "postgres://postgres:x@127.0.0.1:1/none"],
  ])("(%s) fails the request with a JSON error, never an uncaught exception", async (_what, url) => {
    const uncaught: unknown[] = [];
    const record = (e: unknown) => void uncaught.push(e);
    process.on("uncaughtException", record);
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const base = await edgeHarness();
      const edge = await edgeHarness({ DATABASE_URL: url(base.databaseUrl) });
      const sub = { messageId: "3EB0REFUSED", chatJid: PROJECTS[0]!.groupJid, dropNumber: "DR10000001", session: "primary",
        senderJid: "27821234567@s.whatsapp.net", text: "DR10000001", sentAt: "2026-11-24T08:15:00.000Z" };
      const tx = await edge.agent("POST", "/v1/agent/drops", { submissions: [sub] }); // a transaction
      const read = await edge.dash("GET", "/v1/drops"); // a plain query
      for (const r of [tx, read]) {
        expect(r.status).toBeGreaterThanOrEqual(500);
        expect(typeof r.body.error.code).toBe("string");
      }
      await new Promise((r) => setTimeout(r, 200)); // the socket's close arrives after the answer
      expect(uncaught).toEqual([]);
    } finally {
      process.off("uncaughtException", record);
      logged.mockRestore();
    }
  });
});

describe("local-only bindings", () => {
  it("probes the database on every GET /health with HEALTH_PROBE_SECONDS=0 (for the benchmark)", async () => {
    const { proxy } = await watchedProxy();
    const edge = await edgeHarness({ NEON_LOCAL_PROXY: proxy.address, HEALTH_PROBE_SECONDS: "0" });
    for (let i = 0; i < 3; i++) expect((await edge.call("GET", "/health")).status).toBe(200);
    expect(proxy.connections()).toBe(3);
  });

  it.each([
    ["HEALTH_PROBE_SECONDS", { HEALTH_PROBE_SECONDS: "0" }],
    ["NEON_LOCAL_AUTH", { NEON_LOCAL_AUTH: "password" }],
  ])("refuses %s meant for the local stack on a Worker without NEON_LOCAL_PROXY", async (field, vars) => {
    const edge = await edgeHarness({ NEON_LOCAL_PROXY: undefined, ...vars });
    expect(() => loadConfig(edge.env)).toThrow(new RegExp(`${field}: .*NEON_LOCAL_PROXY`));
    const r = await edge.call("GET", "/health");
    expect(r.status).toBe(500);
    expect(r.body.error.code).toBe("misconfigured");
  });

  it("refuses an auth method the driver does not know", async () => {
    const edge = await edgeHarness({ NEON_LOCAL_AUTH: "kerberos" });
    expect(() => loadConfig(edge.env)).toThrow(/NEON_LOCAL_AUTH/);
  });
});
