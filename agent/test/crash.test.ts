// The agent as a real child process: killed with SIGKILL in the middle of a delivery, restarted on the same
// data directory — nothing lost, nothing doubled. And a clean SIGTERM, and an online backup.
import { existsSync } from "node:fs";
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, simulate, spawnAgent, startEdgeServer, tempDir, type EdgeServer } from "./helpers.ts";

const run = promisify(execFile);
let edge: EdgeServer | undefined;
const children: { kill: (s: NodeJS.Signals) => void }[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  await edge?.stop();
});

describe("agent process", () => {
  it("loses and doubles nothing when SIGKILLed mid-delivery", async () => {
    edge = await startEdgeServer();
    const dataDir = await tempDir();
    const first = await spawnAgent({ edgeUrl: edge.url, dataDir });
    children.push(first.child);
    await eventually(() => edge!.query("SELECT 1 FROM projects"), (r) => r.length === 4);

    // Hold the answer to the first drops batch after the edge has committed it: the agent dies not knowing.
    let committed!: () => void;
    const firstBatchCommitted = new Promise<void>((r) => (committed = r));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    edge.afterHandle = async (req) => {
      if (new URL(req.url).pathname !== "/v1/agent/drops") return;
      edge!.afterHandle = undefined;
      committed();
      await held;
    };

    const total = 1200;
    const messages = Array.from({ length: total }, (_, i) => ({ session: "primary", text: `DR${40_000_000 + i}`, id: `KILL-${i}` }));
    for (let i = 0; i < total; i += 600) expect((await simulate(first.adminUrl, messages.slice(i, i + 600))).status).toBe(200);
    await firstBatchCommitted;
    first.child.kill("SIGKILL");
    await first.exited;
    release();
    const deliveredBeforeKill = (await edge.query("SELECT count(*)::int AS n FROM submissions"))[0].n;
    expect(deliveredBeforeKill).toBeGreaterThan(0);
    expect(deliveredBeforeKill).toBeLessThan(total);

    const second = await spawnAgent({ edgeUrl: edge.url, dataDir });
    children.push(second.child);
    await eventually(
      () => fetch(`${second.adminUrl}/health`).then((r) => r.json() as Promise<any>),
      (h) => h.outbox.pending === 0,
      30_000,
    );
    const counts = (await edge.query(
      "SELECT (SELECT count(*) FROM drops)::int AS drops, (SELECT count(*) FROM submissions)::int AS subs, (SELECT count(*) FROM drops WHERE status = 'new')::int AS fresh",
    ))[0];
    expect(counts).toEqual({ drops: total, subs: total, fresh: total });
    second.child.kill("SIGTERM");
    await second.exited;

    const db = new Database(path.join(dataDir, "agent.sqlite"), { readonly: true });
    const local = db.prepare("SELECT result, count(*) AS n FROM outbox GROUP BY result ORDER BY result").all();
    db.close();
    // The batch whose answer was lost was sent again and recognised as duplicates; every row is accounted for.
    expect(local).toEqual([
      { result: "duplicate", n: deliveredBeforeKill },
      { result: "new", n: total - deliveredBeforeKill },
    ]);
  }, 90_000);

  it("exits cleanly on SIGTERM, checkpointing its store", async () => {
    edge = await startEdgeServer();
    const dataDir = await tempDir();
    const agent = await spawnAgent({ edgeUrl: edge.url, dataDir });
    children.push(agent.child);
    await simulate(agent.adminUrl, [{ session: "primary", text: "DR12345678", id: "T1" }]);
    const t0 = Date.now();
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    // A checkpointed WAL is empty: everything is in the main file.
    const wal = path.join(dataDir, "agent.sqlite-wal");
    expect(!existsSync(wal) || (await import("node:fs")).statSync(wal).size === 0).toBe(true);
  }, 60_000);

  it("backs up the live store with `agent backup`", async () => {
    edge = await startEdgeServer();
    const dataDir = await tempDir();
    const agent = await spawnAgent({ edgeUrl: edge.url, dataDir });
    children.push(agent.child);
    await simulate(agent.adminUrl, [{ session: "primary", text: "DR12345678", id: "B1" }]);
    const target = path.join(await tempDir(), "backup.sqlite");
    const main = path.resolve(import.meta.dirname, "../src/main.ts");
    const out = await run(process.execPath, [main, "backup", target], { env: { ...process.env, DATA_DIR: dataDir } });
    expect(out.stdout).toContain("backed up");
    const copy = new Database(target, { readonly: true });
    expect(copy.prepare("SELECT message_id FROM messages").all()).toEqual([{ message_id: "B1" }]);
    expect(copy.prepare("SELECT count(*) AS n FROM outbox").get()).toEqual({ n: 1 });
    copy.close();
  }, 60_000);
});
