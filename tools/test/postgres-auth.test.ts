// The embedded cluster logs loopback connections in with a cleartext password, as Neon's endpoint does, and the
// Worker pipelines its login; PG_AUTH=scram-sha-256 switches the same cluster to SCRAM at its next start, and the
// Worker, told so, waits for the server instead of pipelining a password it would refuse.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Env } from "../../edge-api/src/env.ts";
import { openDb } from "../../edge-api/src/db/client.ts";
import { loadConfig } from "../../edge-api/src/env.ts";
import { startNeonProxy, type NeonProxy } from "../neon-proxy.ts";
import { pgAuthFromEnv, serverAuthMethod, type PgAuth } from "../pg-auth.ts";
import { freePort } from "../ports.ts";
import { startEmbeddedPostgres, type PostgresHandle } from "../postgres.ts";
import { callWorker } from "../worker.ts";
import { query } from "./db.ts";
import { testPhotos } from "./photos.ts";
import { firstReply, sentBeforeFirstReply, wireRecorder } from "./wire.ts";

let dataDir: string;
let port: number;
let pg: PostgresHandle | undefined;
let proxy: NeonProxy | undefined;
let wire = wireRecorder();
let photos: Env["PHOTOS"];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "wam-pg-auth-"));
  await chmod(dataDir, 0o755); // as root, Postgres runs as the postgres user and must reach its folder
  port = await freePort();
  photos = (await testPhotos()).PHOTOS;
  proxy = await startNeonProxy({ target: { host: "127.0.0.1", port }, observe: (...a) => wire.observe(...a) });
});

afterAll(async () => {
  await proxy?.close();
  await pg?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const start = async (auth?: PgAuth) => {
  await pg?.stop();
  pg = await startEmbeddedPostgres({ dataDir, port, database: "postgres", flags: ["-c", "fsync=off"], ...(auth ? { auth } : {}) });
  wire = wireRecorder();
};

const workerEnv = (auth?: string): Env => ({
  PHOTOS: photos,
  DATABASE_URL: pg!.url,
  AGENT_TOKEN: "agent-auth-token-0123456789",
  DASHBOARD_TOKEN: "dashboard-auth-token-0123456789",
  NEON_LOCAL_PROXY: proxy!.address,
  HEALTH_PROBE_SECONDS: "0",
  ...(auth ? { NEON_LOCAL_AUTH: auth } : {}),
});

async function health(env: Env) {
  const res = await callWorker(new Request("http://edge.test/health"), env);
  return { status: res.status, body: await res.json() };
}

async function systemUser(env: Env): Promise<string> {
  const db = openDb(loadConfig(env));
  try {
    return String((await db.query("SELECT system_user"))[0]!.system_user);
  } finally {
    await db.end();
  }
}

describe("local Postgres authentication", () => {
  it("with PG_AUTH=scram-sha-256: SCRAM on loopback, and the Worker told so logs in without pipelining", async () => {
    await start("scram-sha-256");
    expect(await serverAuthMethod(pg!.url)).toBe("scram-sha-256");
    const env = workerEnv("scram-sha-256");
    expect(await health(env)).toEqual({ status: 200, body: { status: "ok", db: "ok" } });
    const [conn] = wire.connections();
    expect(sentBeforeFirstReply(conn!)).toEqual(["startup"]);
    expect(firstReply(conn!)).toEqual({ type: "R", auth: "SASL" });
    expect(await systemUser(env)).toBe("scram-sha-256:postgres");
  });

  it("with SCRAM, a Worker that pipelined its password would be refused (why NEON_LOCAL_AUTH exists)", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      expect((await health(workerEnv())).status).toBe(503);
    } finally {
      logged.mockRestore();
    }
  });

  it("by default, the same cluster switches at its next start: cleartext password, pipelined by the Worker", async () => {
    await start();
    expect(await serverAuthMethod(pg!.url)).toBe("password");
    const env = workerEnv();
    expect(await health(env)).toEqual({ status: 200, body: { status: "ok", db: "ok" } });
    const [conn] = wire.connections();
    expect(sentBeforeFirstReply(conn!)).toEqual(["startup", "p", "Q"]);
    expect(firstReply(conn!)).toEqual({ type: "R", auth: "cleartext password" });
    expect(await systemUser(env)).toBe("password:postgres");
  });

  it("switches a running cluster both ways on request (the benchmark's comparison)", async () => {
    await pg!.setAuth!("scram-sha-256");
    expect(await serverAuthMethod(pg!.url)).toBe("scram-sha-256");
    expect(await health(workerEnv("scram-sha-256"))).toMatchObject({ status: 200 });
    await pg!.setAuth!("password");
    expect(await serverAuthMethod(pg!.url)).toBe("password");
  });

  it("lets only loopback connect over TCP", async () => {
    const rules = await query(pg!.url, "SELECT type, address, auth_method FROM pg_hba_file_rules ORDER BY rule_number");
    expect(rules).toEqual([
      { type: "local", address: null, auth_method: "scram-sha-256" },
      { type: "host", address: "127.0.0.1", auth_method: "password" },
      { type: "host", address: "::1", auth_method: "password" },
    ]);
  });
});

describe("PG_AUTH", () => {
  it("is password unless set, and refuses anything but password or scram-sha-256", () => {
    expect(pgAuthFromEnv({})).toBe("password");
    expect(pgAuthFromEnv({ PG_AUTH: "scram-sha-256" })).toBe("scram-sha-256");
    expect(() => pgAuthFromEnv({ PG_AUTH: "md5" })).toThrow("PG_AUTH=md5: use password or scram-sha-256");
  });
});
