// One real Postgres cluster and one Neon proxy for the whole test run. Migrations are applied once to a
// template database; every test file clones its own database from it (tools/test/db.ts).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { migrate } from "../migrate.ts";
import { startNeonProxy } from "../neon-proxy.ts";
import { pgAuthFromEnv, type PgAuth } from "../pg-auth.ts";
import { freePort } from "../ports.ts";
import { startEmbeddedPostgres } from "../postgres.ts";
import { TEMPLATE_DB } from "./db.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** auth: how the cluster logs in loopback connections (PG_AUTH; `password`, as Neon, unless set). */
    pg: { adminUrl: string; host: string; port: number; proxy: string; auth: PgAuth };
  }
}

export default async function setup(project: TestProject) {
  const dir = await mkdtemp(path.join(tmpdir(), "wam-test-pg-"));
  const port = await freePort();
  const auth = pgAuthFromEnv();
  // Durability is irrelevant for throwaway test data; locks, constraints and SKIP LOCKED behave as in production.
  const pg = await startEmbeddedPostgres({
    dataDir: dir,
    port,
    database: TEMPLATE_DB,
    auth,
    flags: ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=300"],
  });
  await migrate(pg.url);
  const adminUrl = pg.url.replace(/\/[^/]+$/, "/postgres");
  const proxy = await startNeonProxy({ target: { host: "127.0.0.1", port } });
  project.provide("pg", { adminUrl, host: "127.0.0.1", port, proxy: proxy.address, auth });
  return async () => {
    await proxy.close();
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
