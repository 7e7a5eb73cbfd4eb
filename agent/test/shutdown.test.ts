// SIGTERM while the edge hangs: requests in flight are abandoned at the shutdown deadline, the agent exits 0
// within 10 s, and what they carried is still queued.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { EdgeError, edgeClient } from "../src/sync/edge-client.ts";
import { eventually, simulate, spawnAgent, tempDir } from "./helpers.ts";

let server: Server | undefined;
const children: { kill: (s: NodeJS.Signals) => void }[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

/** An edge that takes the project list and then accepts every request and never answers it. */
async function hangingEdge() {
  const seen: string[] = [];
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.method === "PUT" && req.url === "/v1/agent/projects") {
      req.resume();
      req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end('{"upserted":4}'));
    }
    // Anything else: read nothing, answer nothing.
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe("shutdown with a hanging edge", () => {
  it("exits 0 within 10 s of SIGTERM and keeps the undelivered drops pending", async () => {
    const edge = await hangingEdge();
    const dataDir = await tempDir();
    const agent = await spawnAgent({ edgeUrl: edge.url, dataDir });
    children.push(agent.child);
    await simulate(agent.adminUrl, [
      { session: "primary", text: "DR17171717", id: "HANG-1" },
      { session: "primary", text: "DR17171718", id: "HANG-2" },
    ]);
    // A delivery is in flight, and will never be answered.
    await eventually(async () => edge.seen, (s) => s.includes("POST /v1/agent/drops"));

    const t0 = Date.now();
    agent.child.kill("SIGTERM");
    const code = await agent.exited;
    expect({ code, withinTenSeconds: Date.now() - t0 < 10_000 }).toEqual({ code: 0, withinTenSeconds: true });

    // Checkpointed and closed: the WAL is empty, everything is in the main file.
    const wal = path.join(dataDir, "agent.sqlite-wal");
    expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);
    const db = new Database(path.join(dataDir, "agent.sqlite"), { readonly: true });
    const rows = db.prepare("SELECT drop_number, delivered_at, result FROM outbox ORDER BY drop_number").all();
    db.close();
    expect(rows).toEqual([
      { drop_number: "DR17171717", delivered_at: null, result: null },
      { drop_number: "DR17171718", delivered_at: null, result: null },
    ]);
  }, 60_000);

  it("gives each edge request its own timeout, and abandons them all when the shutdown signal fires", async () => {
    const edge = await hangingEdge();
    const timed = edgeClient(edge.url, "t".repeat(20), { timeoutMs: 200 });
    await expect(timed.heartbeat({ agent: "a", sessions: [] })).rejects.toThrow(new EdgeError(0, undefined, "edge unreachable: no answer within 200 ms"));
    const shutdown = new AbortController();
    const client = edgeClient(edge.url, "t".repeat(20), { signal: shutdown.signal });
    const inFlight = client.postDrops([]);
    await eventually(async () => edge.seen, (s) => s.includes("POST /v1/agent/drops"));
    shutdown.abort();
    await expect(inFlight).rejects.toThrow("edge request abandoned: the agent is shutting down");
    // And refuses new ones at once.
    await expect(client.claimFeedback(1)).rejects.toThrow("edge request abandoned");
  });
});
